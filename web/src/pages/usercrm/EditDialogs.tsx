// Edit the user's information and social links on their behalf (seed 003 "Edit user information", "Social
// media links"): each is a change request the platform applies and confirms; its state shows in the
// panel's requests. The information form sends only the fields filled in, one section per request (the
// service's contract: general, personal, financial status, financial experience or a bank account); the social
// links replace the user's set.
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Col, DatePicker, Form, Input, InputNumber, Modal, Row, Select, Space, Typography } from "antd";
import type { Dayjs } from "dayjs";
import { useState } from "react";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import * as api from "../../services/usercrm";

type FieldKind = "text" | "date" | "bool" | "int" | "tags" | "bankKind";
interface FieldSpec { name: string; kind?: FieldKind; pattern?: RegExp; bad?: MessageKey; max?: number; upper?: boolean; required?: boolean }

const COUNTRY = { pattern: /^[A-Z]{2}$/, bad: "usercrm.bad.country", upper: true } as const;
const MONEY = { pattern: /^\d{1,16}(\.\d{1,8})?$/, bad: "usercrm.bad.money" } as const;

/** The fields of each section, with the service's own rules (shared/events/upstream_user.py). */
export const SECTION_FIELDS: Record<api.InfoSection, FieldSpec[]> = {
  general: [
    { name: "email", pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/, bad: "usercrm.bad.email" },
    { name: "phone_dialing_code", pattern: /^\+[1-9][0-9]{0,3}$/, bad: "usercrm.bad.dialing" },
    { name: "phone_number", pattern: /^[0-9]{4,15}$/, bad: "usercrm.bad.phone" },
    { name: "address_line" }, { name: "city" }, { name: "postal_code", max: 20 },
    { name: "country", ...COUNTRY },
    { name: "language", pattern: /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/, bad: "usercrm.bad.language" },
    { name: "time_zone", pattern: /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/, bad: "usercrm.bad.timeZone", max: 64 },
  ],
  personal: [
    { name: "first_name" }, { name: "last_name" }, { name: "date_of_birth", kind: "date" }, { name: "citizenship", ...COUNTRY },
  ],
  financial_status: [
    { name: "employment_status" }, { name: "employer" }, { name: "occupation" }, { name: "industry" }, { name: "income_source" },
    { name: "annual_income", ...MONEY }, { name: "net_worth", ...MONEY },
    { name: "currency", pattern: /^[A-Z]{3}$/, bad: "usercrm.badCurrency", upper: true },
    { name: "tax_residence", ...COUNTRY }, { name: "tax_id" }, { name: "us_tax_payer", kind: "bool" },
  ],
  financial_experience: [{ name: "experience_years", kind: "int" }, { name: "qualifications", kind: "tags" }],
  bank_account: [
    { name: "bank_account_id", required: true, pattern: /^[A-Za-z0-9_\-.:]{1,64}$/, bad: "usercrm.bad.id", max: 64 },
    { name: "kind", kind: "bankKind" }, { name: "provider", required: true }, { name: "holder_name" }, { name: "account_number" },
    { name: "swift", pattern: /^[A-Z0-9]{8}([A-Z0-9]{3})?$/, bad: "usercrm.bad.swift", upper: true, max: 11 },
    { name: "currency", pattern: /^[A-Z]{3}$/, bad: "usercrm.badCurrency", upper: true },
  ],
};
/** The section's name in the form (the bank account is the Banking tab's). */
export const sectionLabel = (s: api.InfoSection): MessageKey => (s === "bank_account" ? "usercrm.tab.banking" : `usercrm.tab.${s}` as MessageKey);

