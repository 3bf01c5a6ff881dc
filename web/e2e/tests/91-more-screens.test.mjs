// Every screen the seeds describe beyond 90's (Home, Customer List, the drawer's basic / assignment / follow-up
// tabs, the assign dialog), in both languages: a screenshot under var/screenshots/ and no WCAG 2.1 A/AA
// violations found by axe-core; each screen as the role that uses it. A step without `path` continues from
// the screen before it (a tab of the drawer or panel just shown); a dialog a step opened is closed after it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CONSOLE, animationsDone, axeViolations, chartDrawn, page, shot, signIn, useBrowser } from "../browser.mjs";

useBrowser();

const settle = (p) => p.waitForLoadState("networkidle").catch(() => undefined);
const go = (p, path) => p.goto(new URL(path, CONSOLE).href);
const firstRow = (p, table) => p.locator(`[data-testid=${table}] tbody tr[data-row-key]`).first();
/** a tab of the open drawer or panel, by its English or Chinese name */
const tab = async (p, scope, name) => { await scope.getByRole("tab", { name }).click(); await settle(p); };

// ids found once, by the first language's run (the demo platform registers the customers as the stack runs)
const found = {};
async function customerId(p) {
  if (!found.customer) {
    await go(p, "/customers?stage=traded");
    const row = firstRow(p, "customer-table");
    await row.waitFor({ timeout: 180_000 });
    found.customer = await row.getAttribute("data-row-key");
  }
  return found.customer;
}
const drawerTab = (key, name, ready) => ({ role: "admin", name: `customer-drawer-${key}`, overlay: true, ready: async (p) => {
  await go(p, `/customers?customer=${await customerId(p)}&tab=${key}`);
  await p.getByRole("dialog").getByRole("tab", { name, selected: true }).waitFor();
  if (ready) await ready(p.getByRole("dialog"));
  await settle(p);
} });

const SCREENS = [
  // the customer drawer's other tabs (basic, assignment and follow-ups are in 90) and its "as of" view
  drawerTab("opening", /Account opening|开户/),
  drawerTab("referral", /Referral|邀请关系/),
  drawerTab("assets", /Assets|资产/),
  drawerTab("moves", /Deposits|出入金/),
  drawerTab("remarks", /Remarks|备注/, (d) => d.getByTestId("remarks-submit").waitFor()),
  drawerTab("notes", /Private notes|私人笔记/, (d) => d.getByTestId("notes-submit").waitFor()),
  // messages to the customer with their delivery, or none yet
  drawerTab("messages", /Messages|消息记录/, (d) => d.locator("[data-testid=drawer-messages], .ant-empty").first().waitFor()),
  { role: "admin", name: "customer-drawer-as-of", overlay: true, ready: async (p) => {
    await go(p, `/customers?customer=${await customerId(p)}&as_of=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`);
    await p.getByTestId("drawer-basic").waitFor();
    await settle(p);
  } },
  // Account Managers: the list, the add form, a manager's referral QR code; Teams and Rules with a preview
  { role: "admin", name: "managers", path: "/managers", ready: async (p) => { await firstRow(p, "managers-table").waitFor(); await settle(p); } },
  { role: "admin", name: "manager-add", overlay: true, ready: async (p) => { await p.getByTestId("manager-add").click(); await p.getByRole("dialog").waitFor(); } },
  { role: "admin", name: "manager-qr", path: "/managers", overlay: true, ready: async (p) => {
    await firstRow(p, "managers-table").getByRole("button", { name: /QR|二维码/ }).click();
    await p.getByTestId("manager-qr").waitFor();
    await settle(p);
  } },
  { role: "admin", name: "teams-rules", path: "/rules", ready: async (p) => {
    await p.getByTestId("rules-table").waitFor();
    await p.getByTestId("route-preview").click();
    await p.getByTestId("route-result").waitFor();
  } },
  // User CRM: the user panel, every information tab, the reports, the approvals queue, an edit dialog
  { role: "admin", name: "user-crm", ready: async (p) => { await go(p, `/users?customer=${await customerId(p)}`); await p.getByTestId("user-panel").waitFor(); await settle(p); } },
  { role: "admin", name: "user-crm-edit-social", overlay: true, ready: async (p) => { await p.getByTestId("user-edit-social").click(); await p.getByRole("dialog").waitFor(); } },
  ...["general", "personal", "financial_status", "financial_experience", "banking", "compliance", "logs"].map((key) => (
    { role: "admin", name: `user-crm-info-${key}`, ready: async (p) => {
      await go(p, `/users?customer=${await customerId(p)}&tab=${key}`);
      await p.getByRole("tabpanel").last().waitFor();
      await settle(p);
    } })),
  ...["accounts", "statement", "allocations"].map((key) => ({ role: "admin", name: `user-crm-${key}`, ready: async (p) => {
    await go(p, `/users?customer=${await customerId(p)}&tab=${key}`);
    if (key === "statement") await p.getByTestId("statement-table").waitFor();
    await settle(p);
  } })),
  { role: "admin", name: "user-crm-allocations-inactive", ready: async (p) => {
    await p.locator(".ant-segmented-item", { hasText: /Inactive|已结束/ }).click();
    await settle(p);
  } },
  { role: "admin", name: "user-crm-approvals", path: "/users?view=approvals", ready: async (p) => {
    await p.locator("[data-testid=approvals-table], main .ant-empty").first().waitFor(); // requests waiting, or none
    await settle(p);
  } },
  // an account manager's day: My Dashboard, Tasks and the Follow Up panel's tabs, Today's Summary, Analytics
  { role: "manager", name: "my-dashboard", path: "/dashboard", ready: async (p) => { await p.getByTestId("lifecycle-card-pending_funding").waitFor(); await settle(p); } },
  { role: "manager", name: "my-dashboard-stage", ready: async (p) => {
    await p.getByTestId("lifecycle-card-funded").click();
    await p.waitForURL(/stage=funded/);
    await p.locator("[data-testid=customer-table] tbody").waitFor();
    await settle(p);
  } },
  { role: "manager", name: "tasks", path: "/tasks", ready: async (p) => {
    await p.getByTestId("node-card-tmt_registration").waitFor();
    await firstRow(p, "task-table").waitFor({ timeout: 180_000 }); // the demo platform gives the manager tasks
    await settle(p);
  } },
  { role: "manager", name: "follow-up-panel", overlay: true, keep: true, ready: async (p) => {
    await firstRow(p, "task-table").locator("[data-testid^=task-open-]").click();
    await p.getByTestId("followup-card").waitFor();
    await settle(p);
  } },
  { role: "manager", name: "follow-up-records", overlay: true, keep: true, ready: async (p) => {
    const panel = p.getByTestId("followup-panel");
    await tab(p, panel, /Follow-up records|跟进记录/);
    await panel.getByTestId("followup-add").waitFor();
  } },
  { role: "manager", name: "follow-up-assets", overlay: true, keep: true, ready: async (p) => tab(p, p.getByTestId("followup-panel"), /Assets|资产/) },
  { role: "manager", name: "follow-up-referral", overlay: true, ready: async (p) => tab(p, p.getByTestId("followup-panel"), /Referral|邀请关系/) },
  { role: "manager", name: "summary-progress", path: "/summary", ready: async (p) => {
    await p.getByTestId("metric-account_openings").waitFor();
    // today, yesterday and last week: three series, drawn (a blank chart was once screenshotted here)
    assert.equal(await chartDrawn(p.getByRole("tabpanel")), 3);
    await settle(p);
  } },
  { role: "manager", name: "summary-followups", path: "/summary?tab=followups", ready: async (p) => { await p.getByTestId("due-table").waitFor(); await settle(p); } },
  { role: "manager", name: "summary-report", path: "/summary?tab=report", ready: async (p) => { await p.getByTestId("report-summary").waitFor(); await settle(p); } },
  { role: "manager", name: "analytics", path: "/analytics", ready: async (p) => { await p.getByText(/Stage-to-stage conversion|阶段转化/).first().waitFor(); await settle(p); } },
  // tickets: the list, a new ticket, a ticket with its comment timeline; the comments report
  { role: "manager", name: "tickets", path: "/tickets", ready: async (p) => { await p.getByTestId("tickets-table").waitFor(); await settle(p); } },
  { role: "manager", name: "ticket-new", overlay: true, ready: async (p) => { await p.getByTestId("ticket-new").click(); await p.getByRole("dialog").waitFor(); } },
  { role: "manager", name: "comments", path: "/comments", ready: async (p) => { await p.getByTestId("comments-table").waitFor(); await settle(p); } },
  // KYC: the queue with its SLA timers, a case under review
  { role: "kyc_reviewer", name: "kyc-queue", path: "/kyc", ready: async (p) => { await firstRow(p, "kyc-queue").waitFor({ timeout: 180_000 }); await settle(p); } },
  { role: "kyc_reviewer", name: "kyc-case", overlay: true, ready: async (p) => {
    await firstRow(p, "kyc-queue").locator("[data-testid^=kyc-open-]").click();
    await p.getByTestId("kyc-case-state").waitFor();
    await settle(p);
  } },
];

