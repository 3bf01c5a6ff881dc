// The Follow Up panel (seed 000: "clicking Follow Up opens a drawer with tabs: customer card, follow-up
// records, assets/trades, referral relationships"). Recording a follow-up here completes the task.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Card, Descriptions, Drawer, Tabs, Tag } from "antd";
import dayjs from "dayjs";
import { useEffect, useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { getCustomer } from "../../services/customers";
import { followUpTask, getTask, type TaskDetail } from "../../services/tasks";
import { AssetsTab, MovesTab, ReferralTab } from "../customers/drawer/DetailTabs";
import { FollowUpForm, FollowUpsTab, toFollowUpBody, type FollowUpValues } from "../customers/drawer/FollowUpsTab";

const when = (v: string | null | undefined) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : "—");

function CustomerCard({ task }: { task: TaskDetail }) {
  const { t, label } = useI18n();
  const c = task.customer;
  return (
    <Card size="small" data-testid="followup-card">
      <Descriptions size="small" column={2} bordered>
        <Descriptions.Item label={t("tasks.col.customer")}>{task.customer_id}</Descriptions.Item>
        <Descriptions.Item label={t("field.name")}>{c?.name ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("customers.stage")}>{label("stage", c?.stage)}</Descriptions.Item>
        <Descriptions.Item label={t("tasks.accountStatus")}>{label("account", c?.account_status)}</Descriptions.Item>
        <Descriptions.Item label={t("field.channel")}>{label("channel", c?.channel)}</Descriptions.Item>
        <Descriptions.Item label={t("field.language")}>{c?.language ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("field.registeredAt")}>{when(c?.registered_at)}</Descriptions.Item>
        <Descriptions.Item label={t("tasks.firstDeposit")}>{when(c?.first_deposit_at)}</Descriptions.Item>
        <Descriptions.Item label={t("tasks.firstTrade")}>{when(c?.first_trade_at)}</Descriptions.Item>
        <Descriptions.Item label={t("tasks.manager")}>{c?.manager_id ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("tasks.col.node")}>{t(`node.${task.node}` as MessageKey)}</Descriptions.Item>
        <Descriptions.Item label={t("tasks.col.due")}>{when(task.due_at)} {task.overdue && <Tag color="red">{t("tasks.overdue")}</Tag>}</Descriptions.Item>
      </Descriptions>
    </Card>
  );
}

/** The follow-up records of the task's customer, and (while the task is open) the form that completes it. */
function RecordsTab({ task, onDone }: { task: TaskDetail; onDone: () => void }) {
  const { t } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [key, setKey] = useState(0);
  const complete = useMutation({
    mutationFn: (v: FollowUpValues) => followUpTask(task.task_id, toFollowUpBody(v)),
    onSuccess: () => {
      message.success(t("tasks.recorded"));
      setKey((k) => k + 1);
      void qc.invalidateQueries({ queryKey: ["customer", task.customer_id, "follow-ups"] });
      onDone();
    },
  });
  return (
    <>
      {task.status === "open" && may("tasks.followUp") && (
        <Card size="small" title={t("tasks.recordAndComplete")} style={{ marginBottom: 16 }}>
          <FollowUpForm key={key} onSubmit={(v) => complete.mutate(v)} pending={complete.isPending} />
          {complete.isError && <div style={{ marginTop: 12 }}><ProblemAlert error={complete.error} /></div>}
        </Card>
      )}
      {task.status !== "open" && (
        <Alert type="success" showIcon style={{ marginBottom: 12 }} data-testid="task-closed"
          message={t("tasks.closedAs", { status: t(`tasks.status.${task.status}` as MessageKey), at: when(task.closed_at) })} />
      )}
      <FollowUpsTab customerId={task.customer_id} />
    </>
  );
}

export function FollowUpPanel({ taskId, onClose }: { taskId: string | null; onClose: () => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const [following, setFollowing] = useState(false);
  const task = useQuery({
    queryKey: ["task", taskId],
    queryFn: ({ signal }) => getTask(taskId!, signal),
    enabled: !!taskId,
    // after recording, the task completes through the event stream: look until it is closed
    refetchInterval: (q) => (following && q.state.data?.status === "open" ? 1000 : false),
  });
  const customerId = task.data?.customer_id;
  const detail = useQuery({
    queryKey: ["customer", customerId, "detail", null],
    queryFn: ({ signal }) => getCustomer(customerId!, null, signal),
    enabled: !!customerId,
  });
  const done = () => {
    setFollowing(true);
    void qc.invalidateQueries({ queryKey: ["tasks"] });
  };
  const closed = following && !!task.data && task.data.status !== "open";
  useEffect(() => {
    // the task completed: the node cards and the list change too
    if (closed) void qc.invalidateQueries({ queryKey: ["tasks"] });
  }, [closed, qc]);
  return (
    <Drawer open={!!taskId} onClose={() => { setFollowing(false); onClose(); }} width={880} destroyOnHidden
      title={task.data ? t("tasks.panelTitle", { id: task.data.customer_id }) : t("tasks.followUp")}
      closable={{ "aria-label": t("common.close") }} data-testid="followup-panel">
      {taskId && (
        <QueryState query={task}>
          {(d) => (
            <Tabs
              defaultActiveKey="card"
              items={[
                { key: "card", label: t("tasks.tab.card"), children: <CustomerCard task={d} /> },
                { key: "records", label: t("tasks.tab.records"), children: <RecordsTab task={d} onDone={done} /> },
                { key: "assets", label: t("tasks.tab.assets"), children: (
                  <QueryState query={detail}>{(c) => <><AssetsTab d={c} /><MovesTab d={c} /></>}</QueryState>) },
                { key: "referral", label: t("tasks.tab.referral"), children: (
                  <QueryState query={detail}>{(c) => <ReferralTab d={c} onOpen={() => undefined} />}</QueryState>) },
              ]}
            />
          )}
        </QueryState>
      )}
    </Drawer>
  );
}
