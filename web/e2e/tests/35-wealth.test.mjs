// The wealth view end to end: the demo platform's risk assessments filter the Customer List, the drawer reads
// the one 360° call (risk rating, service history), the current filters are saved as a segment with its count, and
// the asset-band, ADA-band and age filters reach the API from the filters panel.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, eventually, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

test("risk-rating filter, the drawer on the 360, a saved segment, band and age filters", async () => {
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

  // the filters panel is open (a risk filter is active): a band from GET /customers/bands and an age range
  const answered = [];
  page.on("response", (r) => { const u = new URL(r.url()); if (u.pathname.endsWith("/customers")) answered.push([u, r.status()]); });
  await page.keyboard.press("Escape"); // the segment list's dropdown
  await page.getByTestId("filter-ada-band").click();
  // the dropdown opened last is the band list's (antd keeps the segment list's in the page, hidden)
  const band = page.locator(".ant-select-dropdown").last().locator(".ant-select-item-option").first();
  await band.waitFor();
  assert.match(await band.innerText(), /\d [A-Z]{3}$/, "a band is labelled with its bounds in the brokerage's currency");
  await band.click();
  await page.keyboard.press("Escape");
  await page.getByTestId("filter-age-min").fill("18");
  await page.getByTestId("filter-age-min").press("Enter");
  await eventually(async () => answered.some(([u, status]) => u.searchParams.getAll("ada_band").length === 1
    && u.searchParams.get("age_min") === "18" && status === 200),
  { timeout: 30_000, interval: 500, message: "the list asked with an ADA band and an age (200)" });
  assert.equal(new URL(page.url()).searchParams.get("age_min"), "18");
  assert.equal(await page.locator(".ant-alert-error").count(), 0);
});
