// User CRM service (seed 003): the user management panel (profile completion, access, actions as requests
// to the platform with maker-checker approvals), the information tabs, and the Accounts / Allocations /
// Statement reports. Called through the gateway until the generated client (make web-clients) carries it.
import { gatewayFetch } from "../api/clients";
import type { Page } from "./models";

export interface Owner { manager_id: string; team_id: string | null; since: string | null }
export interface Profile {
  customer_id: string; completion_pct: number; missing: string[]; social_links: Record<string, string>;
  /** blocked or not; `level`: the admin access level the platform last confirmed (null: never changed by the CRM) */
  access: { blocked: boolean; since: string | null; level?: string | null };
  /** the client/lead owner: the CRM account manager the customer is assigned to */
  owner?: Owner | null;
}
export interface UserRequest {
  request_id: string; customer_id: string; action: string; state: string; needs_approval: boolean; requested_by: string;
  requested_role: string | null; requested_at: string; reason: string | null; approved_by: string | null; decided_at: string | null;
  amount: string | null; currency: string | null; summary: Record<string, unknown>; result: Record<string, unknown>;
  failure_code: string | null; failure_reason: string | null; done_at: string | null;
}
export interface Template { template_id: string; [k: string]: unknown }
export interface Account { account_id: string; account_type: string; currency: string; balance: string | null; cash: string | null; balance_as_of: string | null; opened_at: string | null; closed_at: string | null; status: string }
export interface Allocation { allocation_id: string; account_id: string; fund_id: string; fund_name: string | null; currency: string; started_at: string; stopped_at: string | null; value: string | null; performance_pct: string | null; amount: string; status: string }
export interface StatementEntry { entry_id: string; at: string; account_id: string; kind: string; amount: string; currency: string; symbol: string | null; side: string | null; quantity: string | null; price: string | null; reference: string; description: string | null }

/** The information tabs, in order (each one's permission: `usercrm.tab.<tab>` in auth/catalogue.ts). */
export const INFO_TABS = ["general", "personal", "financial_status", "financial_experience", "banking", "compliance", "logs"] as const;
export type InfoTab = (typeof INFO_TABS)[number];
export const STATEMENT_KINDS = ["trade", "deposit", "withdrawal", "charge", "allocation"] as const;

