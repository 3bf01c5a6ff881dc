// Team pool (issue 19, step-by-step allocation): customers a rule with allocation "team_pool" queued for a
// team; the lead sees how long each has waited against the team's SLA and distributes a selection to a
// manager of the team (capacity and status checked by the API, one result per customer). A lead sees their
// teams' pools only (the API filters GET /teams and answers 404 for another team's pool).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Select, Space, Statistic, Table, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import { distributePool, listTeams, managersPage, teamPool, type PoolEntry } from "../../services/assignment";
import type { BulkResult } from "../../services/models";

/** A wait as hours and minutes ("2h 05m"), days past 48 hours ("3d 4h"). */
export function waited(seconds: number): string {
  const m = Math.floor(seconds / 60), h = Math.floor(m / 60);
  if (h >= 48) return `${Math.floor(h / 24)}d ${h % 24}h`;
  return h ? `${h}h ${String(m % 60).padStart(2, "0")}m` : `${m}m`;
}

export default function TeamPoolPage() {
  const { t } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const teams = useQuery({ queryKey: ["teams"], queryFn: ({ signal }) => listTeams(signal) });
  const [picked, setPicked] = useState<string | null>(null);
  const teamId = picked ?? teams.data?.[0]?.team_id ?? null;
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const pool = useQuery({ queryKey: ["team-pool", teamId, cursor], queryFn: ({ signal }) => teamPool(teamId!, cursor, signal), enabled: !!teamId });
  const managers = useQuery({ queryKey: ["managers", "team", teamId], queryFn: ({ signal }) => managersPage({ team_id: teamId, status: "active", limit: 500 }, signal), enabled: !!teamId && may("teampool.distribute") });
  const [selected, setSelected] = useState<string[]>([]);
  const [manager, setManager] = useState<string | null>(null);
  const [last, setLast] = useState<BulkResult | null>(null);
  const distribute = useMutation({
    mutationFn: () => distributePool(teamId!, selected, manager!),
    onSuccess: (r) => {
      setLast(r);
      setSelected([]);
      message.success(t("pool.distributed", { n: r.counts.assigned ?? 0 }));
      void qc.invalidateQueries({ queryKey: ["team-pool", teamId] });
      void qc.invalidateQueries({ queryKey: ["managers"] });
    },
  });
  const choose = (id: string) => { setPicked(id); setCursors([null]); setSelected([]); setLast(null); };
  const rejected = last?.results.filter((r) => r.status === "rejected") ?? [];
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("pool.title")}</Typography.Title>
      <Space style={{ marginBottom: 16 }} wrap>
        <Select style={{ minWidth: 240 }} aria-label={t("pool.team")} data-testid="pool-team" value={teamId ?? undefined} onChange={choose}
          placeholder={t("pool.team")} options={(teams.data ?? []).map((x) => ({ value: x.team_id, label: `${x.name} (${x.team_id})` }))} />
      </Space>
      {teams.data && teams.data.length === 0 && <Alert type="info" showIcon message={t("pool.noTeams")} />}
      {teams.isError && <ProblemAlert error={teams.error} onRetry={() => void teams.refetch()} />}
      {teamId && (
        <QueryState query={pool}>
          {(p) => (
            <Card size="small">
              <Space size={32} style={{ marginBottom: 12 }} wrap>
                <Statistic title={t("pool.waiting")} value={p.summary.waiting} />
                <Statistic title={t("pool.breached")} value={p.summary.breached} valueStyle={p.summary.breached ? { color: "#cf1322" } : undefined} />
                <Statistic title={t("pool.oldest")} value={waited(p.summary.oldest_wait_s)} />
                <Statistic title={t("pool.sla")} value={t("pool.minutes", { n: p.pool_sla_minutes })} />
              </Space>
              {may("teampool.distribute") && (
                <Space style={{ marginBottom: 12 }} wrap>
                  <Select style={{ minWidth: 260 }} aria-label={t("pool.toManager")} data-testid="pool-manager" value={manager ?? undefined} onChange={setManager}
                    placeholder={t("pool.toManager")} showSearch optionFilterProp="label"
                    options={(managers.data?.items ?? []).map((m) => ({ value: m.manager_id, label: `${m.name} (${m.manager_id}) · ${m.load}/${m.capacity}`, disabled: m.load >= m.capacity }))} />
                  <Button type="primary" data-testid="pool-distribute" disabled={!selected.length || !manager} loading={distribute.isPending} onClick={() => distribute.mutate()}>
                    {t("pool.distribute", { n: selected.length })}
                  </Button>
                </Space>
              )}
              {distribute.isError && <ProblemAlert error={distribute.error} />}
              {rejected.length > 0 && (
                <Alert type="warning" showIcon style={{ marginBottom: 12 }} data-testid="pool-rejected" message={t("pool.rejected", { n: rejected.length })}
                  description={rejected.map((r) => `${r.customer_id}: ${r.code ?? r.message ?? ""}`).join(", ")} />
              )}
              <Table<PoolEntry> rowKey="customer_id" size="small" pagination={false} dataSource={p.items} data-testid="pool-table"
                locale={{ emptyText: t("pool.empty") }}
                rowSelection={may("teampool.distribute") ? { selectedRowKeys: selected, onChange: (keys) => setSelected(keys as string[]) } : undefined}
                columns={[
                  { title: t("pool.customer"), dataIndex: "customer_id" },
                  { title: t("pool.queuedAt"), dataIndex: "queued_at", render: (v: string) => dayjs(v).format("YYYY-MM-DD HH:mm") },
                  { title: t("pool.waited"), dataIndex: "waiting_s", render: (v: number) => waited(v) },
                  { title: t("pool.due"), dataIndex: "sla_due_at", render: (v: string) => dayjs(v).format("YYYY-MM-DD HH:mm") },
                  { title: t("pool.slaState"), key: "sla", render: (_, r) => r.breached ? <Tag color="red">{t("pool.state.breached")}</Tag> : <Tag color="green">{t("pool.state.within")}</Tag> },
                  { title: t("pool.rule"), dataIndex: "rule_id", render: (v: string | null, r) => v ? `${v} v${r.rule_version}` : "—" },
                ]} />
              <Space style={{ marginTop: 12 }}>
                <Button size="small" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>{t("pool.prev")}</Button>
                <Button size="small" disabled={!p.next_cursor} onClick={() => setCursors([...cursors, p.next_cursor])}>{t("pool.next")}</Button>
              </Space>
            </Card>
          )}
        </QueryState>
      )}
    </>
  );
}
