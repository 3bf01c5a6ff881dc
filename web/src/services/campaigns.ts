// Campaigns service: plan (create, edit, audience preview), peer review, start, history and targets.
import { campaignsApi, gatewayFetch } from "../api/clients";
import { ApiError } from "../api/problem";
import type { components } from "../api/campaigns";

type S = components["schemas"];
export type Campaign = S["CampaignView"];
export type CampaignItem = S["CampaignItem"];
export type CampaignPage = S["CampaignPage"];
export type Plan = S["PlanBody"];
export type Audience = S["AudienceBody"];
export type AudiencePreview = S["AudiencePreview"];
export type HistoryEntry = S["HistoryEntry"];
export type CampaignStatus = Campaign["status"];
export type Target = S["TargetItem"];
export type TargetPage = S["TargetPage"];
export type ExecutionCounts = S["ExecutionCounts"];
export const TARGET_STATUSES = ["targeted", "contacted", "reached", "interested", "declined", "converted"] as const;

export const STATUSES: CampaignStatus[] = ["draft", "in_review", "approved", "rejected", "running", "closed"];
export const DISTRIBUTIONS = ["assigned_manager", "team_queue", "round_robin", "least_loaded"] as const;
export const CHANNELS = ["phone", "sms", "email", "in_app"] as const;
export const METRICS = ["account_opened", "funded", "first_trade", "incremental_assets", "net_deposits"] as const;
export const STAGES = ["registered", "pending_account_opening", "pending_funding", "funded", "traded"] as const;

export async function listCampaigns(q: { status?: CampaignStatus | null; cursor?: string | null }, signal?: AbortSignal): Promise<CampaignPage> {
  const query = { limit: 50, ...(q.status ? { status: q.status } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) };
  const { data } = await campaignsApi.GET("/campaigns", { params: { query }, signal });
  return data as CampaignPage;
}

const path = (id: string) => ({ params: { path: { campaign_id: id } } });

export async function getCampaign(id: string, signal?: AbortSignal): Promise<Campaign> {
  const { data } = await campaignsApi.GET("/campaigns/{campaign_id}", { ...path(id), signal });
  return data as Campaign;
}

export async function campaignHistory(id: string, signal?: AbortSignal): Promise<HistoryEntry[]> {
  const { data } = await campaignsApi.GET("/campaigns/{campaign_id}/history", { ...path(id), signal });
  return (data as S["History"]).items;
}

export async function previewAudience(audience: Audience): Promise<AudiencePreview> {
  const { data } = await campaignsApi.POST("/campaigns/audience/preview", { body: audience });
  return data as AudiencePreview;
}

export async function createCampaign(plan: Plan): Promise<Campaign> {
  const { data } = await campaignsApi.POST("/campaigns", { body: plan });
  return data as Campaign;
}

export async function submitCampaign(id: string): Promise<Campaign> {
  const { data } = await campaignsApi.POST("/campaigns/{campaign_id}/submit", path(id));
  return data as Campaign;
}

export async function reviewCampaign(id: string, decision: "approve" | "reject", comment: string | null): Promise<Campaign> {
  const { data } = await campaignsApi.POST("/campaigns/{campaign_id}/review", { ...path(id), body: { decision, comment } });
  return data as Campaign;
}

export async function startCampaign(id: string): Promise<Campaign> {
  const { data } = await campaignsApi.POST("/campaigns/{campaign_id}/start", path(id));
  return data as Campaign;
}

/** A started campaign's targets with their execution status and each channel's delivery (keyset pages). */
export async function campaignTargets(id: string, cursor: string | null, signal?: AbortSignal): Promise<TargetPage> {
  const query = { limit: 50, ...(cursor ? { cursor } : {}) };
  const { data } = await campaignsApi.GET("/campaigns/{campaign_id}/targets", { ...path(id), params: { ...path(id).params, query }, signal });
  return data as TargetPage;
}

/** The campaign's whole audit log (its steps, the facts about its targets) as CSV. */
export async function exportCampaignLog(id: string, signal?: AbortSignal): Promise<Blob> {
  const res = await gatewayFetch("campaigns", `/campaigns/${encodeURIComponent(id)}/log.csv`, { signal });
  return res.blob();
}

// ------------------------------------------------------------------------------------------ evaluation
export type Indicators = S["Indicators"];

/** The campaign's last computed indicators; null while none were computed (404). */
export async function getIndicators(id: string, signal?: AbortSignal): Promise<Indicators | null> {
  try {
    const { data } = await campaignsApi.GET("/campaigns/{campaign_id}/indicators", { ...path(id), signal });
    return data as Indicators;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export async function refreshIndicators(id: string): Promise<Indicators> {
  const { data } = await campaignsApi.POST("/campaigns/{campaign_id}/indicators/refresh", path(id));
  return data as Indicators;
}

export async function recordCost(id: string, amount: string, currency: string, note: string | null): Promise<Campaign> {
  const { data } = await campaignsApi.PUT("/campaigns/{campaign_id}/cost", { ...path(id), body: { amount, currency, note } });
  return data as Campaign;
}

/** The indicators (and their groups by manager, team and segment) as a CSV file. */
export async function indicatorsCsv(id: string): Promise<Blob> {
  const res = await gatewayFetch("campaigns", `/campaigns/${encodeURIComponent(id)}/indicators.csv`);
  return res.blob();
}

export type Report = S["Report"];
export type ReportDimension = "manager" | "team" | "channel" | "segment";
export const REPORT_DIMENSIONS: ReportDimension[] = ["manager", "team", "channel", "segment"];

/** The indicators of the campaigns the caller sees, summed by manager, team, channel or segment. */
export async function campaignReport(dimension: ReportDimension, signal?: AbortSignal): Promise<Report> {
  const { data } = await campaignsApi.GET("/campaigns/reports", { params: { query: { dimension } }, signal });
  return data as Report;
}

/** Campaigns side by side (each one's indicators). */
export async function compareCampaigns(ids: string[], signal?: AbortSignal): Promise<Indicators[]> {
  const { data } = await campaignsApi.GET("/campaigns/compare", { params: { query: { ids: ids.join(",") } }, signal });
  return data as Indicators[];
}

/** A report (`reports.csv?dimension=`) or a comparison (`compare.csv?ids=`) as a CSV file. */
export async function evaluationCsv(what: { dimension: ReportDimension } | { ids: string[] }): Promise<Blob> {
  const query = "dimension" in what ? `reports.csv?dimension=${what.dimension}` : `compare.csv?ids=${what.ids.join(",")}`;
  const res = await gatewayFetch("campaigns", `/campaigns/${query}`);
  return res.blob();
}