const base = (id: string) => `/usercrm/customers/${encodeURIComponent(id)}`;
const qs = (o: Record<string, unknown>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) {
    if (v === null || v === undefined || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => p.append(k, String(x)));
    else p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : "";
};
async function json<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await gatewayFetch("usercrm", path, init);
  return (res.status === 204 ? undefined : await res.json()) as T;
}
const send = (method: "POST" | "PUT") => <T>(path: string, body?: unknown) => json<T>(path, {
  method, headers: { "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID?.() ?? String(Date.now()) },
  body: body === undefined ? undefined : JSON.stringify(body),
});
const post = send("POST");
const put = send("PUT");

export const profile = (id: string, signal?: AbortSignal) => json<Profile>(`${base(id)}/profile`, { signal });
export const infoTab = (id: string, tab: InfoTab, signal?: AbortSignal) =>
  json<{ data: unknown; items?: unknown[] }>(`${base(id)}/info/${tab}`, { signal });
export const requests = (id: string, signal?: AbortSignal) => json<Page<UserRequest>>(`/usercrm/customers/${encodeURIComponent(id)}/requests?limit=50`, { signal });
export const approvals = (signal?: AbortSignal) => json<Page<UserRequest>>("/usercrm/approvals?limit=100", { signal });
export const templates = (signal?: AbortSignal) => json<{ items: Template[] }>("/usercrm/message-templates", { signal });
export const accounts = (id: string, q: string | null, signal?: AbortSignal) => json<{ items: Account[] }>(`/usercrm/customers/${encodeURIComponent(id)}/accounts${qs({ q })}`, { signal });
export const allocations = (id: string, status: "active" | "inactive", q: string | null, signal?: AbortSignal, accountId: string | null = null) =>
  json<{ items: Allocation[] }>(`/usercrm/customers/${encodeURIComponent(id)}/allocations${qs({ status, q, account_id: accountId })}`, { signal });
export const statement = (id: string, f: { account_id?: string | null; kind?: string[]; since?: string | null; until?: string | null; q?: string | null; cursor?: string | null; limit?: number }, signal?: AbortSignal) =>
  json<Page<StatementEntry>>(`/usercrm/customers/${encodeURIComponent(id)}/statement${qs(f)}`, { signal });
export const statementCsv = (id: string, f: { account_id?: string | null; kind?: string[]; since?: string | null; until?: string | null; q?: string | null }) =>
  gatewayFetch("usercrm", `/usercrm/customers/${encodeURIComponent(id)}/statement.csv${qs(f)}`);

export const sendMessage = (id: string, channel: string, templateId: string, variables: Record<string, string>) =>
  post<UserRequest>(`${base(id)}/messages`, { channel, template_id: templateId, variables });
export const block = (id: string, reason: string) => post<UserRequest>(`${base(id)}/block`, { reason });
export const unblock = (id: string, reason: string) => post<UserRequest>(`${base(id)}/unblock`, { reason });
export const resetPassword = (id: string) => post<UserRequest>(`${base(id)}/password-reset`);
export const addAccount = (id: string, accountType: string, currency: string) => post<UserRequest>(`${base(id)}/accounts`, { account_type: accountType, currency });
export const moveMoney = (id: string, accountId: string, kind: "deposits" | "withdrawals", amount: string, currency: string) =>
  post<UserRequest>(`${base(id)}/accounts/${encodeURIComponent(accountId)}/${kind}`, { amount, currency });
export const startAllocation = (id: string, body: { account_id: string; fund_id: string; amount: string; currency: string }) => post<UserRequest>(`${base(id)}/allocations`, body);
export const allocationDeposit = (id: string, allocationId: string, amount: string, currency: string) =>
  post<UserRequest>(`${base(id)}/allocations/${encodeURIComponent(allocationId)}/deposits`, { amount, currency });
export interface Fund { fund_id: string; name: string | null; strategy: string | null; manager_name: string | null; currency: string | null; performance_pct: string | null; as_of: string | null; [k: string]: unknown }
export const fund = (fundId: string, signal?: AbortSignal) => json<Fund>(`/usercrm/funds/${encodeURIComponent(fundId)}`, { signal });
export const fundAllocations = (fundId: string, status: "active" | "inactive", signal?: AbortSignal) =>
  json<{ items: (Allocation & { customer_id: string })[] }>(`/usercrm/funds/${encodeURIComponent(fundId)}/allocations${qs({ status })}`, { signal });
export const stopAllocation = (id: string, allocationId: string) => post<UserRequest>(`${base(id)}/allocations/${encodeURIComponent(allocationId)}/stop`);
/** The sections of the user's information a change request may carry (one per request). */
export const INFO_SECTIONS = ["general", "personal", "financial_status", "financial_experience", "bank_account"] as const;
export type InfoSection = (typeof INFO_SECTIONS)[number];
export const changeInfo = (id: string, section: InfoSection, values: Record<string, unknown>) =>
  post<UserRequest>(`${base(id)}/change-requests`, { [section]: values });
export const editSocialLinks = (id: string, links: Record<string, string>) => put<UserRequest>(`${base(id)}/social-links`, { links });
/** The admin access levels the platform grants (shared/events/crm_usercrm.py AccessLevel). */
export const ACCESS_LEVELS = ["none", "read_only", "support", "manager", "admin"] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];
export const changeOwner = (id: string, ownerId: string, reason: string) => post<UserRequest>(`${base(id)}/owner`, { owner_id: ownerId, reason });
export const changeAccessLevel = (id: string, level: AccessLevel, reason: string) => post<UserRequest>(`${base(id)}/access-level`, { access_level: level, reason });
export const approve = (requestId: string) => post<UserRequest>(`/usercrm/requests/${encodeURIComponent(requestId)}/approve`, {});
export const decline = (requestId: string, note: string | null) => post<UserRequest>(`/usercrm/requests/${encodeURIComponent(requestId)}/decline`, { note });
/** The customer's message requests only (action=send_message), newest first, one page after `cursor`. */
export const messages = (id: string, cursor: string | null, signal?: AbortSignal) =>
  json<Page<UserRequest>>(`${base(id)}/requests${qs({ action: "send_message", limit: 20, cursor })}`, { signal });
