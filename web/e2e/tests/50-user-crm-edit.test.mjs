// User CRM (seed 003): the head of client services edits a user's social links and general information on
// the user's behalf; each is a change request to the platform, visible in the panel's requests until the
// (demo) platform answers it; a completed social-links change shows the new link on the panel. A message sent
// from the panel shows on the customer drawer's Messages timeline with its delivery result (issue 16).
import assert from "node:assert/strict";
import { test } from "node:test";
import { animationsDone, axeViolations, eventually, openUser, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

const requestRows = () => page.locator(".ant-card").filter({ hasText: "Requests to the platform" }).locator("tbody tr[data-row-key]");

test("edit the user's social links and information: change requests answered by the platform", async () => {
  await signIn(page, "admin");
  await openUser(page);
  const before = await requestRows().count();

  // social links: a bad link is refused in the form, a good one is sent
  const network = `e2e${Date.now().toString(36).slice(-5)}`;
  await page.getByTestId("user-edit-social").click();
  const social = page.getByRole("dialog", { name: "Edit social links" });
  await social.getByTestId("social-add").click();
  const row = (await social.locator("[data-testid^=social-network-]").count()) - 1;
  await social.getByTestId(`social-network-${row}`).fill(network);
  await social.getByTestId(`social-url-${row}`).fill("http://example.com/not-https");
  await social.getByRole("button", { name: "Submit" }).click();
  await social.getByText("An https:// link").waitFor();
  await social.getByTestId(`social-url-${row}`).fill(`https://example.com/${network}`);
  await social.getByRole("button", { name: "Submit" }).click();
  await social.waitFor({ state: "hidden" });

  // general information: only the field filled in is sent
  await page.getByTestId("user-edit-info").click();
  const info = page.getByRole("dialog", { name: "Edit information" });
  await info.getByLabel("Time zone").fill("Asia/Singapore");
  await info.getByRole("button", { name: "Submit" }).click();
  await info.waitFor({ state: "hidden" });

  // both requests are on the customer, and the platform answers each (completed, or failed with a reason)
  await eventually(async () => (await requestRows().count()) >= before + 2, { message: "the two change requests are listed" });
  const states = await eventually(async () => {
    const rows = await requestRows().filter({ hasText: "change_info" }).all();
    const texts = await Promise.all(rows.slice(0, 2).map((r) => r.innerText()));
    return texts.length === 2 && texts.every((t) => /Completed|Failed/.test(t)) ? texts : false;
  }, { timeout: 90_000, interval: 1000, message: "the platform answers both change requests" });
  const socialDone = /Completed/.test(states[1]); // newest first: [info, social]
  if (socialDone) await page.getByTestId("user-panel").getByRole("link", { name: network }).waitFor({ timeout: 30_000 });
  else assert.match(states[1], /Failed/);
});

test("a message sent from the panel shows on the customer drawer's timeline with its delivery result, axe", async () => {
  await signIn(page, "admin");
  const id = await openUser(page);
  await page.getByTestId("user-action-message").click();
  const dialog = page.getByRole("dialog", { name: "Send message" });
  // the channel stays the form's default, in-app; a template whose placeholders the service fills itself
  await dialog.getByRole("combobox", { name: "Template" }).click();
  const option = page.locator(".ant-select-dropdown:visible .ant-select-item-option").filter({ hasText: "kyc_reminder" }).first();
  await option.waitFor();
  await option.click();
  await dialog.getByRole("button", { name: "Submit" }).click();
  await dialog.waitFor({ state: "hidden" });

  await page.goto(new URL(`/customers?customer=${id}&tab=messages`, page.url()).href);
  const drawer = page.getByRole("dialog");
  await drawer.getByRole("tab", { name: "Messages", selected: true }).waitFor({ timeout: 60_000 });
  const newest = drawer.locator("[data-testid^=drawer-message-]").first();
  await newest.waitFor({ timeout: 30_000 });
  assert.match(await newest.innerText(), /In-app[\s\S]*kyc_reminder/);
  // the tab reads again while the message is in flight, until the platform answers (delivered, or failed with a reason)
  const result = await eventually(async () => {
    const d = await newest.getAttribute("data-delivery");
    return ["delivered", "read", "failed"].includes(d) ? d : false;
  }, { timeout: 90_000, interval: 1000, message: "the platform answers the message" });
  if (result === "failed") assert.match(await newest.innerText(), /Failure reason/);
  else assert.match(await newest.innerText(), /Delivered|Read/);
  await animationsDone(page);
  const problems = await axeViolations(page, { include: [".ant-drawer"] });
  assert.deepEqual(problems, [], `axe-core (WCAG 2.1 A/AA) on the drawer's Messages tab:\n${problems.join("\n")}`);
});
