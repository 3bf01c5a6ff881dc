// The screens after Home and Customer List (their own list, so the two lists rebase apart).
import { AuditOutlined, MergeCellsOutlined, CheckSquareOutlined, DashboardOutlined, LineChartOutlined, ApartmentOutlined, IdcardOutlined, CommentOutlined, SafetyCertificateOutlined, TagsOutlined, UserSwitchOutlined, FunnelPlotOutlined, NotificationOutlined, ImportOutlined } from "@ant-design/icons";
import { lazy } from "react";
import type { Screen } from "./routes";

export const SCREENS_MORE: Screen[] = [
  { path: "/tasks", labelKey: "menu.tasks", icon: <CheckSquareOutlined />, perm: "ClientProfileReadOnly", inMenu: true,
    page: lazy(() => import("../pages/tasks/TasksPage")) },
  { path: "/dashboard", labelKey: "menu.dashboard", icon: <DashboardOutlined />, perm: "ClientProfileReadOnly", inMenu: true,
    page: lazy(() => import("../pages/dashboard/MyDashboardPage")) },
  { path: "/summary", labelKey: "menu.summary", icon: <LineChartOutlined />, perm: "ClientProfileReadOnly", inMenu: true,
    page: lazy(() => import("../pages/summary/TodaySummaryPage")) },
  { path: "/kyc", labelKey: "menu.kyc", icon: <SafetyCertificateOutlined />, perm: "KycReview", anyPerm: ["KycReview", "KycSecondReview", "KycAdmin"], inMenu: true,
    page: lazy(() => import("../pages/kyc/KycQueuePage")) },
  { path: "/managers", labelKey: "menu.managers", icon: <IdcardOutlined />, perm: "ClientProfileReadOnly", inMenu: true,
    page: lazy(() => import("../pages/managers/ManagersPage")) },
  { path: "/rules", labelKey: "menu.rules", icon: <ApartmentOutlined />, perm: "ClientProfileReadOnly", anyPerm: ["ClientProfileReadOnly", "AssignmentManage"], inMenu: true,
    page: lazy(() => import("../pages/managers/TeamsRulesPage")) },
  { path: "/tickets", labelKey: "menu.tickets", icon: <TagsOutlined />, perm: "TicketManage", inMenu: true,
    page: lazy(() => import("../pages/tickets/TicketsPage")) },
  { path: "/comments", labelKey: "menu.comments", icon: <CommentOutlined />, perm: "TicketManage", inMenu: true,
    page: lazy(() => import("../pages/tickets/CommentsPage")) },
  { path: "/users", labelKey: "menu.usercrm", icon: <UserSwitchOutlined />, perm: "ClientProfileReadOnly", inMenu: true,
    page: lazy(() => import("../pages/usercrm/UserCrmPage")) },
  { path: "/analytics", labelKey: "menu.analytics", icon: <FunnelPlotOutlined />, perm: "ClientProfileReadOnly", inMenu: true,
    page: lazy(() => import("../pages/analytics/AnalyticsPage")) },
  { path: "/customer-matches", labelKey: "menu.matches", icon: <MergeCellsOutlined />, perm: "ClientProfileReadOnly", inMenu: true,
    page: lazy(() => import("../pages/customers/MatchReviewPage")) },
  { path: "/campaigns", labelKey: "menu.campaigns", icon: <NotificationOutlined />, perm: "CampaignRead", inMenu: true,
    page: lazy(() => import("../pages/campaigns/CampaignsPage")) },
  { path: "/imports", labelKey: "menu.imports", icon: <ImportOutlined />, perm: "CustomerImport", inMenu: true,
    page: lazy(() => import("../pages/imports/ImportsPage")) },
  { path: "/audit", labelKey: "menu.audit", icon: <AuditOutlined />, perm: "AuditRead", inMenu: true,
    page: lazy(() => import("../pages/audit/AuditLogPage")) },
];
