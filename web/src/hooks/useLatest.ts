import { useCallback, useRef } from "react";

/** A callback with a stable identity that runs the latest render's function: memoised children receive
 * equal props across renders, and the callback still sees the current state. */
export function useLatest<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const ref = useRef(fn);
  ref.current = fn;
  return useCallback((...args: A) => ref.current(...args), []);
}
