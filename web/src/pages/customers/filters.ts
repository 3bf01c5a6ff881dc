// The Customer List's filters live in the URL (shareable, back/forward work): parse, serialise, and turn
// them into the customer service's list query. Pure functions, tested in filters.test.ts.
import dayjs from "dayjs";
import type { FilterQuery, ListQuery } from "../../services/customers";
import { ACCOUNT_STATUSES, CHANNELS, RISK_RATINGS, STAGES, VERIFICATION_STATUSES, type AccountStatus, type Channel, type RiskRating, type Stage, type VerificationStatus } from "../../services/models";

export type SortKey = NonNullable<ListQuery["sort"]>;
export const SORTS: SortKey[] = ["registered_at", "assets", "last_activity", "ada30"];
export const PAGE_SIZES = [20, 50, 100, 200] as const;

export interface CustomerFilters {
  q?: string;
  stage: Stage[];
  user_region: string[];
  active_region: string[];
  channel: Channel[];
  verification_status: VerificationStatus[];
  account_status: AccountStatus[];
  risk_rating: RiskRating[];
  tag: string[];
  /** keys of `GET /customers/bands` (total assets / ADA over 30 days in one of these bands) */
  asset_band: string[];
  ada_band: string[];
  manager_id?: string;
  team_id?: string;
  unassigned?: boolean;
  referrer_customer_id?: string;
  /** a saved segment's id (its customers, with the other filters) */
  segment?: string;
  /** local dates YYYY-MM-DD, inclusive */
  registered_from?: string;
  registered_to?: string;
  assets_currency?: string;
  assets_min?: string;
  assets_max?: string;
  deposit_currency?: string;
  deposit_min?: string;
  deposit_max?: string;
  /** whole years, from the date of birth (the API asks CustomerPiiRead for these) */
  age_min?: string;
  age_max?: string;
  /** holds this security in some account (e.g. 0700.HK) */
  holds?: string;
  sort: SortKey;
  order: "asc" | "desc";
  limit: number;
}

export const DEFAULT_FILTERS: CustomerFilters = {
  stage: [], user_region: [], active_region: [], channel: [], verification_status: [], account_status: [], risk_rating: [], tag: [], asset_band: [], ada_band: [],
  sort: "registered_at", order: "desc", limit: 50,
};

const LISTS = ["stage", "user_region", "active_region", "channel", "verification_status", "account_status", "risk_rating", "tag",
  "asset_band", "ada_band"] as const;
const TEXTS = ["q", "manager_id", "team_id", "referrer_customer_id", "segment", "registered_from", "registered_to",
  "assets_currency", "assets_min", "assets_max", "deposit_currency", "deposit_min", "deposit_max", "age_min", "age_max", "holds"] as const;
/** the filters passed to the API as they are (dates and ages are converted) */
const AS_IS = ["q", "manager_id", "team_id", "referrer_customer_id", "segment", "assets_currency", "assets_min", "assets_max",
  "deposit_currency", "deposit_min", "deposit_max", "holds"] as const;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const AGE = /^\d{1,3}$/;
const BAND = /^[0-9.]{1,20}-[0-9.]{0,20}$/;
const SECURITY = /^[A-Za-z0-9_\-.:]{1,32}$/;

function oneOf<T extends string>(values: readonly T[], v: string): v is T {
  return (values as readonly string[]).includes(v);
}

