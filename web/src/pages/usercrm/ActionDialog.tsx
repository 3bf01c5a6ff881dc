// The actions of the User management panel, each a request to the platform: message, block / unblock
// (reason mandatory), reset password, add account, deposit / withdraw, start an allocation. Money requests
// above the threshold wait for a second person's approval (the answer says so).
import { submitValid } from "../../components/submitValid";
import { Form, Input, Modal, Select } from "antd";
import { useQuery } from "@tanstack/react-query";
import { useI18n } from "../../i18n";
import { ProblemAlert } from "../../components/PageState";
import { templates, type Account } from "../../services/usercrm";
import { reasonRules } from "./ManagementDialogs";

export type ActionKind = "message" | "block" | "unblock" | "reset" | "account" | "deposit" | "withdraw" | "allocation";
export interface ActionValues { channel?: string; template_id?: string; variables?: Record<string, string>; reason?: string; account_type?: string; currency?: string; account_id?: string; amount?: string; fund_id?: string }

// The placeholders a template asks the sender for: every `{name}` of its subject and body but the two the
// service fills in itself ({name}: the user's, {brand}: the brokerage's); `{{` is a literal brace, as in Python.
const FILLED_BY_SERVICE = new Set(["name", "brand"]);
export function templateVariables(template: { subject?: unknown; body?: unknown } | undefined): string[] {
  if (!template) return [];
  const text = [template.subject, template.body].filter((x): x is string => typeof x === "string").join("\n").replace(/\{\{|\}\}/g, "");
  const names = [...text.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]).filter((n) => !FILLED_BY_SERVICE.has(n));
  return [...new Set(names)];
}

export const AMOUNT = /^(?!0+(\.0+)?$)\d{1,16}(\.\d{1,8})?$/;
export const CURRENCY = /^[A-Z]{3}$/;

export function ActionDialog({ kind, accounts, onClose, onSubmit, pending, error }: {
  kind: ActionKind | null; accounts: Account[]; onClose: () => void; onSubmit: (kind: ActionKind, v: ActionValues) => void; pending: boolean; error: unknown;
}) {
  const { t } = useI18n();
  const [form] = Form.useForm<ActionValues>();
  const tpl = useQuery({ queryKey: ["usercrm", "templates"], queryFn: ({ signal }) => templates(signal), enabled: kind === "message" });
  const templateId = Form.useWatch("template_id", form);
  const variables = templateVariables(tpl.data?.items.find((x) => x.template_id === templateId) as { subject?: unknown; body?: unknown } | undefined);
  const money = kind === "deposit" || kind === "withdraw" || kind === "allocation";
  const required = { required: true, message: t("common.required") };
  // a validator, not `required`, on a Select: antd would put aria-required on its wrapper div (an axe violation)
  const chosen = { validator: async (_: unknown, v?: string) => { if (!v) throw new Error(t("common.required")); } };
  return (
    <Modal open={!!kind} destroyOnHidden onCancel={onClose} confirmLoading={pending} okText={t("common.submit")}
      title={kind ? t(`usercrm.action.${kind}` as "usercrm.action.message") : ""}
      onOk={() => submitValid(form, (v) => kind && onSubmit(kind, v))}>
      <Form<ActionValues> form={form} layout="vertical" name="user-action" preserve={false} initialValues={{ channel: "in_app", account_type: "cash", currency: "USD" }}>
        {kind === "message" && (<>
          <Form.Item name="channel" label={t("usercrm.channel")} rules={[chosen]}>
            <Select options={["in_app", "email", "sms"].map((c) => ({ value: c, label: t(`usercrm.channel.${c}` as "usercrm.channel.in_app") }))} />
          </Form.Item>
          <Form.Item name="template_id" label={t("usercrm.template")} rules={[chosen]}>
            <Select loading={tpl.isPending} options={(tpl.data?.items ?? []).map((x) => ({ value: x.template_id, label: String(x.title ?? x.name ?? x.template_id) }))} />
          </Form.Item>
          {variables.map((name) => (
            <Form.Item key={name} name={["variables", name]} label={t("usercrm.templateVariable", { name })} rules={[required, { whitespace: true, message: t("common.required") }]}>
              {name === "text" || name === "body"
                ? <Input.TextArea rows={4} maxLength={1000} showCount data-testid={`usercrm-var-${name}`} />
                : <Input maxLength={1000} data-testid={`usercrm-var-${name}`} />}
            </Form.Item>
          ))}
        </>)}
        {(kind === "block" || kind === "unblock") && (
          <Form.Item name="reason" label={t("usercrm.reason")} rules={reasonRules(t)}>
            <Input.TextArea rows={3} maxLength={200} showCount data-testid="usercrm-reason" />
          </Form.Item>
        )}
        {kind === "reset" && <p>{t("usercrm.resetHint")}</p>}
        {kind === "account" && (
          <Form.Item name="account_type" label={t("usercrm.accountType")} rules={[chosen]}>
            <Select options={["cash", "margin"].map((x) => ({ value: x, label: t(`usercrm.accountType.${x}` as "usercrm.accountType.cash") }))} />
          </Form.Item>
        )}
        {(money || kind === "account") && (
          <Form.Item name="currency" label={t("usercrm.currency")} normalize={(v: string) => v.toUpperCase()} rules={[required, { pattern: CURRENCY, message: t("usercrm.badCurrency") }]}>
            <Input maxLength={3} style={{ width: 120 }} />
          </Form.Item>
        )}
        {money && (<>
          <Form.Item name="account_id" label={t("usercrm.account")} rules={[chosen]}>
            <Select options={accounts.filter((a) => a.status === "open").map((a) => ({ value: a.account_id, label: `${a.account_id} · ${a.account_type} · ${a.currency}` }))} />
          </Form.Item>
          <Form.Item name="amount" label={t("usercrm.amount")} rules={[required, { pattern: AMOUNT, message: t("usercrm.badAmount") }]}>
            <Input inputMode="decimal" style={{ width: 200 }} data-testid="usercrm-amount" />
          </Form.Item>
        </>)}
        {kind === "allocation" && (
          <Form.Item name="fund_id" label={t("usercrm.fund")} rules={[required, { pattern: /^[A-Za-z0-9_\-.:]{1,64}$/, message: t("managers.badId") }]}>
            <Input maxLength={64} />
          </Form.Item>
        )}
      </Form>
      {error ? <ProblemAlert error={error} /> : null}
    </Modal>
  );
}
