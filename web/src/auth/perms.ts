// Permissions and roles as the services define them (shared/runtime/auth.py; tests/unit/test_web_console.py
// checks that these lists match). The console only hides what a role cannot do; the API stays the authority.
export const PERMS = [
  "ClientProfileReadOnly",
  "SupportManageFull",
  "CustomerWrite",
  "CustomerPiiRead",
  "CustomerVerify",
  "CustomerExport",
  "CustomerMerge",
  "CustomerImport",
  "AssignmentManage",
  "TaskWrite",
  "TicketManage",
  "ReportWrite",
  "KycReview",
  "KycSecondReview",
  "KycAdmin",
  "ChangelogPost",
  "Operator",
  "UserMessageSend",
  "UserAccessManage",
  "UserInfoEdit",
  "UserMoneyRequest",
  "UserMoneyApprove",
  "UserOwnerChange",
  "UserAccessLevelManage",
  "UserTabGeneral",
  "UserTabPersonal",
  "UserTabFinancialStatus",
  "UserTabExperience",
  "UserTabBanking",
  "UserTabCompliance",
  "UserTabLogs",
  "UserReportsRead",
  "AuditRead",
  "CommentModerate",
  "CampaignRead",
  "CampaignWrite",
  "CampaignReview",
  "AccessManage",
] as const;
export type Perm = (typeof PERMS)[number];

export const ROLES = ["manager", "team_lead", "admin", "kyc_reviewer", "kyc_senior", "operator", "auditor"] as const;
export type Role = (typeof ROLES)[number];

export type Scope = "own" | "team" | "all";
