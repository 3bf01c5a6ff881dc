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
  "/tickets": "TicketManage",
  "/comments": "TicketManage",
  "/users": "ClientProfileReadOnly",
  "/analytics": "ClientProfileReadOnly",
  "/customer-matches": "ClientProfileReadOnly",
  "/campaigns": "CampaignRead",
  "/imports": "CustomerImport",
  "/institutions": "ClientProfileReadOnly",
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
  "rules.manage": "AssignmentManage",
  "institutions.manage": "AssignmentManage",
  "comments.moderate": "CommentModerate",
  "usercrm.message": "UserMessageSend",
  "usercrm.block": "UserAccessManage",
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

/** Whether a caller holding `can` meets a need. */
export function meets(need: Need, can: (p: CatalogPerm) => boolean): boolean {
  if (need === null) return true;
  return typeof need === "string" ? can(need) : need.some(can);
}

/** Every permission the table names (menus and actions). */
export function namedPermissions(): CatalogPerm[] {
  const out = new Set<CatalogPerm>();
  for (const need of [...Object.values(MENU), ...Object.values(ACTIONS)] as Need[]) {
    if (need === null) continue;
    for (const p of typeof need === "string" ? [need] : need) out.add(p);
  }
  return [...out].sort();
}
