// A manager signs in, finds the task of a freshly registered customer, records a follow-up in the Follow
// Up panel, sees the task complete and Today's Summary count it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, eventually, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

const metric = async (name) => {
  const text = await page.getByTestId(`metric-${name}`).locator(".ant-statistic-content-value").innerText();
  return Number(text.replace(/[^\d]/g, ""));
};

test("a manager follows up the task of a freshly registered customer and Today's Summary counts it", async () => {
  await signIn(page, "manager");
  await page.goto(new URL("/summary", CONSOLE).href);
  await page.getByTestId("metric-registration_follow_ups").waitFor({ timeout: 60_000 });
  const before = await metric("registration_follow_ups");

  // the demo platform registers customers; the rules route Hong Kong ones to M-HK-1 and a task opens
  let customer = null;
  await eventually(async () => {
    await page.goto(new URL("/tasks?node=tmt_registration", CONSOLE).href);
    await page.getByTestId("task-table").locator("tbody").waitFor();
    await page.waitForLoadState("networkidle");
    const first = page.locator("[data-testid=task-table] tbody tr[data-row-key] [data-testid^=task-open-]").first();
    if (!(await first.count())) return false;
    customer = (await first.getAttribute("data-testid")).replace("task-open-", "");
    return true;
  }, { timeout: 180_000, interval: 3000, message: "a TMT registration task of M-HK-1" });
  assert.ok(await page.getByTestId("node-card-tmt_registration").getAttribute("aria-pressed"));

  await page.getByTestId(`task-open-${customer}`).click();
  const panel = page.getByTestId("followup-panel");
  await page.getByTestId("followup-card").waitFor();
  assert.match(await page.getByTestId("followup-card").innerText(), new RegExp(customer));
  await page.getByRole("tab", { name: "Follow-up records" }).click();
  await page.getByLabel("Remarks").fill("Called: will open an account this week (e2e)");
  await page.getByTestId("followup-submit").click();
  // the task completes through the event stream; the panel follows it
  await page.getByTestId("task-closed").waitFor({ timeout: 60_000 });
  assert.match(await page.getByTestId("task-closed").innerText(), /Completed/);
  await panel.getByText("Called: will open an account this week (e2e)").waitFor({ timeout: 30_000 });

  // the open list no longer has it
  await page.keyboard.press("Escape");
  await eventually(async () => {
    await page.reload();
    await page.getByTestId("task-table").locator("tbody").waitFor();
    await page.waitForLoadState("networkidle");
    return (await page.getByTestId(`task-open-${customer}`).count()) === 0;
  }, { timeout: 30_000, interval: 2000, message: "the completed task leaves the open list" });

  // and Today's Summary counts the follow-up
  await eventually(async () => {
    await page.goto(new URL("/summary", CONSOLE).href);
    await page.getByTestId("metric-registration_follow_ups").waitFor();
    return (await metric("registration_follow_ups")) > before;
  }, { timeout: 60_000, interval: 2000, message: "Today's Summary counts the follow-up" });
});