/** URL → filters. Unknown values are dropped (a stale link never breaks the page). */
export function parseFilters(params: URLSearchParams): CustomerFilters {
  const f: CustomerFilters = { ...DEFAULT_FILTERS, stage: [], user_region: [], active_region: [], channel: [], verification_status: [], account_status: [], risk_rating: [], tag: [], asset_band: [], ada_band: [] };
  f.stage = params.getAll("stage").filter((v) => oneOf(STAGES, v)) as Stage[];
  f.channel = params.getAll("channel").filter((v) => oneOf(CHANNELS, v)) as Channel[];
  f.verification_status = params.getAll("verification_status").filter((v) => oneOf(VERIFICATION_STATUSES, v)) as VerificationStatus[];
  f.account_status = params.getAll("account_status").filter((v) => oneOf(ACCOUNT_STATUSES, v)) as AccountStatus[];
  f.risk_rating = params.getAll("risk_rating").filter((v) => oneOf(RISK_RATINGS, v)) as RiskRating[];
  f.user_region = params.getAll("user_region").map((v) => v.toUpperCase()).filter((v) => /^[A-Z]{2}$/.test(v));
  f.active_region = params.getAll("active_region").map((v) => v.toUpperCase()).filter((v) => /^[A-Z]{2}$/.test(v));
  f.tag = params.getAll("tag").filter((v) => v.trim() !== "");
  f.asset_band = params.getAll("asset_band").filter((v) => BAND.test(v));
  f.ada_band = params.getAll("ada_band").filter((v) => BAND.test(v));
  for (const k of TEXTS) {
    const v = params.get(k)?.trim();
    if (!v) continue;
    if ((k === "registered_from" || k === "registered_to") && !DATE.test(v)) continue;
    if ((k === "age_min" || k === "age_max") && !(AGE.test(v) && Number(v) <= 150)) continue;
    if (k === "holds" && !SECURITY.test(v)) continue;
    f[k] = v;
  }
  const unassigned = params.get("unassigned");
  if (unassigned === "true" || unassigned === "false") f.unassigned = unassigned === "true";
  const sort = params.get("sort");
  if (sort && oneOf(SORTS, sort)) f.sort = sort;
  const order = params.get("order");
  if (order === "asc" || order === "desc") f.order = order;
  const limit = Number(params.get("limit"));
  if ((PAGE_SIZES as readonly number[]).includes(limit)) f.limit = limit;
  return f;
}

/** filters → URL (defaults left out, so the plain list has a plain URL). */
export function filtersToParams(f: CustomerFilters): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of LISTS) for (const v of f[k]) p.append(k, v);
  for (const k of TEXTS) {
    const v = f[k];
    if (v) p.set(k, v);
  }
  if (f.unassigned !== undefined) p.set("unassigned", String(f.unassigned));
  if (f.sort !== DEFAULT_FILTERS.sort) p.set("sort", f.sort);
  if (f.order !== DEFAULT_FILTERS.order) p.set("order", f.order);
  if (f.limit !== DEFAULT_FILTERS.limit) p.set("limit", String(f.limit));
  return p;
}

/** How many filters narrow the list (search and sort excluded). */
export function activeFilterCount(f: CustomerFilters): number {
  return LISTS.filter((k) => f[k].length > 0).length
    + TEXTS.filter((k) => k !== "q" && !!f[k]).length
    + (f.unassigned !== undefined ? 1 : 0);
}

/** filters → the API's filter query (dates as local-midnight instants; `to` is inclusive in the UI). */
export function toFilterQuery(f: CustomerFilters): FilterQuery {
  const q: FilterQuery = {};
  for (const k of LISTS) if (f[k].length) (q as Record<string, unknown>)[k] = f[k];
  for (const k of AS_IS) {
    if (f[k]) (q as Record<string, unknown>)[k] = f[k];
  }
  if (f.age_min) q.age_min = Number(f.age_min);
  if (f.age_max) q.age_max = Number(f.age_max);
  if (f.registered_from) q.registered_from = dayjs(f.registered_from).startOf("day").toISOString();
  if (f.registered_to) q.registered_to = dayjs(f.registered_to).add(1, "day").startOf("day").toISOString();
  if (f.unassigned !== undefined) q.unassigned = f.unassigned;
  return q;
}

export function toListQuery(f: CustomerFilters, cursor: string | null): ListQuery {
  return { ...toFilterQuery(f), sort: f.sort, order: f.order, limit: f.limit, ...(cursor ? { cursor } : {}) };
}
