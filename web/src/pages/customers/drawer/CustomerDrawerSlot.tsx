// The customer drawer's chunk (its tabs, date picker, timeline, forms) loads on the first ?customer=ID, not
// with the page that hosts it: the Customer List's first page does not wait for it (bench/bench_console.py).
import { lazy, Suspense, useState } from "react";
import { useSearchParams } from "react-router";

const CustomerDrawer = lazy(() => import("./CustomerDrawer").then((m) => ({ default: m.CustomerDrawer })));

export function CustomerDrawerSlot() {
  const [params] = useSearchParams();
  const [opened, setOpened] = useState(false);
  if (params.get("customer") && !opened) setOpened(true); // once loaded it stays mounted (it animates closed)
  return opened ? <Suspense fallback={null}><CustomerDrawer /></Suspense> : null;
}
