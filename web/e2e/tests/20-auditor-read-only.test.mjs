// An auditor sees masked personal data and no write buttons (the API stays the authority).
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

test("an auditor sees masked personal data and no write buttons", async () => {
  await signIn(page, "auditor");
  const menu = await page.getByRole("navigation").getByRole("menuitem").allInnerTexts();
  // the screens ClientProfileReadOnly (and the User CRM and campaigns read permissions) open; not KYC review,
  // Tickets or Comments, which need permissions an auditor does not have
  assert.deepEqual(menu.map((m) => m.trim()), ["Home", "Customer List", "Tasks", "Wealth calendar", "My Dashboard", "Today's Summary",
    "Account Managers", "Teams and Rules", "Institutions", "User CRM", "Analytics", "Match review", "Campaigns", "Audit log",
    "Roles and permissions", "Organisation", "Staff"]);
  await page.goto(new URL("/customers", CONSOLE).href);
  const first = page.locator("[data-testid=customer-table] tbody tr[data-row-key]").first();
  await first.waitFor({ timeout: 120_000 });
  for (const id of ["action-assign", "action-remarks", "action-tags", "action-export"]) {
    assert.equal(await page.getByTestId(id).count(), 0, `${id} is not offered to an auditor`);
  }
  assert.equal(await page.locator("[data-testid=customer-table] input[type=checkbox]").count(), 0, "no selection");
  const masked = await page.locator("[data-testid=customer-table] [data-masked=true]").allInnerTexts();
  assert.ok(masked.length > 0 && masked.every((v) => v.includes("*")), "names, phones and emails are masked");

  // a customer with a name and a phone or an e-mail on the list (an imported lead may have only a name)
  const withContact = page.locator("[data-testid=customer-table] tbody tr[data-row-key]")
    .filter({ has: page.locator("[data-masked=true] >> nth=1") }).first();
  await withContact.locator("[data-testid^=open-]").click();
  const basic = page.getByTestId("drawer-basic");
  await basic.waitFor();
  await basic.locator("[data-masked=true]").nth(1).waitFor({ timeout: 30_000 });
  const inDrawer = await basic.locator("[data-masked=true]").allInnerTexts();
  assert.ok(inDrawer.length >= 2 && inDrawer.every((v) => v.includes("*")), "the drawer masks personal data too");
  for (const tab of ["Follow-up records", "Remarks", "Private notes"]) {
    await page.getByRole("tab", { name: tab }).click();
    await page.getByRole("tabpanel").filter({ visible: true }).waitFor();
    assert.equal(await page.getByTestId("followup-add").count(), 0);
    assert.equal(await page.getByTestId("remarks-submit").count() + await page.getByTestId("notes-submit").count(), 0);
  }
});
