import { Button, Table, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import type { TaskItem } from "../../services/tasks";

export function TaskTable({ items, loading, onOpen }: { items: TaskItem[]; loading: boolean; onOpen: (t: TaskItem) => void }) {
  const { t } = useI18n();
  return (
    <Table<TaskItem>
      rowKey="task_id"
      size="middle"
      loading={loading}
      dataSource={items}
      pagination={false}
      locale={{ emptyText: t("tasks.empty") }}
      data-testid="task-table"
      columns={[
        { title: t("tasks.col.customer"), dataIndex: "customer_id", render: (v: string, r) => (
          <Button type="link" style={{ padding: 0 }} onClick={() => onOpen(r)} data-testid={`task-open-${v}`}>{v}</Button>) },
        { title: t("tasks.col.node"), dataIndex: "node", render: (v: string, r) => (
          <>
            {t(`node.${v}` as MessageKey)}
            {v === "campaign_followup" && r.campaign_id && (
              <Typography.Text type="secondary" data-testid="task-campaign"> · {r.campaign_name ?? r.campaign_id}</Typography.Text>)}
          </>) },
        { title: t("tasks.col.due"), dataIndex: "due_at", render: (v: string, r) => (
          <>
            <Typography.Text type={r.overdue ? "danger" : undefined}>{dayjs(v).format("YYYY-MM-DD HH:mm")}</Typography.Text>{" "}
            {r.overdue && <Tag color="red">{t("tasks.overdue")}</Tag>}
          </>) },
        { title: t("tasks.col.assignee"), dataIndex: "assignee_id", render: (v: string | null) => v ?? t("tasks.unassigned") },
        { title: t("tasks.col.status"), dataIndex: "status", render: (v: string) => <Tag data-testid="task-status">{t(`tasks.status.${v}` as MessageKey)}</Tag> },
        { title: t("tasks.col.created"), dataIndex: "created_at", render: (v: string) => dayjs(v).format("YYYY-MM-DD HH:mm") },
        { title: t("common.actions"), key: "act", render: (_, r) => (
          <Button size="small" onClick={() => onOpen(r)} aria-label={t("tasks.followUpFor", { id: r.customer_id })}>{t("tasks.followUp")}</Button>) },
      ]}
    />
  );
}