for (const lang of ["en", "zh"]) {
  test(`the further screens in ${lang}: screenshot and no axe violations`, async () => {
    const problems = [];
    let role = null;
    for (const s of SCREENS) {
      if (s.role !== role) { await signIn(page, s.role, lang); role = s.role; }
      try {
        if (s.path) await go(page, s.path);
        await s.ready(page);
      } catch (e) { // one screen that did not come up is reported with the others, not instead of them
        problems.push(`${s.name}: did not come up: ${String(e.message).split("\n")[0]}`);
        await shot(page, `${s.name}-failed`, lang);
        continue;
      }
      // a dialog still zooming in is half transparent: axe would measure its text against the page behind it
      await animationsDone(page);
      await shot(page, s.name, lang, { fullPage: !s.overlay });
      problems.push(...(await axeViolations(page)).map((v) => `${s.name}: ${v}`));
      // a modal dialog opened on top of a page is closed before the next step (drawers are left by navigating)
      if (!s.keep && (await page.locator(".ant-modal-wrap:visible").count())) {
        await page.keyboard.press("Escape");
        await page.locator(".ant-modal-wrap:visible").first().waitFor({ state: "hidden" });
      }
    }
    assert.deepEqual(problems, [], `axe-core (WCAG 2.1 A/AA) in ${lang}:\n${problems.join("\n")}`);
  });
}

test("keyboard: a task node card and a lifecycle card work without a mouse", async () => {
  await signIn(page, "manager");
  await go(page, "/tasks");
  await page.getByTestId("node-card-funded").focus();
  await page.keyboard.press("Enter");
  await page.waitForURL(/node=funded/, { waitUntil: "commit" });
  await go(page, "/dashboard");
  await page.getByTestId("lifecycle-card-traded").focus();
  await page.keyboard.press("Space");
  await page.waitForURL(/stage=traded/, { waitUntil: "commit" });
});
