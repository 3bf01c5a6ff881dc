// User CRM (seed 003 "Client/lead owner", "Change Admin Access Level"): an admin changes a user's owner and
// admin access level from the User management panel — each form refuses an empty request, the request is
// listed and answered by the (demo) platform, and the panel then shows the new owner (the assignment service
// follows the confirmed change) or level, or the platform's failure. A team lead is offered the owner form
// only. axe-core finds no WCAG 2.1 A/AA violations on the panel and any of its forms.
import assert from "node:assert/strict";
import { test } from "node:test";
import { animationsDone, axeViolations, eventually, openUser, page, pick, shot, signIn, useBrowser } from "../browser.mjs";

useBrowser();

const requestRows = () => page.locator(".ant-card").filter({ hasText: "Requests to the platform" }).locator("tbody tr[data-row-key]");

/** The newest request of an action, once the platform has answered it: its row's text. */
async function answered(action) {
  return eventually(async () => {
    const text = await requestRows().filter({ hasText: action }).first().innerText();
    return /Completed|Failed/.test(text) ? text : false;
  }, { timeout: 90_000, interval: 1000, message: `the platform answers ${action}` });
}

test("an admin changes the owner and the access level: validation, requests, the platform's answer, axe", async () => {
  await signIn(page, "admin");
  await openUser(page);
  const problems = (await axeViolations(page, { include: ["[data-testid=user-panel]"] })).map((v) => `panel: ${v}`);
  const before = await requestRows().count();

  // the owner: nothing chosen, no reason → refused in the form; then an active manager other than the owner
  const owner = (await page.getByTestId("user-owner").innerText()).trim();
  await page.getByTestId("user-change-owner").click();
  const ownerDialog = page.getByRole("dialog", { name: "Change owner" });
  await ownerDialog.getByRole("button", { name: "Submit" }).click();
  await eventually(async () => (await ownerDialog.getByText("Required").count()) === 2, { message: "both fields required" });
  await ownerDialog.getByRole("combobox", { name: "New owner" }).click();
  const options = page.locator(".ant-select-dropdown:visible .ant-select-item-option");
  await options.first().waitFor();
  // (read once they are drawn with their text: the list re-renders when the managers arrive; the clean-clone CI
  // of fe0a3f0 once read it empty)
  const labels = await eventually(async () => {
    const drawn = (await options.allInnerTexts()).map((l) => l.trim()).filter(Boolean);
    return drawn.length ? drawn : false;
  }, { message: "the managers offered" });
  const choice = labels.find((l) => !l.endsWith(`(${owner})`));
  assert.ok(choice, `an active manager other than ${owner} among ${labels.join(", ")}`);
  const newOwner = choice.match(/\(([^)]+)\)$/)[1];
  await options.filter({ hasText: choice }).first().click();
  await ownerDialog.getByLabel("Reason").fill("e2e: hand-over to a colleague");
  await animationsDone(page);
  problems.push(...(await axeViolations(page, { include: [".ant-modal"] })).map((v) => `owner form: ${v}`));
  await shot(page, "user-owner-form", "en", { fullPage: false });
  await ownerDialog.getByRole("button", { name: "Submit" }).click();
  await ownerDialog.waitFor({ state: "hidden" });

  // the access level: the same, then a level other than the current one
  const level = (await page.getByTestId("user-access-level").innerText()).trim();
  await page.getByTestId("user-change-access-level").click();
  const levelDialog = page.getByRole("dialog", { name: "Change access level" });
  await levelDialog.getByRole("button", { name: "Submit" }).click();
  await eventually(async () => (await levelDialog.getByText("Required").count()) === 2, { message: "both fields required" });
  const newLevel = level === "Support" ? "Read only" : "Support";
  // (the option clicked inside an open dropdown once its motion ended: a click during the zoom was lost, CI)
  await pick(page, levelDialog.getByRole("combobox", { name: "New access level" }), newLevel);
  await levelDialog.getByLabel("Reason").fill("e2e: joins the support desk");
  await animationsDone(page);
  problems.push(...(await axeViolations(page, { include: [".ant-modal"] })).map((v) => `access form: ${v}`));
  await levelDialog.getByRole("button", { name: "Submit" }).click();
  await levelDialog.waitFor({ state: "hidden" });

  // both requests are listed; pending (the tag beside the value) until the platform answers
  await eventually(async () => (await requestRows().count()) >= before + 2, { message: "the two requests are listed" });
  const ownerDone = await answered("change_owner");
  if (/Completed/.test(ownerDone)) {
    // the assignment service follows the confirmed change; the panel reads the profile again until it shows
    await eventually(async () => (await page.getByTestId("user-owner").innerText()).trim() === newOwner,
      { timeout: 60_000, interval: 1000, message: `the owner becomes ${newOwner}` });
  } else {
    await page.getByTestId("user-owner-failed").waitFor({ timeout: 30_000 });
  }
  const levelDone = await answered("change_access_level");
  if (/Completed/.test(levelDone)) {
    await eventually(async () => (await page.getByTestId("user-access-level").innerText()).trim() === newLevel,
      { timeout: 30_000, message: `the level becomes ${newLevel}` });
  } else {
    await page.getByTestId("user-access-failed").waitFor({ timeout: 30_000 });
  }
  problems.push(...(await axeViolations(page, { include: ["[data-testid=user-panel]"] })).map((v) => `panel after: ${v}`));
  assert.deepEqual(problems, [], `axe-core (WCAG 2.1 A/AA):\n${problems.join("\n")}`);
});

test("a team lead is offered the owner form, not the access level", async () => {
  await signIn(page, "team_lead");
  await openUser(page);
  await page.getByTestId("user-change-owner").waitFor();
  assert.equal(await page.getByTestId("user-change-access-level").count(), 0);
});

test("every form of the User management panel passes axe", async () => {
  await signIn(page, "admin");
  await openUser(page);
  const problems = [];
  const buttons = await page.locator("[data-testid=user-panel] button[data-testid]").evaluateAll((els) => els.map((e) => e.dataset.testid));
  assert.ok(buttons.includes("user-action-message") && buttons.includes("user-edit-info"), buttons.join(", "));
  for (const id of buttons) {
    await page.getByTestId(id).click();
    const dialog = page.locator(".ant-modal-wrap:visible .ant-modal");
    await dialog.waitFor();
    await page.waitForLoadState("networkidle").catch(() => undefined);
    await animationsDone(page);
    problems.push(...(await axeViolations(page, { include: [".ant-modal-wrap:not([style*='display: none']) .ant-modal"] })).map((v) => `${id}: ${v}`));
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
  }
  assert.deepEqual(problems, [], `axe-core (WCAG 2.1 A/AA) on the panel's forms:\n${problems.join("\n")}`);
});
