// Customer service: the match review queue (suspected duplicates side by side), merge / reject with a comment,
// unmerge. Types from the service's OpenAPI (make web-clients).
import type { components } from "../api/customer";
import { customerApi } from "../api/clients";

export type MatchItem = components["schemas"]["MatchItem"];
export type MatchSide = components["schemas"]["Side"];
export type MatchPage = components["schemas"]["MatchPage"];
export type MergeResult = components["schemas"]["MergeResult"];
export const MATCH_STATUSES = ["pending", "merged", "rejected", "unmerged"] as const;
export type MatchStatus = (typeof MATCH_STATUSES)[number];

export async function listMatches(status: MatchStatus, cursor: string | null, signal?: AbortSignal): Promise<MatchPage> {
  const { data } = await customerApi.GET("/customer-matches", {
    params: { query: { status, limit: 50, ...(cursor ? { cursor } : {}) } }, signal,
  });
  return data as MatchPage;
}

function pair(item: Pick<MatchItem, "customer_id" | "candidate_id">) {
  return { params: { path: { customer_id: item.customer_id, candidate_id: item.candidate_id } } };
}

export async function mergeMatch(item: MatchItem, comment: string | null): Promise<MergeResult> {
  const { data } = await customerApi.POST("/customer-matches/{customer_id}/{candidate_id}/merge",
    { ...pair(item), body: { comment } });
  return data as MergeResult;
}

export async function rejectMatch(item: MatchItem, comment: string | null): Promise<void> {
  await customerApi.POST("/customer-matches/{customer_id}/{candidate_id}/reject", { ...pair(item), body: { comment } });
}

export async function unmergeCustomer(customerId: string, comment: string | null): Promise<MergeResult> {
  const { data } = await customerApi.POST("/customers/{customer_id}/unmerge",
    { params: { path: { customer_id: customerId } }, body: { comment } });
  return data as MergeResult;
}
