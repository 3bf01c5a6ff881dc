// The wealth calendar end to end: the demo platform's positions, dividends / splits on the listed symbols, IPO
// windows and maturities reach the Wealth calendar screen (GET /calendar through the gateway), filtered by kind;
// a customer id opens the drawer, whose Calendar / holdings tab shows what the customer holds.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, eventually, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

test("the Wealth calendar lists the demo customers' events; the drawer shows holdings", async () => {
  await signIn(page, "admin");
  const rows = page.locator("[data-testid=calendar-table] tbody tr[data-row-key]");
  await eventually(async () => {
    await page.goto(new URL("/calendar", CONSOLE).href);
    await page.getByTestId("calendar-table").locator("tbody").waitFor();
    await page.waitForLoadState("networkidle");
    return (await rows.count()) > 0;
  }, { timeout: 240_000, interval: 3000, message: "wealth events of the demo's customers" });
  await page.getByTestId("calendar-brokerage").waitFor(); // the day's IPO windows (brokerage-wide)
  assert.match(await page.getByTestId("calendar-brokerage").innerText(), /IPO subscription (opens|closes)/);

  // only corporate actions: every row says so
  await page.getByRole("combobox", { name: "Kinds of events" }).click();
  await page.locator(".ant-select-item-option").filter({ hasText: "Corporate action" }).click();
  await page.keyboard.press("Escape");
  await eventually(async () => {
    const kinds = await rows.locator("td:nth-child(2)").allInnerTexts();
    return kinds.length > 0 && kinds.every((k) => k.trim() === "Corporate action");
  }, { timeout: 60_000, interval: 1000, message: "only corporate actions" });

  // a holder's drawer: the Calendar / holdings tab lists a position in the security of the action
  const security = (await rows.first().locator("td:nth-child(5)").innerText()).split(": ").at(-1).trim();
  await rows.first().locator("td:nth-child(3) button").click();
  await page.getByRole("tab", { name: "Calendar / holdings" }).click();
  const holdings = page.getByTestId("drawer-holdings");
  await holdings.waitFor({ timeout: 60_000 });
  assert.ok((await holdings.innerText()).includes(security), `${security} among the holdings: ${await holdings.innerText()}`);
});
