// Case review (seed 001): the case with its completion and risk, per-document decisions with reasons, a
// request for more information, submitting the review, and the four-eyes second review of high-risk cases
// (the senior reviewer cannot be the first reviewer). History of every action.
import { submitValid } from "../../components/submitValid";
import { SyncOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Descriptions, Drawer, Form, Input, Modal, Progress, Space, Table, Tag, Timeline, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import {
  caseHistory, claim, decideDocument, reasons as loadReasons, release, requestInfo, secondReview, submitReview,
  QUEUE_STATES, type CaseDetail, type CaseDocument, type DocDecision, type SecondDecision,
} from "../../services/kyc";
import { DecisionForm, type DecisionKind, type DecisionValues } from "./DecisionForm";
import { caseKey, readCase, useCaseConfirmation } from "./useCaseConfirmation";

const when = (v: string | null | undefined) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : "—");

interface Dialog { kind: DecisionKind; doc?: CaseDocument; initial?: Partial<DecisionValues> }

function CaseBody({ c, onDecided }: { c: CaseDetail; onDecided: (next: CaseDetail) => void }) {
  const { t } = useI18n();
  const { may, session } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const me = session?.claims.sub ?? "";
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [submitNote, setSubmitNote] = useState<string | null>(null);
  const [form] = Form.useForm<DecisionValues>();
  const reasonsQ = useQuery({ queryKey: ["kyc", "reasons"], queryFn: ({ signal }) => loadReasons(signal), staleTime: 600_000 });
  const history = useQuery({ queryKey: ["kyc", "case", c.case_id, "history", c.version], queryFn: ({ signal }) => caseHistory(c.case_id, signal) });
  const reasonLabel = (code: string | null | undefined) => reasonsQ.data?.find((r) => r.code === code)?.label ?? code ?? "—";
  const mine = c.state === "in_review" && c.reviewer_id === me && may("kyc.review");
  const canSecond = c.state === "awaiting_second_review" && may("kyc.secondReview") && c.first_reviewer_id !== me;
  const settled = (next: CaseDetail) => {
    onDecided(next);
    void qc.invalidateQueries({ queryKey: ["kyc", "queue"] });
  };
  const run = useMutation({
    mutationFn: (f: () => Promise<CaseDetail>) => f(),
    onSuccess: (next) => { message.success(t("common.saved")); setDialog(null); setSubmitNote(null); form.resetFields(); settled(next); },
  });
  const confirm = (v: DecisionValues) => {
    const note = v.note?.trim() || null;
    if (!dialog) return;
    if (dialog.kind === "document" && dialog.doc) {
      const doc = dialog.doc;
      run.mutate(() => decideDocument(c.case_id, doc.document_id, v.decision as DocDecision, v.decision === "accepted" ? null : v.reason_code ?? null, note));
    } else if (dialog.kind === "more_info") {
      run.mutate(() => requestInfo(c.case_id, { reasons: v.reasons ?? [], note, document_ids: v.document_ids ?? [] }));
    } else {
      run.mutate(() => secondReview(c.case_id, v.decision as SecondDecision, v.reasons ?? [], note));
    }
  };
  const openDialog = (d: Dialog) => { form.resetFields(); setDialog(d); };

  return (
    <>
      {c.four_eyes_required && (
        <Alert type="warning" showIcon style={{ marginBottom: 12 }} data-testid="kyc-four-eyes"
          message={t("kyc.fourEyes")} description={c.first_reviewer_id ? t("kyc.firstReviewer", { id: c.first_reviewer_id }) : undefined} />
      )}
      <Descriptions size="small" bordered column={2}>
        <Descriptions.Item label={t("tasks.col.customer")}>{c.customer_id}</Descriptions.Item>
        <Descriptions.Item label={t("kyc.application")}>{c.application_id}{c.account_type ? ` · ${c.account_type}` : ""}</Descriptions.Item>
        <Descriptions.Item label={t("kyc.state")}><Tag data-testid="kyc-case-state">{t(`kyc.${c.state}` as MessageKey)}</Tag>{c.high_risk && <Tag color="volcano">{t("kyc.highRisk")}</Tag>}</Descriptions.Item>
        <Descriptions.Item label={t("kyc.submission.label")}>{c.submission}</Descriptions.Item>
        <Descriptions.Item label={t("kyc.reviewer")}>{c.reviewer_id ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("kyc.submittedAt")}>{when(c.submitted_at)}</Descriptions.Item>
        <Descriptions.Item label={t("kyc.completion")} span={2}>
          <Progress percent={c.completion_pct} size="small" style={{ maxWidth: 320 }} aria-label={t("kyc.completion")} data-testid="kyc-completion" />
          {c.missing_documents.length > 0 && <div>{t("kyc.missing")}: {c.missing_documents.map((m) => <Tag key={m}>{m}</Tag>)}</div>}
        </Descriptions.Item>
        {c.risk_reasons && c.risk_reasons.length > 0 && (
          <Descriptions.Item label={t("kyc.riskReasons")} span={2}>{c.risk_reasons.map((r) => <Tag key={r} color="volcano">{r}</Tag>)}</Descriptions.Item>
        )}
        {c.flagged_fields.length > 0 && (
          <Descriptions.Item label={t("kyc.flagged")} span={2}>{c.flagged_fields.map((r) => <Tag key={r}>{r}</Tag>)}</Descriptions.Item>
        )}
        {c.last_decision && (
          <Descriptions.Item label={t("kyc.lastDecision")} span={2}>
            {t(`kyc.decision.${c.last_decision.decision}` as MessageKey)} · {c.last_decision.by ?? ""} · {when(c.last_decision.decided_at)}
            {(c.last_decision.reasons ?? []).map((r) => <Tag key={r}>{reasonLabel(r)}</Tag>)}
          </Descriptions.Item>
        )}
      </Descriptions>

      <Space wrap style={{ margin: "12px 0" }}>
        {may("kyc.review") && QUEUE_STATES.includes(c.state) && (
          <Button type="primary" onClick={() => run.mutate(() => claim(c.case_id))} data-testid="kyc-case-claim">{t("kyc.claim")}</Button>)}
        {c.state === "in_review" && (mine || may("kyc.reassign")) && (
          <Button onClick={() => run.mutate(() => release(c.case_id))}>{t("kyc.release")}</Button>)}
        {mine && <Button onClick={() => openDialog({ kind: "more_info" })} data-testid="kyc-more-info">{t("kyc.requestInfo")}</Button>}
        {mine && <Button type="primary" onClick={() => setSubmitNote("")} data-testid="kyc-submit">{t("kyc.submitReview")}</Button>}
        {canSecond && <Button type="primary" onClick={() => openDialog({ kind: "second", initial: { decision: "approved" } })} data-testid="kyc-second">{t("kyc.secondReview")}</Button>}
        {c.state === "awaiting_second_review" && may("kyc.secondReview") && c.first_reviewer_id === me && (
          <Typography.Text type="secondary">{t("kyc.notYourOwn")}</Typography.Text>)}
      </Space>
      {run.isError && <div style={{ marginBottom: 12 }}><ProblemAlert error={run.error} /></div>}

      <Card size="small" title={t("kyc.documents")}>
        <Table<CaseDocument> rowKey="document_id" size="small" pagination={false} dataSource={c.documents} locale={{ emptyText: t("kyc.noDocuments") }}
          columns={[
            { title: t("kyc.docKind"), dataIndex: "kind", render: (v: string, d) => `${v} v${d.version}` },
            { title: t("kyc.uploaded"), dataIndex: "uploaded_at", render: when },
            { title: t("kyc.state"), dataIndex: "status", render: (v: string) => <Tag color={v === "accepted" ? "green" : v === "rejected" ? "red" : v === "pending" ? undefined : "orange"}>{t(`kyc.doc.${v}` as MessageKey)}</Tag> },
            { title: t("kyc.reason"), dataIndex: "reason_code", render: (v: string | null) => reasonLabel(v) },
            { title: t("kyc.decidedBy"), dataIndex: "decided_by", render: (v: string | null, d) => (v ? `${v} · ${when(d.decided_at)}` : "—") },
            ...(mine ? [{ title: t("common.actions"), key: "act", render: (_: unknown, d: CaseDocument) => (
              <Space size={4}>
                <Button size="small" onClick={() => run.mutate(() => decideDocument(c.case_id, d.document_id, "accepted", null, null))} data-testid={`kyc-accept-${d.kind}`}>{t("kyc.accept")}</Button>
                <Button size="small" danger onClick={() => openDialog({ kind: "document", doc: d, initial: { decision: "rejected" } })}>{t("kyc.reject")}</Button>
                <Button size="small" onClick={() => openDialog({ kind: "document", doc: d, initial: { decision: "more_info_requested" } })}>{t("kyc.askMore")}</Button>
              </Space>) }] : []),
          ]} />
      </Card>

      <Card size="small" title={t("kyc.history")} style={{ marginTop: 12 }}>
        <QueryState query={history} isEmpty={(h) => h.length === 0}>
          {(h) => (
            <Timeline items={h.map((e) => ({
              key: e.version,
              children: (
                <>
                  <Typography.Text strong>{t(`kyc.action.${e.action}` as MessageKey)}</Typography.Text>{" "}
                  <Typography.Text type="secondary">{when(e.at)} · {e.actor}</Typography.Text>
                  {typeof e.decision === "string" && <Tag style={{ marginLeft: 8 }}>{e.decision}</Tag>}
                  {Array.isArray(e.reasons) && (e.reasons as string[]).map((r) => <Tag key={r}>{reasonLabel(r)}</Tag>)}
                  {typeof e.reason_code === "string" && <Tag>{reasonLabel(e.reason_code)}</Tag>}
                </>
              ),
            }))} />
          )}
        </QueryState>
      </Card>

      <Modal open={!!dialog} destroyOnHidden onCancel={() => setDialog(null)} onOk={() => submitValid(form, confirm)} confirmLoading={run.isPending}
        okText={t("common.submit")} title={dialog?.kind === "document" ? t("kyc.decideDoc", { kind: dialog.doc?.kind ?? "" }) : dialog?.kind === "more_info" ? t("kyc.requestInfo") : t("kyc.secondReview")}>
        {dialog && <DecisionForm form={form} kind={dialog.kind} reasons={reasonsQ.data ?? []} documents={c.documents} initial={dialog.initial} />}
      </Modal>
      <Modal open={submitNote !== null} onCancel={() => setSubmitNote(null)} okText={t("kyc.submitReview")} confirmLoading={run.isPending}
        onOk={() => run.mutate(() => submitReview(c.case_id, submitNote?.trim() || null))} title={t("kyc.submitReview")}>
        <Typography.Paragraph>{c.high_risk ? t("kyc.submitHighRisk") : t("kyc.submitHint")}</Typography.Paragraph>
        <label htmlFor="kyc-submit-note">{t("kyc.note")}</label>
        <Input.TextArea id="kyc-submit-note" rows={3} maxLength={2000} value={submitNote ?? ""} onChange={(e) => setSubmitNote(e.target.value)} />
      </Modal>
    </>
  );
}

