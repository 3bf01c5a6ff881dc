// A KYC reviewer and a senior reviewer take a high-risk case through four-eyes: the reviewer claims it,
// accepts every document and submits; the case waits for the second review, which the first reviewer
// cannot do; the senior reviewer approves it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, eventually, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

test("a high-risk KYC case goes through four-eyes", async () => {
  await signIn(page, "kyc_reviewer");
  let customer = null;
  await eventually(async () => {
    await page.goto(new URL("/kyc?high_risk=1&state=pending&state=resubmitted", CONSOLE).href);
    await page.getByTestId("kyc-queue").locator("tbody").waitFor();
    await page.waitForLoadState("networkidle");
    const claim = page.locator("[data-testid=kyc-queue] [data-testid^=kyc-claim-]").first();
    if (!(await claim.count())) return false;
    customer = (await claim.getAttribute("data-testid")).replace("kyc-claim-", "");
    return true;
  }, { timeout: 240_000, interval: 4000, message: "a high-risk case in the queue" });

  await page.getByTestId(`kyc-open-${customer}`).click();
  await page.getByTestId("kyc-four-eyes").waitFor();
  await page.getByTestId("kyc-case-claim").click();
  await eventually(async () => /In review/.test(await page.getByTestId("kyc-case-state").innerText()), { message: "the case is in review" });
  const caseId = new URL(page.url()).searchParams.get("case");
  // accept every document still to decide
  const toDecide = page.locator(".ant-drawer tbody tr").filter({ hasText: "To decide" });
  for (let left = await toDecide.count(); left > 0; left = await toDecide.count()) {
    await toDecide.first().locator("[data-testid^=kyc-accept-]").click();
    await eventually(async () => (await toDecide.count()) < left, { message: "the document is accepted" });
  }
  await page.getByTestId("kyc-submit").click();
  await page.getByRole("dialog", { name: "Submit review" }).getByRole("button", { name: "Submit review" }).click();
  await eventually(async () => /Awaiting second review/.test(await page.getByTestId("kyc-case-state").innerText()), { message: "waiting for the second review" });
  assert.equal(await page.getByTestId("kyc-second").count(), 0, "a reviewer without KycSecondReview has no second-review button");

  // the senior reviewer approves it
  await signIn(page, "kyc_senior");
  await page.goto(new URL(`/kyc?case=${caseId}`, CONSOLE).href);
  await eventually(async () => /Awaiting second review/.test(await page.getByTestId("kyc-case-state").innerText()), { message: "the senior sees the case waiting for the second review" });
  await page.getByTestId("kyc-second").click();
  const dialog = page.getByRole("dialog", { name: "Second review" });
  await dialog.getByLabel("Approve").check();
  await dialog.getByRole("button", { name: "Submit" }).click();
  // the open case shows the decision without being opened again (the drawer confirms it from the server)
  await eventually(async () => /Approved/.test(await page.getByTestId("kyc-case-state").innerText()), { message: "the case is approved" });
  await page.getByTestId("kyc-case-updating").waitFor({ state: "detached" });
  assert.match(await page.getByTestId("kyc-case-state").innerText(), /Approved/);
});
