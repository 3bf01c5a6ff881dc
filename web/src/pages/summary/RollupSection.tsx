// Today's Summary rolled up the organisation tree (issue #20): for a caller whose scope is above one team, the
// figures of a level (the company first) and one row per node below it, each the sum of its teams; a row's name
// goes one level down, the breadcrumb back up (?node= keeps the level).
import { useQuery } from "@tanstack/react-query";
import { Breadcrumb, Button, Card, Table, Typography } from "antd";
import { useSearchParams } from "react-router";
import type { Session } from "../../auth/session";
import { QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { PROGRESS_METRICS, rollup, type RollupRow } from "../../services/summary";

/** Figures by level are for callers over more than one team (all customers, or a node's teams). */
export function seesLevels(session: Session | null): boolean {
  return !!session && (session.claims.scope === "all" || (session.claims.teams?.length ?? 0) > 1);
}

/** The breadcrumb's path: node ids from the top down to the current level (kept in ?levels=a,b,c). */
export function levelPath(param: string | null): string[] {
  return (param ?? "").split(",").map((x) => x.trim()).filter(Boolean);
}

export function RollupSection({ day }: { day: string }) {
  const { t } = useI18n();
  const [params, setParams] = useSearchParams();
  const path = levelPath(params.get("levels"));
  const nodeId = path.length ? path[path.length - 1] : null;
  const q = useQuery({ queryKey: ["summary", "rollup", day, nodeId], queryFn: ({ signal }) => rollup(day, nodeId, signal), refetchInterval: 60_000 });
  const go = (next: string[]) => {
    const p = new URLSearchParams(params);
    if (next.length) p.set("levels", next.join(","));
    else p.delete("levels");
    setParams(p, { replace: true });
  };
  const kind = (k: string) => t(`access.kind.${k}` as MessageKey);
  return (
    <Card size="small" style={{ marginTop: 16 }} title={t("summary.rollup.title")} data-testid="summary-rollup">
      <QueryState query={q}>
        {(r) => {
          const rows: (RollupRow & { total?: boolean })[] = [{ ...r.node, total: true }, ...r.children];
          return (
            <>
              <Breadcrumb style={{ marginBottom: 8 }} items={[
                ...(path.length ? [{ title: <Button type="link" size="small" style={{ padding: 0 }} onClick={() => go([])}>{t("summary.rollup.top")}</Button> }] : []),
                ...path.slice(0, -1).map((id, i) => ({ title: <Button type="link" size="small" style={{ padding: 0 }} onClick={() => go(path.slice(0, i + 1))}>{id}</Button> })),
                { title: <Typography.Text strong>{r.node.name} ({kind(r.node.kind)})</Typography.Text> },
              ]} />
              {path.length > 0 && <Button size="small" onClick={() => go(path.slice(0, -1))} style={{ marginBottom: 8 }} data-testid="rollup-up">{t("summary.rollup.up")}</Button>}
              <Table<RollupRow & { total?: boolean }> size="small" rowKey="node_id" pagination={false} dataSource={rows} data-testid="rollup-table"
                columns={[
                  { title: t("summary.rollup.level"), key: "name", render: (_, x) => (x.total
                    ? <Typography.Text strong>{t("summary.rollup.total", { name: x.name })}</Typography.Text>
                    : x.kind === "team" ? <>{x.name} <Typography.Text type="secondary">({kind(x.kind)})</Typography.Text></>
                      : <Button type="link" style={{ padding: 0 }} onClick={() => go([...path, x.node_id])} data-testid={`rollup-open-${x.node_id}`}>{x.name} ({kind(x.kind)})</Button>) },
                  ...PROGRESS_METRICS.map((m) => ({
                    title: t(`summary.metric.${m}` as MessageKey), key: m,
                    render: (_: unknown, x: RollupRow) => (
                      <Typography.Text>{x.metrics[m]?.today ?? 0} <Typography.Text type="secondary">/ {x.metrics[m]?.yesterday ?? 0} / {x.metrics[m]?.last_week ?? 0}</Typography.Text></Typography.Text>),
                  })),
                ]} />
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t("summary.byManagerHint")}</Typography.Text>
            </>
          );
        }}
      </QueryState>
    </Card>
  );
}
