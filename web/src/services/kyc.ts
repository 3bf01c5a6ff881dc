// KYC service: the review queue with SLA times, case review (claim/assign/release, per-document decisions,
// more information, submit, four-eyes second review), reasons and a customer's completion.
import { kycApi } from "../api/clients";
import type { Page } from "./models";

export const CASE_STATES = ["pending", "resubmitted", "in_review", "awaiting_second_review", "more_info_requested", "approved", "rejected"] as const;
export type CaseState = (typeof CASE_STATES)[number];
export const OPEN_STATES: CaseState[] = ["pending", "resubmitted", "in_review", "awaiting_second_review"];
export const QUEUE_STATES: CaseState[] = ["pending", "resubmitted"];

export interface QueueItem {
  case_id: string;
  customer_id: string;
  application_id: string;
  state: CaseState;
  high_risk: boolean;
  submission: number;
  documents_total: number;
  documents_pending: number;
  completion_pct: number;
  reviewer_id: string | null;
  first_reviewer_id: string | null;
  queued_at: string;
  claimed_at: string | null;
  age_seconds: number;
  time_in_queue_seconds: number;
  time_in_review_seconds: number;
  overdue: boolean;
}

export interface CaseDocument {
  document_id: string;
  kind: string;
  version: number;
  status: "pending" | "accepted" | "rejected" | "more_info_requested" | string;
  submission: number;
  reason_code: string | null;
  decided_by: string | null;
  uploaded_at: string | null;
  decided_at: string | null;
  storage_ref?: string;
  note?: string | null;
}

export interface CaseDetail {
  case_id: string;
  customer_id: string;
  application_id: string;
  application_ids: string[];
  account_type: string | null;
  state: CaseState;
  high_risk: boolean;
  four_eyes_required: boolean;
  submission: number;
  reviewer_id: string | null;
  first_reviewer_id: string | null;
  submitted_at: string | null;
  queued_at: string | null;
  claimed_at: string | null;
  completion_pct: number;
  documents: CaseDocument[];
  flagged_fields: string[];
  identity_verified: boolean;
  last_decision: { decision: string; by?: string; reasons?: string[]; note?: string | null; decided_at: string | null } | null;
  version: number;
  missing_documents: string[];
  risk_reasons?: string[];
  declarations?: Record<string, unknown>;
  id_issuing_country?: string | null;
  verified_id_country?: string | null;
}

export interface HistoryEntry { version: number; action: string; at: string | null; recorded_at: string | null; actor: string; [k: string]: unknown }
export interface Reason { code: string; label: string }

export interface QueueQuery {
  state?: CaseState[];
  reviewer?: string | null;
  high_risk?: boolean | null;
  overdue?: boolean | null;
  customer_id?: string | null;
  cursor?: string | null;
  limit?: number;
}

const clean = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined && v !== "" && !(Array.isArray(v) && !v.length)));

export async function queue(q: QueueQuery, signal?: AbortSignal): Promise<Page<QueueItem>> {
  const { data } = await kycApi.GET("/kyc/queue", { params: { query: clean(q) as never }, signal });
  return data as unknown as Page<QueueItem>;
}

export async function getCase(caseId: string, signal?: AbortSignal): Promise<CaseDetail> {
  const { data } = await kycApi.GET("/kyc/cases/{case_id}", { params: { path: { case_id: caseId } }, signal });
  return data as unknown as CaseDetail;
}

export async function caseHistory(caseId: string, signal?: AbortSignal): Promise<HistoryEntry[]> {
  const { data } = await kycApi.GET("/kyc/cases/{case_id}/history", { params: { path: { case_id: caseId } }, signal });
  return (data as unknown as { items: HistoryEntry[] }).items;
}

export async function reasons(signal?: AbortSignal): Promise<Reason[]> {
  const { data } = await kycApi.GET("/kyc/reasons", { signal });
  return (data as unknown as { items: Reason[] }).items;
}

const path = (caseId: string) => ({ params: { path: { case_id: caseId } } });

export async function claim(caseId: string): Promise<CaseDetail> {
  const { data } = await kycApi.POST("/kyc/cases/{case_id}/claim", path(caseId));
  return data as unknown as CaseDetail;
}

export async function assign(caseId: string, reviewerId: string): Promise<CaseDetail> {
  const { data } = await kycApi.POST("/kyc/cases/{case_id}/assign", { ...path(caseId), body: { reviewer_id: reviewerId } });
  return data as unknown as CaseDetail;
}

export async function release(caseId: string): Promise<CaseDetail> {
  const { data } = await kycApi.POST("/kyc/cases/{case_id}/release", path(caseId));
  return data as unknown as CaseDetail;
}

export type DocDecision = "accepted" | "rejected" | "more_info_requested";
export async function decideDocument(caseId: string, documentId: string, decision: DocDecision, reasonCode: string | null, note: string | null): Promise<CaseDetail> {
  const { data } = await kycApi.POST("/kyc/cases/{case_id}/documents/{document_id}/decision", {
    params: { path: { case_id: caseId, document_id: documentId } },
    body: { decision, reason_code: reasonCode, note },
  });
  return data as unknown as CaseDetail;
}

export async function requestInfo(caseId: string, body: { reasons: string[]; note?: string | null; document_ids?: string[]; fields?: string[] }): Promise<CaseDetail> {
  const { data } = await kycApi.POST("/kyc/cases/{case_id}/request-info", { ...path(caseId), body });
  return data as unknown as CaseDetail;
}

export async function submitReview(caseId: string, note: string | null): Promise<CaseDetail> {
  const { data } = await kycApi.POST("/kyc/cases/{case_id}/submit", { ...path(caseId), body: { note } });
  return data as unknown as CaseDetail;
}

export type SecondDecision = "approved" | "rejected" | "more_info_requested";
export async function secondReview(caseId: string, decision: SecondDecision, reasonCodes: string[], note: string | null): Promise<CaseDetail> {
  const { data } = await kycApi.POST("/kyc/cases/{case_id}/second-review", { ...path(caseId), body: { decision, reasons: reasonCodes, note } });
  return data as unknown as CaseDetail;
}
