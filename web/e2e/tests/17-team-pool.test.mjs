// Step-by-step allocation (issue 19): an admin adds a rule that sends French-speaking customers to the Hong Kong
// team's pool (the rule form's "to the team's pool"); a customer imported with language fr is queued there; the
// Hong Kong team lead sees it on the Team Pool screen with its waiting time and SLA state, distributes it to a
// manager of the team, and the Customer List shows that manager as its owner. Then the admin sets the team's pool SLA
// and reclaim policy in the Teams card, and the team lead's Team Pool screen shows that SLA.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, eventually, page, pick, shot, signIn, useBrowser } from "../browser.mjs";

useBrowser();

const RUN = Date.now().toString(36).toUpperCase();
const CUSTOMER = `E2E-POOL-${RUN}`;
const SLA = 480 + (Date.now() % 60); // minutes: a value no earlier run left

test("a registration routed to the team's pool is distributed by the team lead", async () => {
  await signIn(page, "admin");
  await page.goto(new URL("/rules", CONSOLE).href);
  await page.getByTestId("rules-table").waitFor();
  await page.getByRole("button", { name: "Add rule" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Rule id").fill(`e2e-pool-${RUN.toLowerCase()}`);
  await dialog.getByLabel("Order").fill("0");
  const languages = dialog.getByRole("combobox", { name: "Languages" });
  await languages.fill("fr");
  await languages.press("Enter");
  await pick(page, dialog.getByRole("combobox", { name: "Allocation" }), "To the team's pool (the lead distributes)");
  await dialog.getByRole("combobox", { name: "Team" }).click();
  await page.getByTitle("Hong Kong", { exact: true }).click();
  await dialog.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved").first().waitFor();
  await eventually(async () => {
    await page.goto(new URL("/rules", CONSOLE).href);
    await page.getByTestId("rules-table").waitFor();
    await page.waitForLoadState("networkidle").catch(() => undefined);
    return (await page.getByTestId("rules-table").getByText("T-HK's pool").count()) === 1;
  }, { timeout: 30_000, interval: 1_000, message: "the rule lists the team's pool as its target" });

  // a customer registered (here: imported) with language fr matches it
  await page.goto(new URL("/imports", CONSOLE).href);
  await page.getByTestId("import-choose").waitFor();
  const csv = `customer_id,name,email,language\n${CUSTOMER},Pia Pool,pia.${RUN}@example.com,fr\n`;
  await page.locator("input[type=file]").setInputFiles({ name: `e2e-pool-${RUN}.csv`, mimeType: "text/csv", buffer: Buffer.from(csv) });
  const status = page.getByTestId("import-status");
  await eventually(async () => /Done/.test((await status.textContent()) ?? ""),
    { timeout: 120_000, interval: 1_000, message: "the import done" });

  // the Hong Kong team lead sees it waiting in the team's pool
  await signIn(page, "team_lead");
  const row = page.locator(`[data-testid=pool-table] tr[data-row-key="${CUSTOMER}"]`);
  await eventually(async () => {
    await page.goto(new URL("/team-pool", CONSOLE).href);
    await page.getByTestId("pool-table").waitFor();
    await page.waitForLoadState("networkidle").catch(() => undefined);
    return (await row.count()) === 1;
  }, { timeout: 90_000, interval: 2_000, message: "the customer waits in the team's pool" });
  assert.match((await row.textContent()) ?? "", /Within SLA/);
  assert.match((await row.textContent()) ?? "", /\d+m/);
  await shot(page, "team-pool", "en");

  await row.getByRole("checkbox").check();
  await page.getByRole("combobox", { name: "Distribute to" }).click();
  await page.getByTitle(/\(M-HK-1\)/).click();
  await page.getByTestId("pool-distribute").click();
  await page.getByText("1 customers distributed").waitFor();
  await eventually(async () => (await row.count()) === 0, { timeout: 30_000, message: "the customer leaves the pool" });

  // the customer now belongs to M-HK-1
  const listed = page.locator(`[data-testid=customer-table] tr[data-row-key="${CUSTOMER}"]`);
  await eventually(async () => {
    await page.goto(new URL(`/customers?q=${CUSTOMER}`, CONSOLE).href);
    await page.getByTestId("customer-table").waitFor();
    await page.waitForLoadState("networkidle").catch(() => undefined);
    return (await listed.count()) === 1 && /M-HK-1/.test((await listed.getByTestId("manager-tag").first().textContent().catch(() => "")) ?? "");
  }, { timeout: 60_000, interval: 2_000, message: "the customer listed with M-HK-1" });
});

test("the admin sets a team's pool SLA and reclaim policy; the team lead's Team Pool shows the SLA", async () => {
  await signIn(page, "admin");
  await page.goto(new URL("/rules", CONSOLE).href);
  await page.getByTestId("team-edit-T-HK").waitFor();
  await page.getByTestId("team-edit-T-HK").click();
  const team = page.getByRole("dialog", { name: "Edit Hong Kong" });
  await team.getByTestId("team-pool-sla").fill(String(SLA));
  await pick(page, team.getByRole("combobox", { name: "After the protection period" }), "Back to the team's pool");
  await team.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved").first().waitFor();
  await team.waitFor({ state: "hidden" });
  await eventually(async () => /Back to the team's pool/.test((await page.locator('tr[data-row-key="T-HK"]').textContent()) ?? "")
    && new RegExp(`${SLA} min`).test((await page.locator('tr[data-row-key="T-HK"]').textContent()) ?? ""),
  { timeout: 15_000, message: "the Teams card shows the new SLA and policy" });

  await signIn(page, "team_lead");
  await eventually(async () => {
    await page.goto(new URL("/team-pool", CONSOLE).href);
    await page.getByTestId("pool-table").waitFor();
    return new RegExp(`${SLA} min`).test((await page.locator("#main").textContent()) ?? "");
  }, { timeout: 30_000, interval: 1_000, message: "the team lead's Team Pool shows the SLA the admin set" });
});
