// The wealth calendar (customer service, issue #18): the caller's customers' upcoming IPO windows, corporate
// actions on what they hold and maturities (GET /calendar, data scope as the Customer List, keyset pages), one
// customer's calendar and holdings (GET /customers/{id}/calendar; the drawer reads them from the 360).
import type { components } from "../api/customer";
import { customerApi } from "../api/clients";

export type CalendarItem = components["schemas"]["CalendarItem"];
export type ManagerCalendar = components["schemas"]["ManagerCalendar"];
export const EVENT_KINDS = ["ipo_opens", "ipo_closes", "ipo_listing", "corporate_action", "maturity"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface CalendarQuery {
  from: string;
  to: string;
  kind?: EventKind[];
  manager_id?: string | null;
  cursor?: string | null;
  limit?: number;
}

export async function wealthCalendar(q: CalendarQuery, signal?: AbortSignal): Promise<ManagerCalendar> {
  const query = {
    from: q.from, to: q.to, limit: q.limit ?? 100,
    ...(q.kind && q.kind.length ? { kind: q.kind } : {}),
    ...(q.manager_id ? { manager_id: q.manager_id } : {}),
    ...(q.cursor ? { cursor: q.cursor } : {}),
  };
  const { data } = await customerApi.GET("/calendar", { params: { query }, signal });
  return data as ManagerCalendar;
}
