import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router";
import { filtersToParams, parseFilters, type CustomerFilters } from "./filters";

/** Params that are not filters and survive a filter change (the open drawer). */
const KEEP = ["customer", "as_of", "tab"];

export function useCustomerFilters(): [CustomerFilters, (f: CustomerFilters) => void] {
  const [params, setParams] = useSearchParams();
  const key = params.toString();
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const filters = useMemo(() => parseFilters(params), [key]);
  const setFilters = useCallback(
    (f: CustomerFilters) => {
      const next = filtersToParams(f); // a filter change starts again from the first page (no cursor)
      for (const k of KEEP) {
        const v = params.get(k);
        if (v) next.set(k, v);
      }
      setParams(next);
    },
    [params, setParams],
  );
  return [filters, setFilters];
}