/** `onDecided`: a decision has reached the server's own reading of the case (the queue may follow it). */
export function CaseReview({ caseId, onClose, onDecided }: { caseId: string | null; onClose: () => void; onDecided?: () => void }) {
  const { t } = useI18n();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: caseKey(caseId), queryFn: ({ signal }) => readCase(qc, caseId!, signal), enabled: !!caseId });
  const confirm = useCaseConfirmation(caseId, onDecided);
  return (
    <Drawer open={!!caseId} onClose={onClose} width={920} destroyOnHidden title={t("kyc.caseTitle", { id: q.data?.customer_id ?? caseId ?? "" })}
      closable={{ "aria-label": t("common.close") }}
      extra={<div role="status" aria-live="polite">{confirm.updating && <Tag icon={<SyncOutlined spin />} color="processing" data-testid="kyc-case-updating">{t("kyc.updating")}</Tag>}</div>}>
      {confirm.unconfirmed && (
        <Alert type="warning" showIcon style={{ marginBottom: 12 }} data-testid="kyc-case-unconfirmed" message={t("kyc.unconfirmed")}
          action={<Button size="small" onClick={() => void q.refetch()}>{t("state.retry")}</Button>} />
      )}
      {caseId && <QueryState query={q}>{(c) => <CaseBody c={c} onDecided={(next) => void confirm.decided(next)} />}</QueryState>}
    </Drawer>
  );
}
