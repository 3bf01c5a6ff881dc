// The Customer List's two requests as query options, shared by the page and by the route's prefetch, which
// starts them from the URL alone while the page's chunk is still loading (bench/bench_console.py: the list's
// request used to start only once the whole page had rendered its first, empty frame).
import { queryOptions, type QueryClient } from "@tanstack/react-query";
import { listCustomers, stageCounts, type FilterQuery, type ListQuery } from "../../services/customers";
import { parseFilters, toFilterQuery, toListQuery, type CustomerFilters } from "./filters";

export const customerListQuery = (query: ListQuery) => queryOptions({
  queryKey: ["customers", "list", query],
  queryFn: ({ signal }) => listCustomers(query, signal),
});

export const stageCountsQuery = (query: FilterQuery) => queryOptions({
  queryKey: ["customers", "counts", query],
  queryFn: ({ signal }) => stageCounts(query, signal),
});

/** The cards count every stage of the other filters. */
export const countsFilter = (f: CustomerFilters): FilterQuery => toFilterQuery({ ...f, stage: [] });

/** Starts the page's requests for a URL (a no-op for those already fresh or in flight). */
export function prefetchCustomerList(qc: QueryClient, params: URLSearchParams): void {
  const f = parseFilters(params);
  void qc.prefetchQuery(customerListQuery(toListQuery(f, params.get("cursor"))));
  void qc.prefetchQuery(stageCountsQuery(countsFilter(f)));
}
