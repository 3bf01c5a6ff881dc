// The services' role → permissions table (shared/runtime/auth.py ROLES), for tests of permission-aware
// screens; tests/unit/test_web_console.py checks it against the Python source.
import type { Perm, Role } from "../auth/perms";

export const ROLE_PERMS: Record<Role, Perm[]> = {
  manager: ["ClientProfileReadOnly", "CustomerWrite", "TaskWrite", "TicketManage", "ReportWrite"],
  team_lead: ["ClientProfileReadOnly", "CustomerWrite", "CustomerExport", "AssignmentManage", "TaskWrite", "TicketManage", "ReportWrite"],
  admin: ["ClientProfileReadOnly", "SupportManageFull", "CustomerWrite", "CustomerPiiRead", "CustomerVerify", "CustomerExport",
    "AssignmentManage", "TaskWrite", "TicketManage", "ReportWrite", "KycAdmin", "ChangelogPost"],
  kyc_reviewer: ["ClientProfileReadOnly", "KycReview"],
  kyc_senior: ["ClientProfileReadOnly", "KycReview", "KycSecondReview", "KycAdmin"],
  operator: ["Operator", "ChangelogPost"],
  auditor: ["ClientProfileReadOnly"],
};