/** The form's values → the change request's section (only what was filled in); null when nothing was. */
export function changeBody(section: api.InfoSection, values: Record<string, unknown>): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  for (const f of SECTION_FIELDS[section]) {
    const v = values[f.name];
    if (v === undefined || v === null || v === "") continue;
    if (f.kind === "date") out[f.name] = (v as Dayjs).format("YYYY-MM-DD");
    else if (f.kind === "bool") out[f.name] = v === "yes";
    else if (f.kind === "int") out[f.name] = Number(v);
    else if (f.kind === "tags") {
      const list = (v as string[]).map((x) => x.trim()).filter(Boolean);
      if (list.length) out[f.name] = list;
    } else if (String(v).trim()) out[f.name] = String(v).trim();
  }
  return Object.keys(out).length ? out : null;
}

/** The control of one field; Form.Item hands it id, value and onChange, passed on as they are. */
function FieldInput({ f, ...control }: { f: FieldSpec; id?: string; value?: never; onChange?: never }) {
  const { t } = useI18n();
  if (f.kind === "date") return <DatePicker style={{ width: "100%" }} {...control} />;
  if (f.kind === "bool") return <Select allowClear options={[{ value: "yes", label: t("usercrm.yes") }, { value: "no", label: t("usercrm.no") }]} {...control} />;
  if (f.kind === "int") return <InputNumber min={0} max={100} precision={0} style={{ width: "100%" }} {...control} />;
  if (f.kind === "tags") return <Select mode="tags" open={false} suffixIcon={null} {...control} />;
  if (f.kind === "bankKind") return <Select allowClear options={[{ value: "bank", label: t("usercrm.bankKind.bank") }, { value: "payment_system", label: t("usercrm.bankKind.payment_system") }]} {...control} />;
  return <Input maxLength={f.max ?? 200} {...control} />;
}

function useRequest<V>(customerId: string, send: (v: V) => Promise<api.UserRequest>, onDone: () => void) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: send,
    onSuccess: (r) => {
      message.success(r.state === "awaiting_approval" ? t("usercrm.needsApproval") : t("usercrm.sent"));
      void qc.invalidateQueries({ queryKey: ["usercrm", customerId] });
      onDone();
    },
  });
}

export function EditInfoDialog({ customerId, open, onClose }: { customerId: string; open: boolean; onClose: () => void }) {
  const { t } = useI18n();
  const [form] = Form.useForm<Record<string, unknown>>();
  const [section, setSection] = useState<api.InfoSection>("general");
  const [nothing, setNothing] = useState(false);
  const req = useRequest(customerId, (body: Record<string, unknown>) => api.changeInfo(customerId, section, body), onClose);
  const submit = () => form.validateFields().then((v) => {
    const body = changeBody(section, v);
    setNothing(!body);
    if (body) req.mutate(body);
  }, () => undefined);
  return (
    <Modal open={open} destroyOnHidden onCancel={onClose} title={t("usercrm.edit.info")} okText={t("common.submit")} width={720}
      confirmLoading={req.isPending} onOk={submit} afterOpenChange={(o) => { if (!o) { req.reset(); setNothing(false); setSection("general"); } }}>
      <Typography.Paragraph type="secondary">{t("usercrm.edit.hint")}</Typography.Paragraph>
      <Form form={form} layout="vertical" name="user-info-edit" preserve={false}>
        <Form.Item label={t("usercrm.edit.section")} htmlFor="user-info-section">
          <Select id="user-info-section" value={section} data-testid="user-info-section"
            onChange={(s) => { form.resetFields(); setNothing(false); setSection(s); }}
            options={api.INFO_SECTIONS.map((s) => ({ value: s, label: t(sectionLabel(s)) }))} />
        </Form.Item>
        <Row gutter={12}>
          {SECTION_FIELDS[section].map((f) => (
            <Col span={12} key={`${section}.${f.name}`}>
              <Form.Item name={f.name} label={t(`usercrm.field.${f.name}` as MessageKey)}
                normalize={f.upper ? (v: string) => v?.toUpperCase() : undefined}
                rules={[
                  ...(f.required ? [{ required: true, whitespace: true, message: t("common.required") }] : []),
                  ...(f.pattern ? [{ pattern: f.pattern, message: t(f.bad!) }] : []),
                  ...(f.kind === undefined ? [{ max: f.max ?? 200, message: t("usercrm.bad.long") }] : []),
                ]}>
                <FieldInput f={f} />
              </Form.Item>
            </Col>
          ))}
        </Row>
      </Form>
      {nothing && <Alert type="warning" showIcon message={t("usercrm.edit.nothing")} />}
      {req.isError ? <ProblemAlert error={req.error} /> : null}
    </Modal>
  );
}

