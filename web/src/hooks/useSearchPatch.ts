// Change some of the URL's query parameters (null removes one, a list repeats it). Unless told to keep it,
// a change drops the keyset `cursor` (new filters start on the first page); keeping it keeps the pager's
// history state too (opening a drawer on page 3 stays on page 3).
import { useCallback } from "react";
import { useSearchParams } from "react-router";

export type SearchPatch = Record<string, string | string[] | null>;

export function applyPatch(params: URLSearchParams, patch: SearchPatch, keepCursor: boolean): URLSearchParams {
  const p = new URLSearchParams(params);
  for (const [k, v] of Object.entries(patch)) {
    p.delete(k);
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x));
    else if (v !== null) p.set(k, v);
  }
  if (!keepCursor) p.delete("cursor");
  return p;
}

export function useSearchPatch(): [URLSearchParams, (patch: SearchPatch, opts?: { keepCursor?: boolean; replace?: boolean }) => void] {
  const [params, setParams] = useSearchParams();
  const set = useCallback((patch: SearchPatch, { keepCursor = false, replace = false } = {}) => {
    setParams(applyPatch(params, patch, keepCursor), { replace, ...(keepCursor ? { state: window.history.state?.usr } : {}) });
  }, [params, setParams]);
  return [params, set];
}
