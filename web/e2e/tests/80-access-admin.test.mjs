// Access control: the head of client services (the demo admin, AccessManage) defines a role with two
// permissions, assigns it to a demo staff member, and the member's effective access shows them; then exits
// the member, and the member — signed in in a second browser before the exit, token still valid — is refused
// on their next API call. The senior KYC reviewer (kyc-bob) plays the member: no later test signs in as them.
// axe (WCAG 2.1 A/AA) on the three screens and the role form.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, animationsDone, axeViolations, eventually, launch, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();

const MEMBER = { role: "kyc_senior", id: "kyc-bob" };

/** The status of an API call made with the page's own session token (what the console's next request sends). */
async function apiStatus(p, path) {
  return p.evaluate(async (url) => {
    const s = JSON.parse(sessionStorage.getItem("whale.session") ?? "null");
    const r = await fetch(url, { headers: { Authorization: `Bearer ${s?.token}` } });
    return r.status;
  }, path);
}

test("an access admin defines and assigns a role, then exits a member who is refused at once", async () => {
  // the member signs in first, in a browser of their own, and can use the API
  const member = await launch();
  const memberPage = member.context.pages()[0] ?? (await member.context.newPage());
  try {
    await signIn(memberPage, MEMBER.role);
    assert.equal(await apiStatus(memberPage, "/api/kyc/kyc/queue?limit=1"), 200, "the member works before the exit");

    await signIn(page, "admin");
    await page.goto(new URL("/access/roles", CONSOLE).href);
    await page.getByTestId("roles-table").locator("tbody tr[data-row-key]").first().waitFor();
    assert.deepEqual(await axeViolations(page), [], "the roles screen");
    const roleId = `e2e-desk-${Date.now().toString(36)}`;
    await page.getByTestId("role-new").click();
    await page.getByTestId("role-id").fill(roleId);
    await page.getByTestId("role-name").fill(`E2E desk ${roleId}`);
    await page.getByTestId("perm-CustomerExport").check();
    await page.getByTestId("perm-ReportWrite").check();
    await animationsDone(page);
    assert.deepEqual(await axeViolations(page, { include: [".ant-drawer-content"] }), [], "the role form");
    await page.getByTestId("role-save").click();
    await page.getByTestId("roles-table").locator(`tr[data-row-key="${roleId}"]`).waitFor();

    await page.goto(new URL("/access/org", CONSOLE).href);
    await page.getByTestId("org-tree").getByText(/Hong Kong branch/).waitFor();
    assert.deepEqual(await axeViolations(page), [], "the organisation screen");

    await page.goto(new URL(`/access/staff?staff=${MEMBER.id}`, CONSOLE).href);
    const drawer = page.getByTestId("staff-drawer");
    await page.getByTestId("staff-effective").getByText("KycSecondReview").waitFor();
    await page.getByRole("combobox", { name: "Role" }).click();
    await page.locator(".ant-select-dropdown:visible .ant-select-item-option").filter({ hasText: `E2E desk ${roleId}` }).first().click();
    await page.getByTestId("assign-save").click();
    await page.getByTestId("staff-assignments").locator("tbody tr", { hasText: `(${roleId})` }).waitFor();
    for (const perm of ["CustomerExport", "ReportWrite"]) {
      await page.getByTestId("effective-perms").locator(`[data-perm=${perm}]`).waitFor();
    }
    await animationsDone(page);
    assert.deepEqual(await axeViolations(page, { include: [".ant-drawer-content"] }), [], "a member's page");

    await drawer.getByTestId("staff-exit").click();
    await page.getByTestId("staff-exit-confirm").click();
    await page.getByTestId("staff-status").filter({ hasText: "Exited" }).waitFor();
    await page.getByTestId("staff-effective").getByText(/No access/).waitFor();

    // the same token, still within its lifetime: refused once the services' access directories have the exit
    const started = Date.now();
    const status = await eventually(async () => {
      const s = await apiStatus(memberPage, "/api/kyc/kyc/queue?limit=1");
      return s === 401 || s === 403 ? s : false;
    }, { timeout: 15_000, interval: 250, message: "the exited member's request refused" });
    console.log(`exited member refused (${status}) ${Date.now() - started} ms after the exit was shown`);
  } finally {
    await member.close();
  }
});
