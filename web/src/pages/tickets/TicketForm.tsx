// Open / edit a ticket (the tasks service's TicketIn / TicketEditIn rules).
import { Form, Input, Select } from "antd";
import type { FormInstance } from "antd";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { PRIORITIES, TICKET_CATEGORIES, type Ticket, type TicketEdit, type TicketIn } from "../../services/tasks";

export const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const USER_ID = /^[A-Za-z0-9_\-.:]{1,64}$/;

export interface TicketValues { customer_id: string; title: string; description?: string; category: string; priority: string; assignee_id?: string }

export function toTicketIn(v: TicketValues): TicketIn {
  return {
    customer_id: v.customer_id.trim(), title: v.title.trim(), description: v.description?.trim() || null,
    category: v.category as TicketIn["category"], priority: v.priority as TicketIn["priority"], assignee_id: v.assignee_id?.trim() || null,
  };
}

/** Only the fields that changed; null when nothing did (the API refuses an empty edit). */
export function toTicketEdit(v: TicketValues, before: Ticket): TicketEdit | null {
  const out: Record<string, unknown> = {};
  if (v.title.trim() !== before.title) out.title = v.title.trim();
  if ((v.description?.trim() || null) !== (before.description ?? null)) out.description = v.description?.trim() || null;
  if (v.category !== before.category) out.category = v.category;
  if (v.priority !== before.priority) out.priority = v.priority;
  return Object.keys(out).length ? (out as TicketEdit) : null;
}

export function TicketForm({ form, editing }: { form: FormInstance<TicketValues>; editing: boolean }) {
  const { t } = useI18n();
  return (
    <Form<TicketValues> form={form} layout="vertical" name="ticket" initialValues={{ category: "other", priority: "normal" }}>
      <Form.Item name="customer_id" label={t("tasks.col.customer")} rules={[{ required: true, message: t("common.required") }, { pattern: CUSTOMER_ID, message: t("tickets.badCustomer") }]}>
        <Input disabled={editing} maxLength={64} />
      </Form.Item>
      <Form.Item name="title" label={t("tickets.titleField")} rules={[{ required: true, whitespace: true, message: t("common.required") }, { max: 200, message: t("report.tooLong", { n: 200 }) }]}>
        <Input maxLength={200} />
      </Form.Item>
      <Form.Item name="description" label={t("tickets.description")} rules={[{ max: 4000, message: t("report.tooLong", { n: 4000 }) }]}>
        <Input.TextArea rows={4} maxLength={4000} showCount />
      </Form.Item>
      <Form.Item name="category" label={t("tickets.category")}>
        <Select options={TICKET_CATEGORIES.map((c) => ({ value: c, label: t(`tickets.category.${c}` as MessageKey) }))} />
      </Form.Item>
      <Form.Item name="priority" label={t("tickets.priority")}>
        <Select options={PRIORITIES.map((p) => ({ value: p, label: t(`tickets.priority.${p}` as MessageKey) }))} />
      </Form.Item>
      {!editing && (
        <Form.Item name="assignee_id" label={t("tickets.assignee")} extra={t("tickets.assigneeHint")} rules={[{ pattern: USER_ID, message: t("managers.badId") }]}>
          <Input maxLength={64} />
        </Form.Item>
      )}
    </Form>
  );
}
