// A team lead reads the team's load against capacity on the Account Managers screen: the team's totals are the sum
// of its managers' bars (load of capacity), with the free places, and only the lead's own team is shown.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, eventually, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

const ofText = (text) => {
  const m = /(\d+) of (\d+)/.exec(text);
  assert.ok(m, `no "load of capacity" in ${JSON.stringify(text)}`);
  return [Number(m[1]), Number(m[2])];
};

test("a team lead sees the team's load against capacity, the sum of its managers' loads", async () => {
  await signIn(page, "team_lead");
  await page.goto(new URL("/managers", CONSOLE).href);
  let seen = null;
  // the demo platform registers customers and the rules route them: wait until the totals and the rows agree
  await eventually(async () => {
    await page.reload();
    const team = page.getByTestId("team-capacity-T-HK");
    await team.waitFor();
    await page.locator("[data-testid=managers-table] tbody tr[data-row-key]").first().waitFor();
    await page.waitForLoadState("networkidle");
    const [load, capacity] = ofText(await team.innerText());
    const rows = await page.locator("[data-testid=managers-table] tbody tr[data-row-key]").evaluateAll(
      (trs) => trs.map((tr) => tr.innerText));
    const parts = rows.map(ofText);
    seen = { load, capacity, rows: parts };
    return load > 0 && load === parts.reduce((a, [l]) => a + l, 0) && capacity === parts.reduce((a, [, c]) => a + c, 0);
  }, { timeout: 180_000, interval: 3000, message: "the team's totals equal the sum of its managers' loads" });
  assert.equal(seen.capacity, 1000); // Ada 200 + Ben 400 + Cathy 400 (devtools/seed.py)
  assert.equal(seen.rows.length, 3);
  const totals = page.getByTestId("team-capacity");
  const row = totals.locator("tr", { hasText: "Hong Kong" });
  assert.match(await row.innerText(), /3 of 3 managers active/);
  const cells = await row.locator("td").allInnerTexts();
  const load = ofText(cells[1])[0];
  assert.equal(Number(cells[2]), 1000 - load, "free places = capacity − load");
  const bar = totals.getByRole("progressbar", { name: "Load of Hong Kong" });
  assert.equal(Number(await bar.getAttribute("aria-valuenow")), Math.round((100 * load) / 1000));
  assert.equal(await totals.getByText("South-East Asia").count(), 0, "another team is outside the lead's scope");
  const ben = page.locator("[data-testid=managers-table] tbody tr", { hasText: "Ben Cheung" });
  const [benLoad, benCap] = ofText(await ben.innerText());
  assert.match(await ben.innerText(), new RegExp(`${benCap - benLoad} free`));
});
