// The audit log: a manager writes a remark on one of their customers; the auditor finds its record on the
// Audit log screen (action customer.remarks.create, the customer's id, the manager, allowed), exports the
// filtered records as CSV and verifies the hash chain.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, eventually, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

test("a manager's remark is in the auditor's audit log, exported and chained", async () => {
  await signIn(page, "manager");
  let customer = null;
  await eventually(async () => {
    await page.goto(new URL("/customers", CONSOLE).href);
    const row = page.locator("[data-testid=customer-table] tbody tr[data-row-key]").first();
    await row.waitFor({ timeout: 30_000 }).catch(() => undefined);
    customer = (await row.count()) ? await row.getAttribute("data-row-key") : null;
    return customer !== null;
  }, { timeout: 180_000, interval: 3000, message: "a customer of M-HK-1" });
  await page.goto(new URL(`/customers?customer=${customer}&tab=remarks`, CONSOLE).href);
  const dialog = page.getByRole("dialog");
  await dialog.getByTestId("remarks-submit").waitFor();
  await dialog.locator("textarea").first().fill("Called about the audit log e2e");
  await dialog.getByTestId("remarks-submit").click();
  await page.getByText("Saved").first().waitFor();

  await signIn(page, "auditor");
  const menu = await page.getByRole("navigation").getByRole("menuitem").allInnerTexts();
  assert.ok(menu.map((m) => m.trim()).includes("Audit log"), "the auditor has the Audit log screen");
  await page.goto(new URL("/audit", CONSOLE).href);
  const byCustomer = page.getByRole("searchbox", { name: "Customer id" });
  await byCustomer.waitFor();
  await eventually(async () => {
    await byCustomer.fill(customer);
    await byCustomer.press("Enter");
    await page.waitForLoadState("networkidle");
    const actions = await page.getByTestId("audit-action").allInnerTexts();
    return actions.includes("customer.remarks.create");
  }, { timeout: 60_000, interval: 2000, message: "the remark's audit record" });
  const row = page.locator("[data-testid=audit-table] tbody tr[data-row-key]").filter({ hasText: "customer.remarks.create" }).first();
  assert.equal((await row.getByTestId("audit-customer").innerText()).trim(), customer);
  assert.match(await row.innerText(), /M-HK-1/);
  assert.match(await row.innerText(), /Allowed 201/);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-export").click()]);
  const csv = Buffer.concat(await (await download.createReadStream()).toArray()).toString();
  const lines = csv.trim().split(/\r?\n/);
  assert.match(lines[0], /^seq,at,staff_id,roles,action/);
  assert.ok(lines.slice(1).some((l) => l.includes("customer.remarks.create") && l.includes(customer)), "the export has the record");

  await page.getByTestId("audit-verify").click();
  assert.match(await page.getByTestId("audit-verdict").innerText(), /Chain verified/);
});
