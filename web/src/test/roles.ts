// The services' role → permissions table (shared/runtime/auth.py ROLES), for tests of permission-aware
// screens; tests/unit/test_web_console.py checks it against the Python source.
import type { Perm, Role } from "../auth/perms";

export const ROLE_PERMS: Record<Role, Perm[]> = {
  manager: ["ClientProfileReadOnly", "CustomerWrite", "TaskWrite", "TicketManage", "ReportWrite", "UserMessageSend", "UserInfoEdit", "UserMoneyRequest", "UserTabGeneral", "UserTabPersonal", "UserTabFinancialStatus", "UserTabExperience", "UserTabCompliance", "UserTabLogs", "UserReportsRead", "CampaignRead", "CampaignWrite", "CampaignReview"],
  team_lead: ["ClientProfileReadOnly", "CustomerWrite", "CustomerExport", "CustomerMerge", "AssignmentManage", "TaskWrite", "TicketManage", "ReportWrite", "UserMessageSend", "UserAccessManage", "UserInfoEdit", "UserMoneyRequest", "UserMoneyApprove", "UserOwnerChange", "UserTabGeneral", "UserTabPersonal", "UserTabFinancialStatus", "UserTabExperience", "UserTabBanking", "UserTabCompliance", "UserTabLogs", "UserReportsRead", "CampaignRead", "CampaignWrite", "CampaignReview"],
  admin: ["ClientProfileReadOnly", "SupportManageFull", "CustomerWrite", "CustomerPiiRead", "CustomerVerify", "CustomerExport", "CustomerMerge", "CustomerImport", "AssignmentManage", "TaskWrite", "TicketManage", "ReportWrite", "KycAdmin", "ChangelogPost", "UserMessageSend", "UserAccessManage", "UserInfoEdit", "UserMoneyRequest", "UserMoneyApprove", "UserOwnerChange", "UserAccessLevelManage", "UserTabGeneral", "UserTabPersonal", "UserTabFinancialStatus", "UserTabExperience", "UserTabBanking", "UserTabCompliance", "UserTabLogs", "UserReportsRead", "AuditRead", "CommentModerate", "CampaignRead", "CampaignWrite", "CampaignReview", "AccessManage"],
  kyc_reviewer: ["ClientProfileReadOnly", "KycReview", "UserTabPersonal", "UserTabCompliance"],
  kyc_senior: ["ClientProfileReadOnly", "KycReview", "KycSecondReview", "KycAdmin", "UserTabPersonal", "UserTabCompliance"],
  operator: ["Operator", "ChangelogPost"],
  auditor: ["ClientProfileReadOnly", "UserTabGeneral", "UserTabPersonal", "UserTabFinancialStatus", "UserTabExperience", "UserTabBanking", "UserTabCompliance", "UserTabLogs", "UserReportsRead", "AuditRead", "CampaignRead"],
};
