// Analytics (issue #15): the registered → opened → funded → traded funnel of the customers registered in a
// period, with stage-to-stage conversion rates and median times, by manager, team or weekly cohort; by manager or
// team the conversions are credited by attribution share (the summary service's sm_funnel_credit).
import { useSearchPatch } from "../../hooks/useSearchPatch";
import { useQuery } from "@tanstack/react-query";
import { Card, Col, DatePicker, Row, Segmented, Space, Statistic, Table, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useMemo } from "react";
import { EChart } from "../../charts/EChart";
import { QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { funnel, FUNNEL_STAGES, FUNNEL_STEPS, type FunnelPart, type FunnelReport, type GroupBy } from "../../services/summary";
import { formatDuration, formatRate } from "./format";

function FunnelChart({ part }: { part: FunnelPart }) {
  const { t } = useI18n();
  const option = useMemo(() => ({
    color: ["#1456c8", "#2f6fdb", "#5b8ee6", "#8fb3f0"],
    tooltip: { trigger: "item" },
    series: [{ type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "8%", label: { show: true, position: "inside", color: "#fff", formatter: "{b}: {c}" },
      data: FUNNEL_STAGES.map((s) => ({ name: t(`analytics.stage.${s}` as MessageKey), value: part.counts[s] ?? 0 })) }],
  }), [part, t]);
  return <EChart option={option} height={280} label={t("analytics.funnelLabel")} />;
}

export default function AnalyticsPage() {
  const { t } = useI18n();
  const [params, set] = useSearchPatch();
  const to = params.get("to") ?? dayjs().format("YYYY-MM-DD");
  const from = params.get("from") ?? dayjs(to).subtract(89, "day").format("YYYY-MM-DD");
  const groupBy = (["none", "manager", "team", "cohort"].includes(params.get("group_by") ?? "") ? params.get("group_by") : "manager") as GroupBy;
  const q = useQuery({ queryKey: ["analytics", from, to, groupBy], queryFn: ({ signal }) => funnel(from, to, groupBy, signal) });
  const stepCols = FUNNEL_STEPS.map((s) => ({
    title: t(`analytics.step.${s}` as MessageKey), key: s,
    render: (_: unknown, r: FunnelPart) => (
      <>
        <div>{formatRate(r.steps[s]?.conversion_rate)}</div>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t("analytics.median", { time: formatDuration(r.steps[s]?.median_seconds, t) })}</Typography.Text>
      </>),
  }));
  return (
    <>
      <Space style={{ width: "100%", justifyContent: "space-between" }} align="baseline" wrap>
        <Typography.Title level={1} style={{ fontSize: 24 }}>{t("analytics.title")}</Typography.Title>
        <Space wrap>
          <label htmlFor="analytics-range">{t("analytics.registered")}</label>
          <DatePicker.RangePicker id="analytics-range" allowClear={false} value={[dayjs(from), dayjs(to)]} disabledDate={(d) => d.isAfter(dayjs(), "day")}
            onChange={(v) => v && set({ from: (v[0] as Dayjs).format("YYYY-MM-DD"), to: (v[1] as Dayjs).format("YYYY-MM-DD") }, { replace: true })} />
          <Segmented<GroupBy> aria-label={t("analytics.groupBy")} value={groupBy} onChange={(v) => set({ group_by: v }, { replace: true })}
            options={(["none", "manager", "team", "cohort"] as GroupBy[]).map((g) => ({ value: g, label: t(`analytics.by.${g}` as MessageKey) }))} />
        </Space>
      </Space>
      <QueryState query={q}>
        {(r: FunnelReport) => (
          <>
            <Row gutter={16}>
              <Col span={10}><Card size="small" title={t("analytics.funnel")}><FunnelChart part={r.total} /></Card></Col>
              <Col span={14}>
                <Card size="small" title={t("analytics.conversion")}>
                  <Row gutter={[12, 12]}>
                    {FUNNEL_STEPS.map((s) => (
                      <Col span={8} key={s}>
                        <Statistic title={t(`analytics.step.${s}` as MessageKey)} value={formatRate(r.total.steps[s]?.conversion_rate)} />
                        <Typography.Text type="secondary">{t("analytics.median", { time: formatDuration(r.total.steps[s]?.median_seconds, t) })}</Typography.Text>
                      </Col>
                    ))}
                    <Col span={12}><Statistic title={t("analytics.overall")} value={formatRate(r.total.overall_rate)} /></Col>
                    <Col span={12}><Statistic title={t("analytics.toFunded")} value={formatRate(r.total.registered_to_funded_rate)} /></Col>
                  </Row>
                </Card>
              </Col>
            </Row>
            {groupBy !== "none" && (
              <Card size="small" style={{ marginTop: 16 }} title={t(`analytics.by.${groupBy}` as MessageKey)}>
                {(groupBy === "manager" || groupBy === "team") && (
                  <Typography.Paragraph type="secondary" style={{ fontSize: 12 }} data-testid="funnel-by-share">{t("analytics.byShare")}</Typography.Paragraph>)}
                <Table<FunnelPart & { key: string | null }> size="small" pagination={false} rowKey={(x) => x.key ?? "-"} dataSource={r.groups} locale={{ emptyText: t("state.empty") }}
                  columns={[
                    { title: t(`analytics.by.${groupBy}` as MessageKey), dataIndex: "key", render: (v: string | null) => v ?? t("analytics.none") },
                    ...FUNNEL_STAGES.map((s) => ({ title: t(`analytics.stage.${s}` as MessageKey), key: s, align: "right" as const, render: (_: unknown, x: FunnelPart) => x.counts[s] ?? 0 })),
                    ...stepCols,
                    { title: t("analytics.overall"), key: "overall", render: (_: unknown, x: FunnelPart) => formatRate(x.overall_rate) },
                  ]} />
              </Card>
            )}
            <Typography.Text type="secondary" style={{ display: "block", marginTop: 8 }}>{t("analytics.basis", { from: r.from, to: r.to, tz: r.timezone })}</Typography.Text>
          </>
        )}
      </QueryState>
    </>
  );
}