const NETWORK = /^[a-z][a-z0-9_]{1,30}$/;
const URL_RE = /^https:\/\/\S{3,300}$/;

export function SocialLinksDialog({ customerId, links, open, onClose }: {
  customerId: string; links: Record<string, string>; open: boolean; onClose: () => void;
}) {
  const { t } = useI18n();
  const [form] = Form.useForm<{ links: { network: string; url: string }[] }>();
  const req = useRequest(customerId, (body: Record<string, string>) => api.editSocialLinks(customerId, body), onClose);
  const submit = () => form.validateFields().then((v) => {
    req.mutate(Object.fromEntries((v.links ?? []).map((l) => [l.network.trim(), l.url.trim()])));
  }, () => undefined);
  return (
    <Modal open={open} destroyOnHidden onCancel={onClose} title={t("usercrm.edit.social")} okText={t("common.submit")} width={640}
      confirmLoading={req.isPending} onOk={submit} afterOpenChange={(o) => { if (!o) req.reset(); }}>
      <Typography.Paragraph type="secondary">{t("usercrm.edit.socialHint")}</Typography.Paragraph>
      <Form form={form} name="user-social-links" preserve={false}
        initialValues={{ links: Object.entries(links).map(([network, url]) => ({ network, url })) }}>
        <Form.List name="links" rules={[{ validator: async (_, v: unknown[]) => { if ((v ?? []).length > 20) throw new Error(t("usercrm.edit.tooMany")); } }]}>
          {(fields, { add, remove }, { errors }) => (
            <>
              {fields.map((field, i) => (
                <Space key={field.key} align="start" style={{ display: "flex" }}>
                  <Form.Item name={[field.name, "network"]} normalize={(v: string) => v?.toLowerCase()}
                    rules={[
                      { required: true, message: t("common.required") },
                      { pattern: NETWORK, message: t("usercrm.edit.badNetwork") },
                      ({ getFieldValue }) => ({
                        validator: async (_, v: string) => {
                          const all = (getFieldValue("links") as { network?: string }[]).map((l) => l?.network);
                          if (v && all.filter((n) => n === v).length > 1) throw new Error(t("usercrm.edit.duplicate"));
                        },
                      }),
                    ]}>
                    <Input placeholder="linkedin" aria-label={`${t("usercrm.edit.network")} ${i + 1}`} style={{ width: 160 }} data-testid={`social-network-${i}`} />
                  </Form.Item>
                  <Form.Item name={[field.name, "url"]} rules={[{ required: true, message: t("common.required") }, { pattern: URL_RE, message: t("usercrm.edit.badUrl") }]}>
                    <Input placeholder="https://" aria-label={`${t("usercrm.edit.url")} ${i + 1}`} style={{ width: 340 }} data-testid={`social-url-${i}`} />
                  </Form.Item>
                  <Button icon={<DeleteOutlined />} onClick={() => remove(field.name)} aria-label={`${t("usercrm.edit.remove")} ${i + 1}`} />
                </Space>
              ))}
              <Button icon={<PlusOutlined />} onClick={() => add({ network: "", url: "" })} disabled={fields.length >= 20} data-testid="social-add">{t("usercrm.edit.addLink")}</Button>
              <Form.ErrorList errors={errors} />
            </>
          )}
        </Form.List>
      </Form>
      {req.isError ? <ProblemAlert error={req.error} /> : null}
    </Modal>
  );
}
