// Audit service: the audit log of every service's records (filters, keyset pages), its CSV export and the
// hash chain's check. Needs AuditRead (the auditor, the admin).
import { auditApi, gatewayFetch } from "../api/clients";
import type { components, operations } from "../api/audit";

export type AuditRecord = components["schemas"]["AuditRecordView"];
export type AuditPage = components["schemas"]["AuditRecordPage"];
export type ChainVerdict = components["schemas"]["ChainVerdict"];
export type AuditQuery = NonNullable<operations["records_audit_records_get"]["parameters"]["query"]>;
export type AuditFilters = Omit<AuditQuery, "cursor" | "limit">;

export const OUTCOMES = ["allowed", "denied", "failed"] as const;
export const KINDS = ["write", "pii_read", "export", "refusal", "sign_in"] as const;

function defined(q: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== null && v !== undefined && v !== ""));
}

export async function listAuditRecords(q: AuditQuery, signal?: AbortSignal): Promise<AuditPage> {
  const { data } = await auditApi.GET("/audit/records", { params: { query: defined(q) as AuditQuery }, signal });
  return data as AuditPage;
}

export async function verifyChain(signal?: AbortSignal): Promise<ChainVerdict> {
  const { data } = await auditApi.GET("/audit/verify", { signal });
  return data as ChainVerdict;
}

/** The export's query string: the same filters as the list. */
export function exportPath(f: AuditFilters): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(defined(f as Record<string, unknown>))) params.set(k, String(v));
  const qs = params.toString();
  return `/audit/records/export${qs ? `?${qs}` : ""}`;
}

export async function exportAuditRecords(f: AuditFilters, signal?: AbortSignal): Promise<Blob> {
  const res = await gatewayFetch("audit", exportPath(f), { signal });
  return res.blob();
}
