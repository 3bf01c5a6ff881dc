// Customer service (customer pool): typed calls over the generated client.
import type { components, operations } from "../api/customer";
import { customerApi, gatewayFetch } from "../api/clients";
import type { CustomerDetail, CustomerItem, Page, StageCounts, TextEntry } from "./models";

export type ListQuery = NonNullable<operations["list_customers_customers_get"]["parameters"]["query"]>;
export type FilterQuery = Omit<ListQuery, "cursor" | "limit" | "sort" | "order">;

export async function listCustomers(query: ListQuery, signal?: AbortSignal): Promise<Page<CustomerItem>> {
  const { data } = await customerApi.GET("/customers", { params: { query }, signal });
  return data as unknown as Page<CustomerItem>;
}

export async function stageCounts(query: FilterQuery, signal?: AbortSignal): Promise<StageCounts> {
  const { data } = await customerApi.GET("/customers/counts", { params: { query }, signal });
  return data as unknown as StageCounts;
}

export async function getCustomer(id: string, asOf?: string | null, signal?: AbortSignal): Promise<CustomerDetail> {
  const { data } = await customerApi.GET("/customers/{customer_id}", {
    params: { path: { customer_id: id }, query: asOf ? { as_of: asOf } : {} },
    signal,
  });
  return data as unknown as CustomerDetail;
}

/** The drawer's one call: the current detail (`profile`) and the service history, remarks and tags. */
export type Customer360 = Omit<components["schemas"]["Customer360"], "profile"> & { profile: CustomerDetail };

export async function getCustomer360(id: string, signal?: AbortSignal): Promise<Customer360> {
  const { data } = await customerApi.GET("/customers/{customer_id}/360", { params: { path: { customer_id: id } }, signal });
  return data as unknown as Customer360;
}

export type AssetSeries = components["schemas"]["AssetSeries"];

/** The customer's and its accounts' end-of-day values per day (brokerage days, carried forward). */
export async function assetSeries(id: string, from: string | null, signal?: AbortSignal): Promise<AssetSeries> {
  const { data } = await customerApi.GET("/customers/{customer_id}/assets/daily", {
    params: { path: { customer_id: id }, query: from ? { from } : {} },
    signal,
  });
  return data as AssetSeries;
}

export async function listRemarks(id: string): Promise<TextEntry[]> {
  const { data } = await customerApi.GET("/customers/{customer_id}/remarks", { params: { path: { customer_id: id } } });
  return (data as unknown as { items: TextEntry[] }).items;
}

export async function addRemark(id: string, text: string): Promise<void> {
  await customerApi.POST("/customers/{customer_id}/remarks", { params: { path: { customer_id: id } }, body: { text } });
}

export async function listNotes(id: string): Promise<TextEntry[]> {
  const { data } = await customerApi.GET("/customers/{customer_id}/notes", { params: { path: { customer_id: id } } });
  return (data as unknown as { items: TextEntry[] }).items;
}

export async function addNote(id: string, text: string): Promise<void> {
  await customerApi.POST("/customers/{customer_id}/notes", { params: { path: { customer_id: id } }, body: { text } });
}

export async function batchRemark(customerIds: string[], text: string): Promise<void> {
  await customerApi.POST("/customer-batches/remarks", { body: { customer_ids: customerIds, text } });
}

export async function batchTags(customerIds: string[], add: string[], remove: string[]): Promise<void> {
  await customerApi.POST("/customer-batches/tags", { body: { customer_ids: customerIds, add, remove } });
}

/** CSV export, streamed: reports the rows received so far; the file is offered as a download at the end. */
export async function exportCustomers(
  query: FilterQuery & Pick<ListQuery, "sort" | "order">,
  onRows: (rows: number) => void,
  signal?: AbortSignal,
): Promise<Blob> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v == null || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => params.append(k, String(x)));
    else params.set(k, String(v));
  }
  const res = await gatewayFetch("customer", `/customers/export?${params}`, { signal });
  const reader = res.body?.getReader();
  if (!reader) return res.blob();
  const chunks: Uint8Array[] = [];
  let newlines = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    for (const b of value) if (b === 10) newlines++;
    onRows(Math.max(0, newlines - 1));
  }
  return new Blob(chunks as BlobPart[], { type: "text/csv" });
}

export type Segment = components["schemas"]["SegmentOut"];

/** Saved segments (customer groups) with their counts in the caller's scope. */
export async function listSegments(signal?: AbortSignal): Promise<Segment[]> {
  const { data } = await customerApi.GET("/customers/segments", { signal });
  return (data as unknown as { items: Segment[] }).items;
}

/** Saves the list's current filters as a dynamic segment. */
export async function saveFilterAsSegment(name: string, filter: FilterQuery): Promise<Segment> {
  const { data } = await customerApi.POST("/customers/segments", {
    body: { name, kind: "dynamic", filter: filter as never, customer_ids: [] },
  });
  return data as unknown as Segment;
}

/** Saves chosen customers as a static segment. */
export async function saveStaticSegment(name: string, customerIds: string[]): Promise<Segment> {
  const { data } = await customerApi.POST("/customers/segments", { body: { name, kind: "static", customer_ids: customerIds } });
  return data as unknown as Segment;
}

export async function deleteSegment(segmentId: string): Promise<void> {
  await customerApi.DELETE("/customers/segments/{segment_id}", { params: { path: { segment_id: segmentId } } });
}

export type BandList = components["schemas"]["BandList"];

/** The asset bands the `asset_band` / `ada_band` filters take (the brokerage's configuration, in its currency). */
export async function listBands(signal?: AbortSignal): Promise<BandList> {
  const { data } = await customerApi.GET("/customers/bands", { signal });
  return data as unknown as BandList;
}
