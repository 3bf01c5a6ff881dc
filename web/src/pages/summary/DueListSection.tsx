// Daily Follow-up: the customers to follow up on the day (open tasks due by its end and next follow-ups
// asked for), filtered by node, stage, overdue, intent and tag; a row opens the customer drawer.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Button, Input, Select, Space, Table, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { STAGES } from "../../services/models";
import { dueList, type DueFilter, type DueItem } from "../../services/summary";
import { TASK_NODES } from "../../services/tasks";

export function DueListSection({ day }: { day: string }) {
  const { t, label } = useI18n();
  const [params, setParams] = useSearchParams();
  // a link may ask for the overdue ones (the home page's shortcut)
  const [filter, setFilter] = useState<DueFilter>(() => (params.get("overdue") === "true" ? { overdue: true } : {}));
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const q = useQuery({
    queryKey: ["summary", "due", day, filter, cursor],
    queryFn: ({ signal }) => dueList(day, filter, cursor, 50, signal),
    placeholderData: keepPreviousData,
  });
  const change = (patch: Partial<DueFilter>) => { setCursors([null]); setFilter({ ...filter, ...patch }); };
  const open = (id: string) => { const p = new URLSearchParams(params); p.set("customer", id); setParams(p); };
  return (
    <>
      <Space wrap style={{ marginBottom: 12 }} role="search" aria-label={t("summary.dueFilters")}>
        <Select allowClear placeholder={t("tasks.col.node")} aria-label={t("tasks.col.node")} style={{ width: 210 }} value={filter.node ?? undefined}
          onChange={(v) => change({ node: v ?? null })} options={TASK_NODES.map((n) => ({ value: n, label: t(`node.${n}` as MessageKey) }))} />
        <Select allowClear placeholder={t("customers.stage")} aria-label={t("customers.stage")} style={{ width: 200 }} value={filter.stage ?? undefined}
          onChange={(v) => change({ stage: v ?? null })} options={STAGES.map((s) => ({ value: s, label: label("stage", s) }))} />
        <Select allowClear placeholder={t("tasks.overdue")} aria-label={t("tasks.overdue")} style={{ width: 150 }}
          value={filter.overdue == null ? undefined : filter.overdue ? "yes" : "no"}
          onChange={(v) => change({ overdue: v == null ? null : v === "yes" })}
          options={[{ value: "yes", label: t("summary.overdueOnly") }, { value: "no", label: t("summary.notOverdue") }]} />
        <Input.Search allowClear placeholder={t("followup.intent")} aria-label={t("followup.intent")} style={{ width: 180 }}
          onSearch={(v) => change({ intent: v.trim() || null })} />
        <Input.Search allowClear placeholder={t("followup.tags")} aria-label={t("followup.tags")} style={{ width: 180 }}
          onSearch={(v) => change({ tag: v.trim() ? [v.trim()] : [] })} />
      </Space>
      {q.isError ? <ProblemAlert error={q.error} onRetry={() => void q.refetch()} /> : (
        <Table<DueItem> rowKey="item_id" size="middle" pagination={false} loading={q.isPending || (q.isFetching && q.isPlaceholderData)}
          dataSource={q.data?.items ?? []} locale={{ emptyText: t("summary.dueEmpty") }} data-testid="due-table"
          columns={[
            { title: t("tasks.col.customer"), dataIndex: "customer_id", render: (v: string) => <Button type="link" style={{ padding: 0 }} onClick={() => open(v)}>{v}</Button> },
            { title: t("tasks.col.node"), dataIndex: "node", render: (v: string | null) => (v ? t(`node.${v}` as MessageKey) : t("summary.source.follow_up")) },
            { title: t("customers.stage"), dataIndex: "stage", render: (v: string | null) => label("stage", v) },
            { title: t("tasks.col.due"), dataIndex: "due_at", render: (v: string, r) => <>{dayjs(v).format("YYYY-MM-DD HH:mm")} {r.overdue && <Tag color="red">{t("tasks.overdue")}</Tag>}</> },
            { title: t("followup.intent"), dataIndex: "intent", render: (v: string | null) => v ?? "—" },
            { title: t("followup.tags"), dataIndex: "tags", render: (v: string[]) => v.map((x) => <Tag key={x}>{x}</Tag>) },
            { title: t("summary.lastFollowUp"), dataIndex: "last_follow_up_at", render: (v: string | null) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : "—") },
            { title: t("tasks.manager"), dataIndex: "manager_id", render: (v: string | null) => v ?? "—" },
          ]} />
      )}
      <Space style={{ marginTop: 12, width: "100%", justifyContent: "flex-end" }}>
        <Typography.Text>{t("customers.page", { n: cursors.length })}</Typography.Text>
        <Button disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>{t("common.previous")}</Button>
        <Button disabled={!q.data?.next_cursor} onClick={() => q.data?.next_cursor && setCursors([...cursors, q.data.next_cursor])}>{t("common.next")}</Button>
      </Space>
    </>
  );
}
