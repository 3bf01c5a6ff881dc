// Sign-in through the stack's OpenID Connect provider (Keycloak, started by devtools.run at the port base + 12):
// the console sends the browser to Keycloak's login page (authorization code + PKCE), a demo user signs in with
// their staff id, the console shows who they are and what the access service says they may do, the services
// accept the token (verified through Keycloak's JWKS), and signing out ends the Keycloak session too.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, eventually, page, signIn, useBrowser } from "../browser.mjs";

useBrowser();
const PASSWORD = "whale-demo"; // devtools/keycloak.py: the demo users' password

async function keycloakLogin(username, password = PASSWORD) {
  await page.locator("#username").waitFor({ timeout: 60_000 });
  assert.notEqual(new URL(page.url()).origin, new URL(CONSOLE).origin, "the login form is Keycloak's, not the console's");
  await page.locator("#username").fill(username);
  await page.locator("#password").fill(password);
  await page.locator("#kc-login").click();
}

test("a demo user signs in through Keycloak, uses the console and signs out", async () => {
  await page.goto(new URL("/signin", CONSOLE).href);
  await page.evaluate(() => { localStorage.setItem("whale.lang", "en"); sessionStorage.clear(); });
  await page.reload();
  await page.getByTestId("signin-oidc").click();
  const login = new URL(await eventually(async () => (page.url().includes("/protocol/openid-connect/auth") ? page.url() : null),
    { message: "redirected to Keycloak" }));
  assert.equal(login.searchParams.get("code_challenge_method"), "S256");
  assert.equal(login.searchParams.get("client_id"), "whale-console");
  await keycloakLogin("M-HK-LEAD");

  const who = page.getByTestId("whoami");
  await who.waitFor({ timeout: 60_000 });
  const session = await page.evaluate(() => JSON.parse(sessionStorage.getItem("whale.session") ?? "null"));
  assert.equal(session.via, "oidc");
  const claims = JSON.parse(Buffer.from(session.token.split(".")[1], "base64url").toString());
  assert.equal(claims.staff_id, "M-HK-LEAD");
  assert.equal(claims.perms, undefined, "Keycloak's token carries no permissions");
  assert.equal(session.rights.staff_id, "M-HK-LEAD");
  assert.ok(session.rights.permissions.includes("AssignmentManage"), "the rights come from the access service");
  // the name Keycloak gives (the member's display name) and the role the access service says they hold
  assert.match(await who.innerText(), /Hong Kong team lead.*Team lead/i, await who.innerText());
  const menu = (await page.getByRole("navigation").getByRole("menuitem").allInnerTexts()).map((m) => m.trim());
  assert.ok(menu.includes("Customer List") && menu.includes("Teams and Rules"), menu.join(", "));

  // a service accepts the token: the team's customers are listed
  await page.goto(new URL("/customers", CONSOLE).href);
  await page.locator("[data-testid=customer-table] tbody tr[data-row-key]").first().waitFor({ timeout: 120_000 });

  // signing out ends the provider's session too: the next sign-in asks for the password again. The console shows its
  // sign-in page at once (no new document), then hands the browser to Keycloak's end-session endpoint, which
  // redirects it back to the console (a new document: the first `load` after the click). Wait for that round trip,
  // or the page is read (and the next test navigates) while it is still under way (the CI of a fresh machine failed
  // so: "Execution context was destroyed", then "navigation … interrupted by another").
  const endSession = page.waitForRequest((r) => r.url().includes("/protocol/openid-connect/logout"), { timeout: 60_000 });
  const returned = page.waitForEvent("load", { timeout: 60_000 });
  await page.getByRole("button", { name: "Sign out" }).click();
  await endSession;
  await returned;
  await eventually(async () => (await page.getByTestId("signin-oidc").count()) > 0,
    { timeout: 60_000, message: "back on the console's sign-in page" });
  await page.waitForLoadState("networkidle").catch(() => undefined);
  assert.equal(await eventually(async () => (await page.evaluate(() => sessionStorage.getItem("whale.session"))) ?? "none",
    { message: "the console's session storage read" }), "none");
  await page.getByTestId("signin-oidc").click();
  await page.locator("#username").waitFor({ timeout: 60_000 });
});

test("a failed login at Keycloak is an audit record the auditor finds", async () => {
  await page.goto(new URL("/signin", CONSOLE).href);
  await page.evaluate(() => { localStorage.setItem("whale.lang", "en"); sessionStorage.clear(); });
  await page.reload();
  await page.getByTestId("signin-oidc").click();
  await keycloakLogin("M-HK-2", "not-the-password");
  await page.locator("#input-error, .kc-feedback-text, [id^=input-error]").first().waitFor({ timeout: 60_000 });

  // the audit service collects Keycloak's failed logins (services/audit/signins.py; every 5 s under make run)
  await signIn(page, "auditor");
  const byStaff = page.getByRole("searchbox", { name: "Staff id" });
  await eventually(async () => {
    await page.goto(new URL("/audit", CONSOLE).href); // afresh: the same filter again is not fetched again
    await byStaff.waitFor();
    await byStaff.fill("M-HK-2");
    await byStaff.press("Enter");
    await page.waitForLoadState("networkidle");
    return (await page.getByTestId("audit-action").allInnerTexts()).includes("auth.sign_in_failed.invalid_user_credentials");
  }, { timeout: 90_000, interval: 3000, message: "the failed login's audit record" });
  const row = page.locator("[data-testid=audit-table] tbody tr[data-row-key]")
    .filter({ hasText: "auth.sign_in_failed.invalid_user_credentials" }).first();
  assert.match(await row.innerText(), /Denied 401/);
});
