// Keyset paging in the URL: `cursor` is the current page's cursor (shareable), the cursors of the pages
// before it ride in the history entry's state, so Previous and the browser's Back both work.
import { useCallback } from "react";
import { useLocation, useNavigate, useSearchParams } from "react-router";

interface PagerState {
  cursors?: (string | null)[];
}

export interface CursorPager {
  cursor: string | null;
  page: number;
  hasPrevious: boolean;
  next: (nextCursor: string) => void;
  previous: () => void;
  first: () => void;
}

export function useCursorPager(param = "cursor"): CursorPager {
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const cursor = params.get(param);
  const stack = ((location.state as PagerState | null)?.cursors ?? []).slice();
  // a shared link to page N has no stack: its Previous goes to the first page
  const hasPrevious = cursor !== null;

  const go = useCallback(
    (c: string | null, cursors: (string | null)[]) => {
      const p = new URLSearchParams(params);
      if (c) p.set(param, c);
      else p.delete(param);
      navigate({ pathname: location.pathname, search: p.toString() }, { state: { cursors } satisfies PagerState });
    },
    [params, param, navigate, location.pathname],
  );

  return {
    cursor,
    page: cursor ? Math.max(stack.length + 1, 2) : 1,
    hasPrevious,
    next: (nextCursor) => go(nextCursor, [...stack, cursor]),
    previous: () => {
      const prev = stack.length ? stack[stack.length - 1] : null;
      go(prev ?? null, stack.slice(0, -1));
    },
    first: () => go(null, []),
  };
}
