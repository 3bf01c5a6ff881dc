import { useQuery } from "@tanstack/react-query";
import { Card, Col, Row, Statistic, Typography } from "antd";
import { useMemo } from "react";
import { useNavigate } from "react-router";
import { screenExists } from "../../app/paths";
import { EChart } from "../../charts/EChart";
import { QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import { STAGES } from "../../services/models";
import { nodeCounts } from "../../services/summary";

function StatTile({ title, value, to, testId }: { title: string; value: number; to: string | null; testId: string }) {
  const navigate = useNavigate();
  const body = <Statistic title={title} value={value} />;
  if (!to) return <Card size="small" data-testid={testId} style={{ height: "100%" }}>{body}</Card>;
  return (
    <Card size="small" hoverable className="stat-card" data-testid={testId} role="link" style={{ height: "100%" }} tabIndex={0} aria-label={`${title}: ${value}`}
      onClick={() => navigate(to)} onKeyDown={(e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); navigate(to); } }}>
      {body}
    </Card>
  );
}

export function NodeCountsCard() {
  const { t, label } = useI18n();
  const q = useQuery({ queryKey: ["summary", "nodes"], queryFn: nodeCounts });
  const tasks = screenExists("/tasks");
  const kyc = screenExists("/kyc");
  const option = useMemo(() => {
    const stages = q.data?.customers_per_stage ?? {};
    return {
      tooltip: {},
      // every stage named under its bar: long names wrap (echarts hid every other one where they overlapped)
      grid: { left: 40, right: 16, top: 16, bottom: 48 },
      xAxis: { type: "category", data: STAGES.map((s) => label("stage", s)),
        axisLabel: { interval: 0, width: 80, overflow: "break" } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: STAGES.map((s) => stages[s] ?? 0), itemStyle: { color: "#1456c8" } }],
    };
  }, [q.data, label]);
  return (
    <Card title={<Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>{t("home.nodes")}</Typography.Title>}>
      <QueryState query={q}>
        {(d) => (
          <>
            <Typography.Title level={3} style={{ fontSize: 14 }}>{t("home.customersPerStage")}</Typography.Title>
            <Row gutter={[12, 12]}>
              {STAGES.map((s) => (
                <Col key={s} flex="1 1 0">
                  <StatTile testId={`node-stage-${s}`} title={label("stage", s)} value={d.customers_per_stage[s] ?? 0} to={`/customers?stage=${s}`} />
                </Col>
              ))}
            </Row>
            <EChart option={option} height={200} label={t("home.chart")} />
            <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("home.openTasks")}</Typography.Title>
            <Row gutter={[12, 12]}>
              {Object.entries(d.open_tasks_per_node).map(([node, n]) => (
                <Col key={node} span={6}>
                  <StatTile testId={`node-task-${node}`} title={label("node", node)} value={n} to={tasks ? `/tasks?node=${node}` : null} />
                </Col>
              ))}
              {Object.keys(d.open_tasks_per_node).length === 0 && <Col span={24}><Typography.Text type="secondary">{t("state.empty")}</Typography.Text></Col>}
            </Row>
            <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("home.kycCases")}</Typography.Title>
            <Row gutter={[12, 12]}>
              {Object.entries(d.kyc_cases_per_state).map(([state, n]) => (
                <Col key={state} span={6}>
                  <StatTile testId={`node-kyc-${state}`} title={label("kyc", state)} value={n} to={kyc ? `/kyc?state=${state}` : null} />
                </Col>
              ))}
              {Object.keys(d.kyc_cases_per_state).length === 0 && <Col span={24}><Typography.Text type="secondary">{t("state.empty")}</Typography.Text></Col>}
            </Row>
          </>
        )}
      </QueryState>
    </Card>
  );
}
