// Reason + note forms of the review: a document decision (a reason is required unless accepting), a request
// for more information, and the senior reviewer's second review.
import { Form, Input, Radio, Select } from "antd";
import type { FormInstance } from "antd";
import { useI18n } from "../../i18n";
import type { CaseDocument, DocDecision, Reason, SecondDecision } from "../../services/kyc";

export interface DecisionValues { decision: DocDecision | SecondDecision; reason_code?: string; reasons?: string[]; note?: string; document_ids?: string[] }
export type DecisionKind = "document" | "more_info" | "second";

/** Whether a decision needs reasons: everything but accepting / approving. */
export function needsReason(decision: string | undefined): boolean {
  return decision !== undefined && decision !== "accepted" && decision !== "approved";
}

export function DecisionForm({ form, kind, reasons, documents, initial }: {
  form: FormInstance<DecisionValues>;
  kind: DecisionKind;
  reasons: Reason[];
  documents?: CaseDocument[];
  initial?: Partial<DecisionValues>;
}) {
  const { t } = useI18n();
  const decision = Form.useWatch("decision", form) as string | undefined;
  const reasonOptions = reasons.map((r) => ({ value: r.code, label: r.label }));
  const choices = kind === "document" ? ["accepted", "rejected", "more_info_requested"] : kind === "second" ? ["approved", "rejected", "more_info_requested"] : null;
  return (
    <Form<DecisionValues> form={form} layout="vertical" name={`kyc-${kind}`} initialValues={initial ?? (kind === "more_info" ? { decision: "more_info_requested" } : {})}>
      {choices ? (
        <Form.Item name="decision" label={t("kyc.decision")} rules={[{ required: true, message: t("kyc.pickDecision") }]}>
          <Radio.Group options={choices.map((c) => ({ value: c, label: t(`kyc.decision.${c}` as "kyc.decision.accepted") }))} />
        </Form.Item>
      ) : <Form.Item name="decision" hidden><Input /></Form.Item>}
      {kind === "document" ? (
        <Form.Item name="reason_code" label={t("kyc.reason")} dependencies={["decision"]}
          rules={[({ getFieldValue }) => ({
            validator: (_, v?: string) => (!needsReason(getFieldValue("decision")) || v ? Promise.resolve() : Promise.reject(new Error(t("kyc.reasonRequired")))),
          })]}>
          <Select allowClear options={reasonOptions} disabled={!needsReason(decision)} data-testid="kyc-reason" />
        </Form.Item>
      ) : (
        <Form.Item name="reasons" label={t("kyc.reasons")} dependencies={["decision"]}
          rules={[({ getFieldValue }) => ({
            validator: (_, v?: string[]) => (!needsReason(getFieldValue("decision")) || (v && v.length) ? Promise.resolve() : Promise.reject(new Error(t("kyc.reasonRequired")))),
          }), { type: "array", max: 20 }]}>
          <Select mode="multiple" allowClear options={reasonOptions} data-testid="kyc-reasons" />
        </Form.Item>
      )}
      {kind === "more_info" && documents && (
        <Form.Item name="document_ids" label={t("kyc.docsToResubmit")}>
          <Select mode="multiple" allowClear options={documents.map((d) => ({ value: d.document_id, label: `${d.kind} v${d.version}` }))} />
        </Form.Item>
      )}
      <Form.Item name="note" label={t("kyc.note")} rules={[{ max: 2000, message: t("report.tooLong", { n: 2000 }) }]}>
        <Input.TextArea rows={3} maxLength={2000} showCount />
      </Form.Item>
    </Form>
  );
}
