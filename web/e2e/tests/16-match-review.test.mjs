// Existing-customer matching: the demo platform now and then registers a person the brokerage already has with
// the same name and date of birth but another ID document (a probable duplicate). A reviewer (CustomerMerge)
// merges it from the match review queue; the Customer List then shows one customer.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, axeViolations, eventually, page, shot, signIn, useBrowser } from "../browser.mjs";

useBrowser();

test("a reviewer merges a probable duplicate and the list shows one customer", async () => {
  await signIn(page, "admin");
  const card = page.getByTestId("match-card").first();
  await eventually(async () => {
    await page.goto(new URL("/customer-matches", CONSOLE).href);
    await page.getByTestId("match-list").waitFor();
    await page.waitForLoadState("networkidle").catch(() => undefined);
    return (await card.count()) > 0;
  }, { timeout: 300_000, interval: 3_000, message: "a suspected duplicate in the queue" });
  const merged = await card.getAttribute("data-customer");
  const survivor = await card.getAttribute("data-candidate");
  assert.ok(merged && survivor && merged !== survivor);
  const compare = card.getByTestId("match-compare");
  assert.ok((await compare.locator("tbody tr").count()) >= 6, "the two records side by side");
  await shot(page, "match-review", "en");
  assert.deepEqual(await axeViolations(page), [], "axe-core (WCAG 2.1 A/AA) on the match review queue");

  await card.getByTestId("match-merge").click();
  await page.getByTestId("match-comment").fill("same person: matching photo and address");
  await page.getByTestId("match-confirm").click();
  await eventually(async () => (await page.locator(`[data-testid=match-card][data-customer="${merged}"]`).count()) === 0,
    { message: "the merged pair leaves the pending queue" });

  const rows = page.locator("[data-testid=customer-table] tbody tr[data-row-key]");
  await page.goto(new URL(`/customers?q=${survivor}`, CONSOLE).href);
  await eventually(async () => (await rows.count()) === 1 && (await rows.first().getAttribute("data-row-key")) === survivor,
    { message: "the survivor listed" });
  await page.goto(new URL(`/customers?q=${merged}`, CONSOLE).href);
  await page.getByTestId("customer-table").waitFor();
  await page.waitForLoadState("networkidle").catch(() => undefined);
  await eventually(async () => (await rows.count()) === 0, { message: "the merged record is not listed" });

  // a manager sees the queue (masked) but cannot merge
  await signIn(page, "manager");
  await page.goto(new URL("/customer-matches", CONSOLE).href);
  // the manager's queue is their own customers' pairs, often none: the list is then an empty (invisible) element
  // beside the empty state, so wait for it to be there, then for cards or the empty state
  await page.getByTestId("match-list").waitFor({ state: "attached" });
  await eventually(async () => (await page.getByTestId("match-card").count()) > 0 || (await page.locator(".ant-empty").count()) > 0,
    { message: "the manager's queue shown (cards, or the empty state)" });
  assert.equal(await page.getByTestId("match-merge").count(), 0);
});
