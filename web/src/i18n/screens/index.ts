// The dictionaries of the screens after Home and Customer List, one file per screen, merged into en/zh.
import { tasksEn, tasksZh } from "./tasks";
import { dashboardEn, dashboardZh } from "./dashboard";
import { summaryEn, summaryZh } from "./summary";
import { kycEn, kycZh } from "./kyc";
import { managersEn, managersZh } from "./managers";
import { ticketsEn, ticketsZh } from "./tickets";
import { usercrmEn, usercrmZh } from "./usercrm";
import { usercrmEditEn, usercrmEditZh } from "./usercrmEdit";
import { usercrmManageEn, usercrmManageZh } from "./usercrmManage";
import { analyticsEn, analyticsZh } from "./analytics";
import { campaignsEn, campaignsZh } from "./campaigns";
import { wealthEn, wealthZh } from "./wealth";
import { matchesEn, matchesZh } from "./matches";
import { importsEn, importsZh } from "./imports";
import { auditEn, auditZh } from "./audit";
import { accessEn, accessZh } from "./access";
import { institutionsEn, institutionsZh } from "./institutions";
import { calendarEn, calendarZh } from "./calendar";

export const screensEn = {
  ...tasksEn,
  ...dashboardEn,
  ...summaryEn,
  ...kycEn,
  ...managersEn,
  ...ticketsEn,
  ...usercrmEn,
  ...usercrmEditEn,
  ...usercrmManageEn,
  ...analyticsEn,
  ...campaignsEn,
  ...wealthEn,
  ...matchesEn,
  ...importsEn,
  ...auditEn,
  ...accessEn,
  ...institutionsEn,
  ...calendarEn,
} as const;

export const screensZh: Record<keyof typeof screensEn, string> = {
  ...tasksZh,
  ...dashboardZh,
  ...summaryZh,
  ...kycZh,
  ...managersZh,
  ...ticketsZh,
  ...usercrmZh,
  ...usercrmEditZh,
  ...usercrmManageZh,
  ...analyticsZh,
  ...campaignsZh,
  ...wealthZh,
  ...matchesZh,
  ...importsZh,
  ...auditZh,
  ...accessZh,
  ...institutionsZh,
  ...calendarZh,
};
