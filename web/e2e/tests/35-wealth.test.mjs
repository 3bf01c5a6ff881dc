// The wealth view end to end: the demo platform's risk assessments filter the Customer List, the drawer reads
// the one 360° call (risk rating, service history), and the current filters are saved as a segment with its count.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, eventually, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

test("risk-rating filter, the drawer on the 360, a saved segment", async () => {
  await signIn(page, "admin");
  const rows = page.locator("[data-testid=customer-table] tbody tr[data-row-key]");
  await eventually(async () => {
    await page.goto(new URL("/customers?risk_rating=balanced&risk_rating=moderately_aggressive&risk_rating=aggressive", CONSOLE).href);
    await page.getByTestId("customer-table").locator("tbody").waitFor();
    await page.waitForLoadState("networkidle");
    return (await rows.count()) > 0;
  }, { timeout: 180_000, interval: 3000, message: "customers with a risk rating (the demo's applications)" });

  const asked = [];
  page.on("request", (r) => asked.push(new URL(r.url()).pathname));
  await rows.first().locator("[data-testid^=open-]").click();
  const risk = page.getByTestId("drawer-risk");
  await risk.waitFor({ timeout: 60_000 });
  assert.match(await risk.innerText(), /Balanced|Moderately aggressive|Aggressive/);
  assert.ok(asked.some((p) => /\/customers\/[^/]+\/360$/.test(p)), `the drawer reads GET /customers/{id}/360: ${asked.join(" ")}`);
  await page.getByRole("tab", { name: "Service history" }).click();
  await page.getByTestId("drawer-kyc").waitFor();
  await page.keyboard.press("Escape");

  const name = `Risk takers ${Date.now()}`;
  await page.getByTestId("segment-save-filter").click();
  await page.getByTestId("segment-name").fill(name);
  await page.locator(".ant-modal").getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText(`Segment ${name} saved`, { exact: false }).waitFor();
  await page.getByTestId("segment-select").click();
  const option = page.locator(".ant-select-item-option").filter({ hasText: name });
  await option.waitFor();
  assert.match(await option.innerText(), /· [\d,]+ \(filter\)/);
});
