// KYC (seed 001 KYC review): the review queue oldest first with SLA timers and filters; claim, assign
// (KYC admin) and release; a row opens the case review (?case=ID).
import { useSearchPatch } from "../../hooks/useSearchPatch";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Input, Modal, Progress, Select, Space, Switch, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { Pager } from "../../components/Pager";
import { ProblemAlert } from "../../components/PageState";
import { useCursorPager } from "../../hooks/useCursorPager";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { assign, CASE_STATES, claim, OPEN_STATES, queue, QUEUE_STATES, release, type CaseState, type QueueItem } from "../../services/kyc";
import { CaseReview } from "./CaseReview";
import { SlaTimer } from "./SlaTimer";

export default function KycQueuePage() {
  const { t } = useI18n();
  const { may, session } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [params, set] = useSearchPatch();
  const pager = useCursorPager();
  const me = session?.claims.sub ?? "";
  const states = params.getAll("state").filter((s): s is CaseState => (CASE_STATES as readonly string[]).includes(s));
  const reviewer = params.get("reviewer");
  const highRisk = params.get("high_risk") === "1" ? true : null;
  const overdue = params.get("overdue") === "1" ? true : null;
  const customerId = params.get("customer_id");
  const limit = Number(params.get("limit")) || 50;
  const caseId = params.get("case");
  const [assigning, setAssigning] = useState<QueueItem | null>(null);
  const [assignee, setAssignee] = useState("");

  const q = { state: states.length ? states : OPEN_STATES, reviewer, high_risk: highRisk, overdue, customer_id: customerId, cursor: pager.cursor, limit };
  // after a decision the queue follows the event stream for a while (its read model applies it a little later)
  const [followUntil, setFollowUntil] = useState(0);
  const list = useQuery({ queryKey: ["kyc", "queue", q], queryFn: ({ signal }) => queue(q, signal), placeholderData: keepPreviousData,
    refetchInterval: followUntil > Date.now() ? 2_000 : 30_000 });
  const done = () => void qc.invalidateQueries({ queryKey: ["kyc"] });
  const act = useMutation({
    mutationFn: ({ kind, item, to }: { kind: "claim" | "release" | "assign"; item: QueueItem; to?: string }) =>
      kind === "claim" ? claim(item.case_id) : kind === "release" ? release(item.case_id) : assign(item.case_id, to!),
    onSuccess: (_, v) => { message.success(t(`kyc.done.${v.kind}` as MessageKey)); setAssigning(null); done(); },
    onError: (e) => message.error(e instanceof Error ? e.message : String(e)),
  });

  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("kyc.title")}</Typography.Title>
      <Space wrap style={{ marginBottom: 12 }} role="search" aria-label={t("kyc.filters")}>
        <Select mode="multiple" allowClear placeholder={t("kyc.openStates")} aria-label={t("kyc.state")} style={{ minWidth: 260 }}
          value={states} onChange={(v) => set({ state: v })} data-testid="kyc-state"
          options={CASE_STATES.map((s) => ({ value: s, label: t(`kyc.${s}` as MessageKey) }))} />
        <Select allowClear placeholder={t("kyc.anyReviewer")} aria-label={t("kyc.reviewer")} style={{ width: 180 }}
          value={reviewer ?? undefined} onChange={(v) => set({ reviewer: v ?? null })}
          options={[{ value: "me", label: t("kyc.heldByMe") }]} />
        <Switch id="kyc-hr" checked={!!highRisk} onChange={(v) => set({ high_risk: v ? "1" : null })} />
        <label htmlFor="kyc-hr">{t("kyc.onlyHighRisk")}</label>
        <Switch id="kyc-od" checked={!!overdue} onChange={(v) => set({ overdue: v ? "1" : null })} />
        <label htmlFor="kyc-od">{t("kyc.onlyOverdue")}</label>
        <Input.Search allowClear placeholder={t("tasks.col.customer")} aria-label={t("kyc.customerSearch")} style={{ width: 200 }}
          defaultValue={customerId ?? ""} onSearch={(v) => set({ customer_id: v.trim() || null })} />
      </Space>
      {list.isError ? <ProblemAlert error={list.error} onRetry={() => void list.refetch()} /> : (
        <Table<QueueItem> rowKey="case_id" size="middle" pagination={false} dataSource={list.data?.items ?? []}
          loading={list.isPending || (list.isFetching && list.isPlaceholderData)} locale={{ emptyText: t("kyc.empty") }} data-testid="kyc-queue"
          columns={[
            { title: t("tasks.col.customer"), dataIndex: "customer_id", render: (v: string, r) => (
              <Button type="link" style={{ padding: 0 }} onClick={() => set({ case: r.case_id }, { keepCursor: true })} data-testid={`kyc-open-${v}`}>{v}</Button>) },
            { title: t("kyc.state"), dataIndex: "state", render: (v: string, r) => (
              <Space size={4} wrap>
                <Tag>{t(`kyc.${v}` as MessageKey)}</Tag>
                {r.high_risk && <Tag color="volcano">{t("kyc.highRisk")}</Tag>}
                {r.submission > 1 && <Tag>{t("kyc.submission", { n: r.submission })}</Tag>}
              </Space>) },
            { title: t("kyc.completion"), dataIndex: "completion_pct", width: 140, render: (v: number) => <Progress percent={v} size="small" aria-label={t("kyc.completion")} /> },
            { title: t("kyc.documents"), key: "docs", render: (_, r) => t("kyc.docsPending", { pending: r.documents_pending, total: r.documents_total }) },
            { title: t("kyc.reviewer"), dataIndex: "reviewer_id", render: (v: string | null) => v ?? "—" },
            { title: t("kyc.sla"), key: "sla", render: (_, r) => <SlaTimer item={r} fetchedAt={list.dataUpdatedAt} /> },
            { title: t("common.actions"), key: "act", render: (_, r) => (
              <Space size={4} wrap>
                {may("kyc.review") && QUEUE_STATES.includes(r.state) && (
                  <Button size="small" type="primary" onClick={() => act.mutate({ kind: "claim", item: r })} data-testid={`kyc-claim-${r.customer_id}`}>{t("kyc.claim")}</Button>)}
                {may("kyc.reassign") && QUEUE_STATES.includes(r.state) && (
                  <Button size="small" onClick={() => { setAssignee(""); setAssigning(r); }}>{t("kyc.assign")}</Button>)}
                {r.state === "in_review" && (may("kyc.reassign") || (may("kyc.review") && r.reviewer_id === me)) && (
                  <Button size="small" onClick={() => act.mutate({ kind: "release", item: r })}>{t("kyc.release")}</Button>)}
                <Button size="small" onClick={() => set({ case: r.case_id }, { keepCursor: true })}>{t("kyc.review")}</Button>
              </Space>) },
          ]} />
      )}
      <Pager pager={pager} nextCursor={list.data?.next_cursor ?? null} limit={limit} onLimit={(n) => set({ limit: String(n) })} />
      <Modal open={!!assigning} title={t("kyc.assignTitle", { id: assigning?.customer_id ?? "" })} okText={t("kyc.assign")}
        okButtonProps={{ disabled: !assignee.trim(), loading: act.isPending }} onCancel={() => setAssigning(null)}
        onOk={() => assigning && act.mutate({ kind: "assign", item: assigning, to: assignee.trim() })}>
        <label htmlFor="kyc-assignee">{t("kyc.reviewerId")}</label>
        <Input id="kyc-assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)} maxLength={200} />
      </Modal>
      <CaseReview caseId={caseId} onClose={() => set({ case: null }, { keepCursor: true })} onDecided={() => setFollowUntil(Date.now() + 20_000)} />
    </>
  );
}
