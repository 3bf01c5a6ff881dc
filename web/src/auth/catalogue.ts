// The console's part of the permission catalogue (issue #20: "down to menus and buttons"): which permission
// each menu entry and each action button needs, in one table. The names are the services' `Perm` enum as the
// access service's OpenAPI publishes it (GET /access/permissions, generated into api/access.d.ts by
// `make web-clients`): a name the services do not know fails tsc, and catalogue.test.ts checks the table
// against the generated enum. The console only hides and disables; every API checks again.
import type { components } from "../api/access";

/** A permission as the services declare it (shared.runtime.auth.Perm, from the access OpenAPI). */
export type CatalogPerm = components["schemas"]["Perm"];

/** What an entry needs: nothing (every signed-in user), one permission, or any one of several. */
export type Need = null | CatalogPerm | readonly CatalogPerm[];

/** Menu entries (screens) by path. */
export const MENU = {
  "/": null,
  "/customers": "ClientProfileReadOnly",
  "/tasks": "ClientProfileReadOnly",
  "/dashboard": "ClientProfileReadOnly",
  "/summary": "ClientProfileReadOnly",
  "/kyc": ["KycReview", "KycSecondReview", "KycAdmin"],
  "/managers": "ClientProfileReadOnly",
  "/rules": ["ClientProfileReadOnly", "AssignmentManage"],
  "/team-pool": "AssignmentManage",
  "/tickets": "TicketManage",
  "/comments": "TicketManage",
  "/users": "ClientProfileReadOnly",
  "/analytics": "ClientProfileReadOnly",
  "/customer-matches": "ClientProfileReadOnly",
  "/campaigns": "CampaignRead",
  "/imports": "CustomerImport",
  "/institutions": "ClientProfileReadOnly",
  "/calendar": "ClientProfileReadOnly",
  "/audit": "AuditRead",
  "/access/roles": ["AccessManage", "AuditRead"],
  "/access/org": ["AccessManage", "AuditRead"],
  "/access/staff": ["AccessManage", "AuditRead"],
} as const satisfies Record<string, Need>;
export type MenuPath = keyof typeof MENU;

/** Action buttons (and the forms behind them), by a stable name `<area>.<action>`. */
export const ACTIONS = {
  "customers.select": ["AssignmentManage", "CustomerWrite"],
  "customers.assign": "AssignmentManage",
  "customers.edit": "CustomerWrite",
  "customers.export": "CustomerExport",
  "customers.merge": "CustomerMerge",
  "customers.segments": "CustomerWrite",
  "customers.followUp": "TaskWrite",
  "tasks.followUp": "TaskWrite",
  "summary.report": "ReportWrite",
  "kyc.review": "KycReview",
  "kyc.reassign": "KycAdmin",
  "kyc.secondReview": "KycSecondReview",
  "managers.manage": "SupportManageFull",
  "teams.manage": "SupportManageFull",
  "rules.manage": "AssignmentManage",
  "teampool.distribute": "AssignmentManage",
  "institutions.manage": "AssignmentManage",
  "comments.moderate": "CommentModerate",
  "usercrm.message": "UserMessageSend",
  "usercrm.block": "UserAccessManage",
  "usercrm.unblock": "UserAccessManage",
  "usercrm.reset": "UserAccessManage",
  "usercrm.account": "UserMoneyRequest",
  "usercrm.deposit": "UserMoneyRequest",
  "usercrm.withdraw": "UserMoneyRequest",
  "usercrm.allocation": "UserMoneyRequest",
  "usercrm.edit": "UserInfoEdit",
  "usercrm.ownerChange": "UserOwnerChange",
  "usercrm.accessLevel": "UserAccessLevelManage",
  "usercrm.moneyRequest": "UserMoneyRequest",
  "usercrm.moneyApprove": "UserMoneyApprove",
  "usercrm.reports": "UserReportsRead",
  "campaigns.plan": "CampaignWrite",
  "campaigns.review": "CampaignReview",
  "access.roles.edit": "AccessManage",
  "access.roles.retire": "AccessManage",
  "access.org.edit": "AccessManage",
  "access.staff.assign": "AccessManage",
  "access.staff.revoke": "AccessManage",
  "access.staff.exit": "AccessManage",
} as const satisfies Record<string, Need>;
export type Action = keyof typeof ACTIONS;

/** Tabs (of a screen or a drawer), by `<area>.tab.<tab>`: a tab the caller may not read is not shown. The User
 *  CRM's information tabs each have their own permission (seed 004), its reports need UserReportsRead; the
 *  customer drawer's Messages tab needs what GET /usercrm/customers/{id}/requests requires. */
export const TABS = {
  "usercrm.tab.panel": null,
  "usercrm.tab.general": "UserTabGeneral",
  "usercrm.tab.personal": "UserTabPersonal",
  "usercrm.tab.financial_status": "UserTabFinancialStatus",
  "usercrm.tab.financial_experience": "UserTabExperience",
  "usercrm.tab.banking": "UserTabBanking",
  "usercrm.tab.compliance": "UserTabCompliance",
  "usercrm.tab.logs": "UserTabLogs",
  "usercrm.tab.accounts": "UserReportsRead",
  "usercrm.tab.allocations": "UserReportsRead",
  "usercrm.tab.statement": "UserReportsRead",
  "customers.tab.basic": null,
  "customers.tab.opening": null,
  "customers.tab.referral": null,
  "customers.tab.assets": null,
  "customers.tab.moves": null,
  "customers.tab.followups": null,
  "customers.tab.service": null,
  "customers.tab.remarks": null,
  "customers.tab.notes": null,
  "customers.tab.messages": "ClientProfileReadOnly",
  "customers.tab.assignment": null,
  "customers.tab.wealth": null,
} as const satisfies Record<string, Need>;
export type TabName = keyof typeof TABS;

/** Whether a caller holding `can` meets a need. */
export function meets(need: Need, can: (p: CatalogPerm) => boolean): boolean {
  if (need === null) return true;
  return typeof need === "string" ? can(need) : need.some(can);
}

/** Every permission the table names (menus, actions and tabs). */
export function namedPermissions(): CatalogPerm[] {
  const out = new Set<CatalogPerm>();
  for (const need of [...Object.values(MENU), ...Object.values(ACTIONS), ...Object.values(TABS)] as Need[]) {
    if (need === null) continue;
    for (const p of typeof need === "string" ? [need] : need) out.add(p);
  }
  return [...out].sort();
}
