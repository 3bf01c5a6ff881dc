// ECharts, loaded on first use (its own chunk): only the chart types the console draws are bundled.
//
// One chart per mounted container, created only once the container has a size: a chart initialised in a
// 0×0 box (a tab not shown yet, a card not laid out yet when the lazy chunk arrives first) draws nothing
// and stays blank. A new option is set on the same chart (no dispose and re-create on every refetch).
// The container says when the chart has drawn (data-drawn, after ECharts' "finished") and how many
// series it shows (data-series), which the tests read.
import { useEffect, useRef, useState } from "react";
import type { EChartsCoreOption } from "echarts/core";

type Core = typeof import("./echarts");
type Chart = ReturnType<Core["echarts"]["init"]>;

let loading: Promise<Core> | null = null;
function loadCharts(): Promise<Core> {
  loading ??= import("./echarts");
  return loading;
}

function seriesCount(option: EChartsCoreOption): number {
  const s = (option as { series?: unknown }).series;
  return Array.isArray(s) ? s.length : s ? 1 : 0;
}

const reducedMotion = () => typeof window.matchMedia === "function" && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

export function EChart({ option, height = 260, label }: { option: EChartsCoreOption; height?: number; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<Chart | null>(null);
  const latest = useRef(option);
  latest.current = option;
  const [failed, setFailed] = useState(false);
  const [drawn, setDrawn] = useState(false);

  useEffect(() => {
    const node = el.current;
    if (!node) return undefined;
    let cancelled = false;
    let observer: ResizeObserver | null = null;
    loadCharts().then(({ echarts }) => {
      if (cancelled) return;
      const fit = () => {
        if (!node.clientWidth || !node.clientHeight) return; // not laid out (or hidden): wait for a size
        if (chart.current) {
          chart.current.resize();
          return;
        }
        const c = echarts.init(node, undefined, { renderer: "canvas" });
        c.on("finished", () => setDrawn(true));
        c.setOption({ animation: !reducedMotion(), ...latest.current });
        chart.current = c;
      };
      fit();
      if (typeof ResizeObserver !== "undefined") {
        observer = new ResizeObserver(fit);
        observer.observe(node);
      }
    }, () => setFailed(true));
    return () => {
      cancelled = true;
      observer?.disconnect();
      chart.current?.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption({ animation: !reducedMotion(), ...option }, { notMerge: true });
  }, [option]);

  return (
    <div ref={el} role="img" aria-label={label} style={{ height, width: "100%" }} data-testid="echart"
      data-failed={failed || undefined} data-drawn={drawn || undefined} data-series={seriesCount(option)} />
  );
}
