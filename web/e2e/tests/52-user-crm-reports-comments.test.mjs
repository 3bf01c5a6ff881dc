// User CRM (seed 003) screens beyond the panel: every information tab the admin may read, the Accounts,
// Allocations (active / inactive, the fund's page) and Statement reports (kind filter, CSV export), and the
// Comments report across tickets — search, view (opens the ticket), delete with confirmation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, eventually, openUser, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

const TABS = ["General", "Personal details", "Financial status", "Financial experience", "Banking", "Compliance", "Logs"];
const noError = async () => assert.equal(await page.locator(".ant-tabs-tabpane-active .ant-alert-error").count(), 0);

test("the information tabs and the Accounts, Allocations and Statement reports", async () => {
  await signIn(page, "admin");
  await openUser(page);
  await page.getByRole("tab", { name: "Information" }).click();
  for (const name of TABS) {
    await page.getByRole("tab", { name, exact: true }).click();
    await page.waitForLoadState("networkidle").catch(() => undefined);
    await eventually(async () => (await page.locator(".ant-tabs-tabpane-active .ant-tabs-tabpane-active .ant-spin-spinning").count()) === 0,
      { message: `${name} loaded` });
    await noError();
  }

  await page.getByRole("tab", { name: "Accounts", exact: true }).click();
  await page.getByRole("searchbox", { name: "Search accounts" }).waitFor();
  await noError();

  await page.getByRole("tab", { name: "Allocations", exact: true }).click();
  await page.getByText("Inactive (history)", { exact: true }).click();
  await page.waitForLoadState("networkidle").catch(() => undefined);
  await noError();
  await page.getByText("Active", { exact: true }).first().click();
  const fund = page.locator("[data-testid^=view-fund-]").first();
  if (await fund.count()) { // the demo customer may not have allocated yet
    await fund.click();
    const dialog = page.getByRole("dialog", { name: "Fund" });
    await dialog.getByTestId("fund-page").waitFor();
    await dialog.getByTestId("fund-allocations").waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();
  }

  await page.getByRole("tab", { name: "Statement", exact: true }).click();
  const table = page.getByTestId("statement-table");
  await table.waitFor();
  await page.getByRole("combobox", { name: "Type" }).click();
  await page.locator(".ant-select-dropdown:visible .ant-select-item-option").filter({ hasText: "Deposit" }).first().click();
  await page.keyboard.press("Escape");
  await page.waitForLoadState("networkidle").catch(() => undefined);
  const kinds = await table.locator("tbody tr[data-row-key] .ant-tag").allInnerTexts();
  assert.ok(kinds.every((k) => k === "Deposit"), `only deposits after the filter: ${kinds.join(", ")}`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
  const csv = await (await download.createReadStream()).toArray();
  const header = Buffer.concat(csv).toString("utf8").split("\n")[0];
  assert.match(header, /entry_id/);
});

test("comments across tickets: search, view and delete", async () => {
  await signIn(page, "admin");
  // tickets are for customers whose account has been opened: a trading one
  await page.goto(new URL("/customers?stage=traded", CONSOLE).href);
  const first = page.locator("[data-testid=customer-table] tbody tr[data-row-key]").first();
  await first.waitFor({ timeout: 120_000 });
  const id = await first.getAttribute("data-row-key");
  const text = `e2e comment ${Date.now().toString(36)}`;
  // a ticket with a comment, through the gateway with the signed-in session (the ticket screens have their own test)
  const ticket = await page.evaluate(async ({ customer, body }) => {
    const { token } = JSON.parse(sessionStorage.getItem("whale.session"));
    const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    let r;
    for (let i = 0; i < 60; i += 1) { // the tasks service learns the customer's stage from its events: wait for it
      r = await fetch("/api/tasks/tickets", { method: "POST", headers, body: JSON.stringify({ customer_id: customer, title: "e2e: comments report" }) });
      if (r.status !== 409 && r.status !== 404) break;
      await new Promise((done) => setTimeout(done, 500));
    }
    const t = await r.json();
    if (r.status !== 201) return { status: r.status, detail: JSON.stringify(t) };
    // the ticket reaches the tasks read model a moment after it is stored: retry the comment until it is there
    for (let i = 0; i < 60; i += 1) {
      const c = await fetch(`/api/tasks/tickets/${t.ticket_id}/comments`, { method: "POST", headers, body: JSON.stringify({ body }) });
      if (c.status !== 404) return { id: t.ticket_id, status: c.status, detail: await c.text() };
      await new Promise((done) => setTimeout(done, 500));
    }
    return { status: 404, detail: "the ticket never became visible" };
  }, { customer: id, body: text });
  assert.equal(ticket.status, 201, ticket.detail);

  await page.goto(new URL("/comments", CONSOLE).href);
  await page.getByRole("searchbox", { name: "Search comments" }).fill(text);
  await page.getByRole("searchbox", { name: "Search comments" }).press("Enter");
  const rows = page.getByTestId("comments-table").locator("tbody tr[data-row-key]");
  await eventually(async () => (await rows.count()) === 1 && (await rows.first().innerText()).includes(text),
    { timeout: 60_000, interval: 1000, message: "the comment is found" });
  await rows.first().getByRole("button", { name: "e2e: comments report" }).click();
  await page.locator(".ant-drawer-open").getByText(text).waitFor();
  await page.locator(".ant-drawer-open").getByRole("button", { name: "Close" }).click();
  await rows.first().getByRole("button", { name: "Delete" }).click();
  await page.locator(".ant-popover:visible").getByRole("button", { name: "Delete" }).click();
  await eventually(async () => (await rows.count()) === 0, { timeout: 60_000, interval: 1000, message: "the deleted comment leaves the report" });
});
