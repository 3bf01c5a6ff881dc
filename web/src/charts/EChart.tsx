// ECharts, loaded on first use (its own chunk): only the chart types the console draws are bundled.
import { useEffect, useRef, useState } from "react";
import type { EChartsCoreOption } from "echarts/core";

type Core = typeof import("./echarts");

let loading: Promise<Core> | null = null;
function loadCharts(): Promise<Core> {
  loading ??= import("./echarts");
  return loading;
}

export function EChart({ option, height = 260, label }: { option: EChartsCoreOption; height?: number; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let chart: ReturnType<Core["echarts"]["init"]> | null = null;
    let cancelled = false;
    let observer: ResizeObserver | null = null;
    loadCharts().then(({ echarts }) => {
      if (cancelled || !el.current) return;
      chart = echarts.init(el.current, undefined, { renderer: "canvas" });
      chart.setOption(option);
      if (typeof ResizeObserver !== "undefined") {
        observer = new ResizeObserver(() => chart?.resize());
        observer.observe(el.current);
      }
    }, () => setFailed(true));
    return () => {
      cancelled = true;
      observer?.disconnect();
      chart?.dispose();
    };
  }, [option]);
  return <div ref={el} role="img" aria-label={label} style={{ height, width: "100%" }} data-failed={failed || undefined} />;
}
