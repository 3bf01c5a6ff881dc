// Summary service: the home dashboard (node counts, account opening, shortcuts, changelog).
import { summaryApi } from "../api/clients";
import { ApiError } from "../api/problem";
import type { components } from "../api/summary";
import type { AccountOpening, ChangelogEntry, NodeCounts, Page, Shortcuts } from "./models";

/** The brokerage's calendar now (SUMMARY_TIMEZONE): "today" for every count the summary service makes. */
export type BrokerageDay = components["schemas"]["BrokerageDay"];

export async function brokerageDay(signal?: AbortSignal): Promise<BrokerageDay> {
  const { data } = await summaryApi.GET("/summary/day", { signal });
  return data as BrokerageDay;
}

export async function nodeCounts(): Promise<NodeCounts> {
  const { data } = await summaryApi.GET("/dashboard/nodes", {});
  return data as unknown as NodeCounts;
}

export async function accountOpening(from: string, to: string): Promise<AccountOpening> {
  const { data } = await summaryApi.GET("/dashboard/account-opening", { params: { query: { from, to } } });
  return data as unknown as AccountOpening;
}

export async function shortcuts(): Promise<Shortcuts> {
  const { data } = await summaryApi.GET("/dashboard/shortcuts", {});
  return data as unknown as Shortcuts;
}

export async function changelog(): Promise<Page<ChangelogEntry>> {
  const { data } = await summaryApi.GET("/dashboard/changelog", { params: { query: { limit: 10 } } });
  return data as unknown as Page<ChangelogEntry>;
}

// --- Today's Summary: customer progress, the daily follow-up list, my daily report ---
export const PROGRESS_METRICS = ["account_openings", "fundings", "registration_follow_ups", "pending_account_opening_follow_ups",
  "pending_funding_follow_ups", "funded_follow_ups", "campaign_follow_ups"] as const;
export type ProgressMetric = (typeof PROGRESS_METRICS)[number];
export interface MetricDays { today: number; yesterday: number; last_week: number; change_vs_yesterday: number; change_vs_last_week: number }
export interface TodaySummary {
  date: string;
  yesterday: string;
  last_week: string;
  timezone: string;
  metrics: Record<ProgressMetric, MetricDays>;
  managers: { manager_id: string; metrics: Record<ProgressMetric, Omit<MetricDays, "change_vs_yesterday" | "change_vs_last_week">> }[];
}
export interface DueItem {
  item_id: string;
  customer_id: string;
  source: string;
  node: string | null;
  stage: string | null;
  due_at: string;
  overdue: boolean;
  manager_id: string | null;
  team_id: string | null;
  intent: string | null;
  tags: string[];
  last_follow_up_at: string | null;
}
export interface DueFilter { node?: string | null; stage?: string | null; overdue?: boolean | null; tag?: string[]; intent?: string | null; customer_id?: string | null }
export interface DailyReport {
  report_id: string;
  manager_id: string;
  team_id: string | null;
  date: string;
  summary: string;
  next_plan: string | null;
  issues: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  updated_by: string | null;
}
export interface ReportVersion { version: number; action: "written" | "edited"; at: string; by: string | null; summary: string; next_plan: string | null; issues: string | null }
export interface ReportBody { summary: string; next_plan?: string | null; issues?: string | null; expected_version?: number | null }

const clean = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined && v !== "" && !(Array.isArray(v) && !v.length)));

export async function today(day: string, signal?: AbortSignal): Promise<TodaySummary> {
  const { data } = await summaryApi.GET("/summary/today", { params: { query: { date: day } }, signal });
  return data as unknown as TodaySummary;
}

export async function dueList(day: string, f: DueFilter, cursor: string | null, limit: number, signal?: AbortSignal): Promise<Page<DueItem>> {
  const { data } = await summaryApi.GET("/summary/follow-ups", {
    params: { query: { date: day, ...clean(f), ...(cursor ? { cursor } : {}), limit } as never }, signal,
  });
  return data as unknown as Page<DueItem>;
}

/** My report of a day, or null when none was written yet (the API answers 404). */
export async function myReport(day: string, signal?: AbortSignal): Promise<DailyReport | null> {
  try {
    const { data } = await summaryApi.GET("/summary/reports/{report_date}", { params: { path: { report_date: day } }, signal });
    return data as unknown as DailyReport;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export async function reportHistory(day: string, signal?: AbortSignal): Promise<ReportVersion[]> {
  const { data } = await summaryApi.GET("/summary/reports/{report_date}/history", { params: { path: { report_date: day } }, signal });
  return (data as unknown as { versions: ReportVersion[] }).versions;
}

export async function writeReport(day: string, body: ReportBody): Promise<DailyReport> {
  const { data } = await summaryApi.PUT("/summary/reports/{report_date}", { params: { path: { report_date: day } }, body: body as never });
  return data as unknown as DailyReport;
}

export async function teamReports(day: string, signal?: AbortSignal): Promise<Page<DailyReport>> {
  const { data } = await summaryApi.GET("/summary/reports", { params: { query: { date: day, limit: 200 } }, signal });
  return data as unknown as Page<DailyReport>;
}

// --- Analytics: the funnel and stage-to-stage conversion times ---
export const FUNNEL_STAGES = ["registered", "opened", "funded", "traded"] as const;
export const FUNNEL_STEPS = ["registered_to_opened", "opened_to_funded", "funded_to_traded"] as const;
export type GroupBy = "none" | "manager" | "team" | "cohort";
export interface FunnelStep { from: number; to: number; conversion_rate: number | null; median_seconds: number | null }
export interface FunnelPart { counts: Record<string, number>; steps: Record<string, FunnelStep>; overall_rate: number | null; registered_to_funded_rate: number | null }
export interface FunnelReport { from: string; to: string; timezone: string; group_by: GroupBy; total: FunnelPart; groups: (FunnelPart & { key: string | null })[] }

export async function funnel(from: string, to: string, groupBy: GroupBy, signal?: AbortSignal): Promise<FunnelReport> {
  const { data } = await summaryApi.GET("/analytics/funnel", { params: { query: { from, to, group_by: groupBy } }, signal });
  return data as unknown as FunnelReport;
}

/** Today's Summary by organisation level: a node (default the company) and one row per child node. */
export type Rollup = components["schemas"]["Rollup"];
export type RollupRow = components["schemas"]["RollupRow"];

export async function rollup(day: string, nodeId: string | null, signal?: AbortSignal): Promise<Rollup> {
  const { data } = await summaryApi.GET("/summary/rollup", { params: { query: { date: day, ...(nodeId ? { node_id: nodeId } : {}) } }, signal });
  return data as Rollup;
}
