// Customer Progress: account openings, fundings and the four follow-up counts of the day, each against the
// day before and the same weekday a week before (a bar chart and the figures with their change).
import { useQuery } from "@tanstack/react-query";
import { Card, Col, Row, Statistic, Table, Typography } from "antd";
import { useMemo } from "react";
import { EChart } from "../../charts/EChart";
import { useAuth } from "../../auth/AuthProvider";
import { QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { PROGRESS_METRICS, today, type MetricDays, type TodaySummary } from "../../services/summary";
import { RollupSection, seesLevels } from "./RollupSection";

function Change({ n, label }: { n: number; label: string }) {
  const color = n > 0 ? "#237804" : n < 0 ? "#a8071a" : undefined;
  return <div style={{ fontSize: 12, color }}>{label}: {n > 0 ? `+${n}` : n}</div>;
}

function chartOption(s: TodaySummary, t: (k: MessageKey) => string) {
  const names = PROGRESS_METRICS.map((m) => t(`summary.metric.${m}` as MessageKey));
  const series = (["today", "yesterday", "last_week"] as const).map((d) => ({
    name: t(`summary.${d}` as MessageKey), type: "bar", data: PROGRESS_METRICS.map((m) => s.metrics[m][d]),
  }));
  return {
    color: ["#1456c8", "#8c8c8c", "#d48806"],
    tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 16, top: 36, bottom: 56 },
    xAxis: { type: "category", data: names, axisLabel: { interval: 0, width: 110, overflow: "break" } },
    yAxis: { type: "value", minInterval: 1 }, series,
  };
}

export function ProgressSection({ day }: { day: string }) {
  const { session } = useAuth();
  const q = useQuery({ queryKey: ["summary", "today", day], queryFn: ({ signal }) => today(day, signal), refetchInterval: 30_000 });
  return (
    <>
      <QueryState query={q}>
        {(s) => <Progress s={s} />}
      </QueryState>
      {seesLevels(session) && <RollupSection day={day} />}
    </>
  );
}

function Progress({ s }: { s: TodaySummary }) {
  const { t } = useI18n();
  const option = useMemo(() => chartOption(s, t), [s, t]);
  return (
    <>
      <Row gutter={[12, 12]} role="list" aria-label={t("summary.progress")}>
        {PROGRESS_METRICS.map((m) => {
          const v: MetricDays = s.metrics[m];
          return (
            <Col key={m} xs={12} lg={8} xxl={4} role="listitem">
              <Card size="small" style={{ height: "100%" }} data-testid={`metric-${m}`}>
                <Statistic title={t(`summary.metric.${m}` as MessageKey)} value={v.today} />
                <Change n={v.change_vs_yesterday} label={t("summary.vsYesterday")} />
                <Change n={v.change_vs_last_week} label={t("summary.vsLastWeek")} />
              </Card>
            </Col>
          );
        })}
      </Row>
      <Card size="small" style={{ marginTop: 16 }} title={t("summary.chartTitle", { day: s.date, yesterday: s.yesterday, last_week: s.last_week })}>
        <EChart option={option} height={300} label={t("summary.chartLabel")} />
      </Card>
      {s.managers.length > 0 && (
        <Card size="small" style={{ marginTop: 16 }} title={t("summary.byManager")}>
          <Table size="small" rowKey="manager_id" pagination={false} dataSource={s.managers}
            columns={[
              { title: t("tasks.manager"), dataIndex: "manager_id" },
              ...PROGRESS_METRICS.map((m) => ({
                title: t(`summary.metric.${m}` as MessageKey), key: m,
                render: (_: unknown, r: TodaySummary["managers"][number]) => (
                  <Typography.Text>{r.metrics[m].today} <Typography.Text type="secondary">/ {r.metrics[m].yesterday} / {r.metrics[m].last_week}</Typography.Text></Typography.Text>),
              })),
            ]} />
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t("summary.byManagerHint")}</Typography.Text>
        </Card>
      )}
    </>
  );
}
