// Campaigns: a team lead plans one (audience previewed from the facts the service consumed), submits it and
// cannot review their own; the head of client services, not the creator's peer, is refused by the service;
// the screen, the form and the drawer have no axe (WCAG 2.1 A/AA) violation in English and Chinese.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, animationsDone, axeViolations, eventually, page, shot, signIn, useBrowser } from "../browser.mjs";

useBrowser();

const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

test("a team lead plans and submits a campaign; review is for a peer", async () => {
  await signIn(page, "team_lead");
  await page.goto(new URL("/campaigns", CONSOLE).href);
  await page.getByTestId("campaign-table").waitFor();
  await page.getByTestId("campaign-new").click();
  const name = `E2E first deposit ${Date.now().toString(36)}`;
  await page.getByLabel("Name", { exact: true }).fill(name);
  const now = new Date();
  await page.getByLabel("Start", { exact: true }).fill(local(now));
  await page.getByLabel("End", { exact: true }).fill(local(new Date(now.getTime() - 3_600_000)));
  await page.getByTestId("campaign-save").click();
  await page.getByText("The end must be after the start").waitFor();
  await page.getByLabel("End", { exact: true }).fill(local(new Date(now.getTime() + 7 * 86_400_000)));
  // the audience as the service resolves it now, within the team lead's scope (the demo platform's customers)
  await eventually(async () => {
    await page.getByTestId("campaign-preview").click();
    const text = await page.getByTestId("campaign-preview-size").innerText();
    return /^[1-9]\d* customers now/.test(text);
  }, { timeout: 120_000, message: "a non-empty audience preview" });
  await animationsDone(page);
  assert.deepEqual(await axeViolations(page, { include: [".ant-drawer-content"] }), [], "the planning form");
  await page.getByTestId("campaign-save").click();
  await page.getByTestId("campaign-status").filter({ hasText: "Draft" }).waitFor();
  await page.getByTestId("campaign-submit").click();
  await page.getByTestId("campaign-status").filter({ hasText: "In review" }).waitFor();
  await page.getByTestId("history-submitted").waitFor();
  assert.equal(await page.getByTestId("campaign-approve").count(), 0, "nobody reviews their own campaign");
  await animationsDone(page);
  assert.deepEqual(await axeViolations(page, { include: [".ant-drawer-content"] }), [], "the campaign drawer");

  await signIn(page, "admin");
  await page.goto(new URL("/campaigns", CONSOLE).href);
  await page.getByRole("button", { name }).click();
  await page.getByTestId("campaign-approve").click();
  await page.getByText(/creator's level/).waitFor(); // the service's 403: a head of client services is no team lead's peer
  await page.getByTestId("campaign-status").filter({ hasText: "In review" }).waitFor();
});

for (const lang of ["en", "zh"]) {
  test(`the campaigns screen in ${lang}: screenshot and no axe violations`, async () => {
    await signIn(page, "team_lead", lang);
    await page.goto(new URL("/campaigns", CONSOLE).href);
    await page.locator("[data-testid=campaign-table] tbody tr[data-row-key]").first().waitFor();
    await shot(page, "campaigns", lang);
    assert.deepEqual(await axeViolations(page), [], `axe-core in ${lang}`);
  });
}
