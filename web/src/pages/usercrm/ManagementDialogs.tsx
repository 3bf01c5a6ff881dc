// User management (seed 003): "Client/lead owner" and "Change Admin Access Level", each a request to the
// platform with a mandatory reason. The owner is one of the active account managers the caller may assign to
// (the assignment service's list, in the caller's scope); once the platform confirms, the assignment service
// gives the customer to the new owner. The panel shows the latest such request while it is pending, or its
// failure, beside the current value.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Form, Input, Modal, Select, Tag, Typography } from "antd";
import type { FormRule as Rule } from "antd";
import { submitValid } from "../../components/submitValid";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { listManagers } from "../../services/assignment";
import * as api from "../../services/usercrm";

const PENDING = new Set(["awaiting_approval", "submitted", "accepted"]);
export type ManageKind = "owner" | "access";
const ACTION: Record<ManageKind, string> = { owner: "change_owner", access: "change_access_level" };

/** The latest owner / access-level request's state worth showing beside the value: pending (with the value
 *  asked for) or failed (with the platform's reason); null once it is done or when there is none. */
export function changeState(requests: api.UserRequest[], kind: ManageKind): { state: "pending" | "failed"; value: string; reason: string | null } | null {
  const latest = requests
    .filter((r) => r.action === ACTION[kind])
    .sort((a, b) => b.requested_at.localeCompare(a.requested_at))[0];
  if (!latest) return null;
  const value = String((kind === "owner" ? latest.summary.owner_id : latest.summary.access_level) ?? "");
  if (PENDING.has(latest.state)) return { state: "pending", value, reason: null };
  if (latest.state === "failed") return { state: "failed", value, reason: latest.failure_reason ?? latest.failure_code };
  return null;
}

/** A completed owner change the panel does not show yet: the assignment service follows it shortly after
 *  the platform's confirmation, so the profile is read again until it does (for two minutes at most). */
export function ownerFollowing(profile: api.Profile | undefined, requests: api.UserRequest[], now = Date.now()): boolean {
  const done = requests
    .filter((r) => r.action === ACTION.owner && r.state === "completed" && r.done_at)
    .sort((a, b) => b.done_at!.localeCompare(a.done_at!))[0];
  if (!done || !profile || now - Date.parse(done.done_at!) > 120_000) return false;
  return profile.owner?.manager_id !== done.summary.owner_id;
}

/** A mandatory reason (block, unblock, owner, access level): 3 to 200 characters once trimmed, as the
 *  service counts them. */
export function reasonRules(t: (k: MessageKey) => string): Rule[] {
  return [{ required: true, whitespace: true, message: t("common.required") }, {
    validator: async (_, v: string | undefined) => { const n = (v ?? "").trim().length; if (n && (n < 3 || n > 200)) throw new Error(t("usercrm.reasonLength")); },
  }];
}

/** The form's rules: a value, different from the current one; a reason of 3 to 200 characters once trimmed. */
export function manageRules(t: (k: MessageKey) => string, kind: ManageKind, current: string | null | undefined): { value: Rule[]; reason: Rule[] } {
  return {
    // a validator, not `required`: antd would put aria-required on the Select's wrapper div (an axe violation)
    value: [{
      validator: async (_, v: string | undefined) => {
        if (!v) throw new Error(t("common.required"));
        if (v === current) throw new Error(t(kind === "owner" ? "usercrm.manage.sameOwner" : "usercrm.manage.sameLevel"));
      },
    }],
    reason: reasonRules(t),
  };
}

/** The state beside the owner or the access level on the panel. */
export function ChangeStateTag({ requests, kind, label }: { requests: api.UserRequest[]; kind: ManageKind; label?: (v: string) => string }) {
  const { t } = useI18n();
  const s = changeState(requests, kind);
  if (!s) return null;
  return s.state === "pending"
    ? <Tag color="blue" data-testid={`user-${kind}-pending`}>{t("usercrm.manage.pending", { value: label ? label(s.value) : s.value })}</Tag>
    : <Typography.Text type="danger" data-testid={`user-${kind}-failed`}>{t("usercrm.manage.failed", { reason: s.reason ?? "—" })}</Typography.Text>;
}

interface Values { value?: string; reason?: string }

export function ManageDialog({ customerId, kind, current, onClose }: {
  customerId: string; kind: ManageKind | null; current: { owner: string | null; access: string | null }; onClose: () => void;
}) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<Values>();
  const managers = useQuery({ queryKey: ["assignment", "managers", "active"], queryFn: () => listManagers(), enabled: kind === "owner" });
  const req = useMutation({
    mutationFn: (v: Values) => kind === "owner"
      ? api.changeOwner(customerId, v.value!, v.reason!.trim())
      : api.changeAccessLevel(customerId, v.value as api.AccessLevel, v.reason!.trim()),
    onSuccess: () => {
      message.success(t("usercrm.sent"));
      void qc.invalidateQueries({ queryKey: ["usercrm", customerId] });
      onClose();
    },
  });
  const rules = manageRules(t, kind ?? "owner", kind === "owner" ? current.owner : current.access);
  const fieldId = `user-manage-${kind ?? "owner"}`;
  const options = kind === "owner"
    ? (managers.data ?? []).map((m) => ({ value: m.manager_id, label: `${m.name} (${m.manager_id})` }))
    : api.ACCESS_LEVELS.map((l) => ({ value: l, label: t(`usercrm.accessLevel.${l}` as MessageKey) }));
  return (
    <Modal open={!!kind} destroyOnHidden onCancel={onClose} confirmLoading={req.isPending} okText={t("common.submit")}
      title={kind ? t(kind === "owner" ? "usercrm.manage.owner" : "usercrm.manage.accessLevel") : ""}
      onOk={() => submitValid(form, (v) => req.mutate(v))} afterOpenChange={(o) => { if (!o) req.reset(); }}>
      <Typography.Paragraph type="secondary">{t(kind === "owner" ? "usercrm.manage.ownerHint" : "usercrm.manage.levelHint")}</Typography.Paragraph>
      <Form<Values> form={form} layout="vertical" name="user-manage" preserve={false}>
        <Form.Item name="value" label={t(kind === "owner" ? "usercrm.manage.newOwner" : "usercrm.manage.newLevel")} htmlFor={fieldId} rules={rules.value}>
          <Select id={fieldId} showSearch optionFilterProp="label" loading={kind === "owner" && managers.isPending} options={options} data-testid={fieldId} />
        </Form.Item>
        <Form.Item name="reason" label={t("usercrm.reason")} rules={rules.reason}>
          <Input.TextArea rows={3} maxLength={200} showCount data-testid="user-manage-reason" />
        </Form.Item>
      </Form>
      {managers.isError ? <ProblemAlert error={managers.error} /> : null}
      {req.isError ? <ProblemAlert error={req.error} /> : null}
    </Modal>
  );
}
