// Average daily assets and the asset trend (issue 18) in the drawer's Assets tab: ADA over 30, 90 and 365
// days with the change against the window before (from the detail), and a chart of the daily end-of-day
// assets (GET /customers/{id}/assets/daily: brokerage days, carried forward) with the rolling 30-day ADA.
import { useQuery } from "@tanstack/react-query";
import { Card, Col, Empty, Row, Segmented, Statistic, Typography } from "antd";
import dayjs from "dayjs";
import { useMemo, useState } from "react";
import { EChart } from "../../../charts/EChart";
import { QueryState } from "../../../components/PageState";
import { useI18n } from "../../../i18n";
import { assetSeries, type AssetSeries } from "../../../services/customers";
import type { AdaBlock } from "../../../services/models";

export const RANGES = [30, 90, 365] as const;
export type Range = (typeof RANGES)[number];
const ROLLING = 30;

/** The average of the last `n` values at each position (missing days count as 0, as the service counts them). */
export function rollingAverage(values: (number | null)[], n: number): number[] {
  const out: number[] = [];
  let sum = 0;
  values.forEach((v, i) => {
    sum += v ?? 0;
    if (i >= n) sum -= values[i - n] ?? 0;
    out.push(sum / n);
  });
  return out;
}

/** The chart's days: `range` days ending on the series' last day; fetched with 29 days before for the average. */
export function fetchFrom(asOf: string, range: Range): string {
  return dayjs(asOf).subtract(range - 1 + ROLLING - 1, "day").format("YYYY-MM-DD");
}

function chartOption(s: AssetSeries, range: Range, names: { daily: string; ada: string }) {
  const values = s.days.map((d) => (d.total == null ? null : Number(d.total)));
  const ada = rollingAverage(values, ROLLING);
  const from = Math.max(0, s.days.length - range);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    color: ["#1456c8", "#d48806"],
    tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 64, right: 16, top: 36, bottom: 32 },
    xAxis: { type: "category", data: s.days.slice(from).map((d) => d.date) },
    yAxis: { type: "value", scale: true },
    series: [
      { name: names.daily, type: "line", step: "end", showSymbol: false, data: values.slice(from) },
      { name: names.ada, type: "line", smooth: true, showSymbol: false, data: ada.slice(from).map(round) },
    ],
  };
}

function Change({ pct, change }: { pct: string | null; change: string | null }) {
  const { t } = useI18n();
  if (change == null) return null;
  const n = Number(change);
  const color = n > 0 ? "#237804" : n < 0 ? "#a8071a" : undefined;
  const sign = n > 0 ? "+" : "";
  return (
    <div style={{ fontSize: 12, color }}>
      {t("ada.vsPrevious")}: {pct != null ? `${sign}${pct}%` : `${sign}${Number(change).toLocaleString(undefined, { maximumFractionDigits: 2 })}`}
    </div>
  );
}

export function AdaTrend({ customerId, ada }: { customerId: string; ada: AdaBlock | null | undefined }) {
  const { t } = useI18n();
  const [range, setRange] = useState<Range>(90);
  if (!ada) return <Empty description={t("ada.none")} data-testid="ada-none" />;
  return (
    <div data-testid="ada">
      <Row gutter={[12, 12]} role="list" aria-label={t("ada.title")}>
        {ada.windows.map((w) => (
          <Col key={w.days} xs={24} sm={8} role="listitem">
            <Card size="small" data-testid={`ada-${w.days}`}>
              <Statistic title={t("ada.window", { n: w.days })} value={w.ada == null ? "—" : Number(w.ada)}
                precision={2} suffix={ada.currency ?? undefined} />
              <Change pct={w.change_pct} change={w.change} />
            </Card>
          </Col>
        ))}
      </Row>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t("ada.asOf", { day: ada.as_of })}</Typography.Text>
      <Card size="small" style={{ marginTop: 12 }} title={t("ada.chartTitle")}
        extra={<Segmented<Range> aria-label={t("ada.range")} value={range} onChange={setRange} data-testid="ada-range"
          options={RANGES.map((r) => ({ value: r, label: t("ada.days", { n: r }) }))} />}>
        <Series customerId={customerId} asOf={ada.as_of} range={range} />
      </Card>
    </div>
  );
}

function Series({ customerId, asOf, range }: { customerId: string; asOf: string; range: Range }) {
  const from = fetchFrom(asOf, range);
  const q = useQuery({ queryKey: ["customer", customerId, "assets-daily", from], queryFn: ({ signal }) => assetSeries(customerId, from, signal) });
  return <QueryState query={q}>{(s) => <Chart s={s} range={range} />}</QueryState>;
}

function Chart({ s, range }: { s: AssetSeries; range: Range }) {
  const { t } = useI18n();
  const option = useMemo(() => chartOption(s, range, { daily: t("ada.daily"), ada: t("ada.rolling") }), [s, range, t]);
  return <EChart option={option} height={240} label={t("ada.chartLabel", { n: range })} />;
}
