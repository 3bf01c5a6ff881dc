import { useCallback, useMemo, useRef } from "react";
import { useSearchParams } from "react-router";
import { useAuth } from "../../auth/AuthProvider";
import { filtersToParams, parseFilters, type CustomerFilters } from "./filters";

/** Params that are not filters and survive a filter change (the open drawer). */
const KEEP = ["customer", "as_of", "tab"];
/** Params that are not filters at all: a new page or an opened drawer keeps the same filters object. */
const NOT_FILTERS = new Set([...KEEP, "cursor"]);

/** The filters in the URL, and a setter. Both keep their identity while the filters do not change (a next
 * page or an opened drawer re-renders neither the filters bar nor the cards: bench/bench_console.py). */
export function useCustomerFilters(): [CustomerFilters, (f: CustomerFilters) => void] {
  const [params, setParams] = useSearchParams();
  const pii = useAuth().can("CustomerPiiRead");
  const key = [...params].filter(([k]) => !NOT_FILTERS.has(k)).map(([k, v]) => `${k}=${v}`).join("&");
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const filters = useMemo(() => {
    const f = parseFilters(params);
    // an age is read from the date of birth: a link with an age range opened without CustomerPiiRead lists
    // without it (the API would refuse the whole list with 403)
    return pii ? f : { ...f, age_min: undefined, age_max: undefined };
  }, [key, pii]);
  const latest = useRef({ params, setParams });
  latest.current = { params, setParams };
  const setFilters = useCallback((f: CustomerFilters) => {
    const { params: now, setParams: set } = latest.current;
    const next = filtersToParams(f); // a filter change starts again from the first page (no cursor)
    for (const k of KEEP) {
      const v = now.get(k);
      if (v) next.set(k, v);
    }
    set(next);
  }, []);
  return [filters, setFilters];
}
