// Tasks (seed 000 "Tasks", seed 002 任务): node cards with open and overdue counts → the node's list →
// the Follow Up panel. State in the URL: ?view=&node=&status=&overdue=&task=.
import { useSearchPatch } from "../../hooks/useSearchPatch";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Segmented, Select, Space, Switch, Typography } from "antd";
import { useAuth } from "../../auth/AuthProvider";
import { Pager } from "../../components/Pager";
import { ProblemAlert } from "../../components/PageState";
import { useCursorPager } from "../../hooks/useCursorPager";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { listTasks, TASK_NODES, TASK_STATUSES, taskCounts, type TaskNode, type TaskStatus, type TaskView } from "../../services/tasks";
import { FollowUpPanel } from "./FollowUpPanel";
import { NodeCards } from "./NodeCards";
import { TaskTable } from "./TaskTable";
import { viewsFor } from "./views";

export default function TasksPage() {
  const { t } = useI18n();
  const { session } = useAuth();
  const [params, set] = useSearchPatch();
  const pager = useCursorPager();
  const views = viewsFor(session?.claims.scope);
  const view = (views.includes(params.get("view") as TaskView) ? params.get("view") : views[0]) as TaskView;
  const nodeParam = params.get("node");
  const node = (TASK_NODES as readonly string[]).includes(nodeParam ?? "") ? (nodeParam as TaskNode) : null;
  const status = (TASK_STATUSES.includes(params.get("status") as TaskStatus) ? params.get("status") : "open") as TaskStatus;
  const overdue = params.get("overdue") === "1" ? true : null;
  const limit = Number(params.get("limit")) || 50;
  const taskId = params.get("task");


  const counts = useQuery({ queryKey: ["tasks", "counts", view], queryFn: ({ signal }) => taskCounts(view, signal), refetchInterval: 30_000 });
  const q = { view, node, status, overdue, cursor: pager.cursor, limit };
  const list = useQuery({ queryKey: ["tasks", "list", q], queryFn: ({ signal }) => listTasks(q, signal), placeholderData: keepPreviousData });

  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("tasks.title")}</Typography.Title>
      <Space style={{ marginBottom: 16 }} wrap>
        <Segmented<TaskView> aria-label={t("tasks.view")} value={view} data-testid="task-view"
          options={views.map((v) => ({ value: v, label: t(`tasks.view.${v}` as MessageKey) }))}
          onChange={(v) => set({ view: v })} />
      </Space>
      {counts.isError ? <ProblemAlert error={counts.error} onRetry={() => void counts.refetch()} />
        : <NodeCards counts={counts.data} loading={counts.isPending} selected={node} onSelect={(n) => set({ node: n })} />}
      <Space style={{ marginBottom: 12 }} wrap>
        <label htmlFor="task-status">{t("tasks.col.status")}</label>
        <Select<TaskStatus> id="task-status" value={status} style={{ width: 160 }} onChange={(v) => set({ status: v })}
          options={TASK_STATUSES.map((s) => ({ value: s, label: t(`tasks.status.${s}` as MessageKey) }))} />
        <Switch id="task-overdue" checked={!!overdue} onChange={(v) => set({ overdue: v ? "1" : null })} aria-label={t("tasks.onlyOverdue")} />
        <label htmlFor="task-overdue">{t("tasks.onlyOverdue")}</label>
        {node && <Typography.Text type="secondary" data-testid="task-node">{t("tasks.showingNode", { node: t(`node.${node}` as MessageKey) })}</Typography.Text>}
      </Space>
      {list.isError ? <ProblemAlert error={list.error} onRetry={() => void list.refetch()} /> : (
        <TaskTable items={list.data?.items ?? []} loading={list.isPending || (list.isFetching && list.isPlaceholderData)}
          onOpen={(task) => set({ task: task.task_id }, { keepCursor: true })} />
      )}
      <Pager pager={pager} nextCursor={list.data?.next_cursor ?? null} limit={limit} onLimit={(n) => set({ limit: String(n) })} />
      <FollowUpPanel taskId={taskId} onClose={() => set({ task: null }, { keepCursor: true })} />
    </>
  );
}
