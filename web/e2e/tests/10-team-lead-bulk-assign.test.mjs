// A team lead signs in, bulk-assigns customers from the Customer List and sees them move.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, eventually, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

const rowIds = async () => page.locator("[data-testid=customer-table] tbody tr[data-row-key]").evaluateAll(
  (rows) => rows.map((r) => r.getAttribute("data-row-key")));

test("a team lead bulk-assigns from the Customer List and sees the customers move", async () => {
  await signIn(page, "team_lead");
  // the demo platform registers customers and the rules route Hong Kong ones to the team's managers
  let ids = [];
  await eventually(async () => {
    await page.goto(new URL("/customers?manager_id=M-HK-1", CONSOLE).href);
    await page.locator("[data-testid=customer-table] tbody").waitFor();
    await page.waitForLoadState("networkidle");
    ids = await rowIds();
    return ids.length >= 2;
  }, { timeout: 120_000, interval: 3000, message: "customers assigned to M-HK-1" });
  const picked = ids.slice(0, 2);
  for (const id of picked) await page.getByRole("checkbox", { name: id, exact: true }).check();
  await page.getByTestId("selected-count").filter({ hasText: "2" }).waitFor();
  await page.getByTestId("action-assign").click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("combobox", { name: "Account manager" }).click();
  await page.getByTitle(/\(M-HK-2 · T-HK\)/).click();
  await dialog.getByTestId("assign-submit").click();
  await page.getByText(/Bulk assignment accepted: 2 customer/).waitFor();

  // they leave M-HK-1's list (the list follows the event stream) …
  await eventually(async () => {
    const now = await rowIds();
    return picked.every((id) => !now.includes(id));
  }, { timeout: 60_000, message: "the assigned customers leave M-HK-1's list" });
  // … and show up as M-HK-2's, in the list and in the drawer's Assignment tab with its "why"
  await page.goto(new URL("/customers?manager_id=M-HK-2", CONSOLE).href);
  await eventually(async () => {
    await page.getByTestId("page-number").waitFor();
    const now = await rowIds();
    if (picked.every((id) => now.includes(id))) return true;
    await page.reload();
    return false;
  }, { timeout: 60_000, interval: 2000, message: "the customers appear in M-HK-2's list" });
  const row = page.locator(`[data-testid=customer-table] tr[data-row-key="${picked[0]}"]`);
  assert.match(await row.getByTestId("manager-tag").first().innerText(), /M-HK-2/);
  await row.getByTestId(`open-${picked[0]}`).click();
  await page.getByRole("tab", { name: "Assignment" }).click();
  const slot = page.getByTestId("assignment-slot").first();
  await slot.waitFor();
  assert.match(await slot.innerText(), /M-HK-2/);
  assert.match(await slot.innerText(), /bulk/);
  assert.equal(new URL(page.url()).searchParams.get("customer"), picked[0], "the drawer is in the URL");
});
