import { PlusOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, DatePicker, Form, Input, List, Modal, Select, Space, Tag, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { useAuth } from "../../../auth/AuthProvider";
import { ProblemAlert, QueryState } from "../../../components/PageState";
import { useI18n } from "../../../i18n";
import { addFollowUp, CONTACT_METHODS, listFollowUps, type ContactMethod, type FollowUpBody } from "../../../services/tasks";
import type { FollowUp } from "../../../services/models";

export interface FollowUpValues {
  intent?: string;
  tier?: string;
  contact_methods: ContactMethod[];
  next_follow_up_at?: Dayjs | null;
  tags: string[];
  remarks?: string;
}

const INTENTS = ["interested", "considering", "not_interested", "unreachable"];
const TIERS = ["A", "B", "C", "D"];

/** Form values → the tasks service's FollowUpIn (empty strings left out). */
export function toFollowUpBody(v: FollowUpValues, taskId?: string): FollowUpBody {
  return {
    intent: v.intent?.trim() || null,
    tier: v.tier?.trim() || null,
    contact_methods: v.contact_methods ?? [],
    next_follow_up_at: v.next_follow_up_at ? v.next_follow_up_at.toISOString() : null,
    tags: (v.tags ?? []).map((x) => x.trim()).filter(Boolean),
    remarks: v.remarks?.trim() || null,
    ...(taskId ? { task_id: taskId } : {}),
  };
}

/** Add Follow-up Record (seed 000: intent, tier, contact methods, next follow-up time, tags, remarks). */
export function FollowUpForm({ onSubmit, pending }: { onSubmit: (v: FollowUpValues) => void; pending?: boolean }) {
  const { t, label } = useI18n();
  const [form] = Form.useForm<FollowUpValues>();
  return (
    <Form<FollowUpValues> form={form} layout="vertical" name="follow-up" initialValues={{ contact_methods: [], tags: [] }}
      onFinish={onSubmit}
      onFinishFailed={() => undefined}
    >
      <Space style={{ width: "100%" }} size="middle" align="start">
        <Form.Item name="intent" label={t("followup.intent")} style={{ width: 240 }}>
          <Select allowClear options={INTENTS.map((i) => ({ value: i, label: i.replace(/_/g, " ") }))} />
        </Form.Item>
        <Form.Item name="tier" label={t("followup.tier")} style={{ width: 120 }}>
          <Select allowClear options={TIERS.map((x) => ({ value: x, label: x }))} />
        </Form.Item>
      </Space>
      <Form.Item name="contact_methods" label={t("followup.contact")} rules={[{ type: "array", max: 10 }]}>
        <Select mode="multiple" options={CONTACT_METHODS.map((m) => ({ value: m, label: label("contact", m) }))} />
      </Form.Item>
      <Form.Item name="next_follow_up_at" label={t("followup.next")}
        rules={[{ validator: (_, v: Dayjs | null) => !v || v.isAfter(dayjs()) ? Promise.resolve() : Promise.reject(new Error(t("followup.future"))) }]}>
        <DatePicker showTime disabledDate={(d) => d.isBefore(dayjs(), "day")} />
      </Form.Item>
      <Form.Item name="tags" label={t("followup.tags")} rules={[{ type: "array", max: 20 }]}>
        <Select mode="tags" tokenSeparators={[","]} open={false} />
      </Form.Item>
      <Form.Item name="remarks" label={t("followup.remark")}
        rules={[{ max: 4000 }, ({ getFieldsValue }) => ({
          validator: () => {
            const v = getFieldsValue() as FollowUpValues;
            const any = v.intent || v.tier || (v.contact_methods ?? []).length || v.next_follow_up_at || (v.tags ?? []).length || v.remarks?.trim();
            return any ? Promise.resolve() : Promise.reject(new Error(t("followup.emptyRecord")));
          },
        })]}>
        <Input.TextArea rows={3} showCount maxLength={4000} />
      </Form.Item>
      <Button type="primary" htmlType="submit" loading={pending} data-testid="followup-submit">{t("common.submit")}</Button>
    </Form>
  );
}

/** The customer's follow-up records: from the drawer's one call when it hands them over (`items`), else read. */
export function FollowUpsTab({ customerId, items }: { customerId: string; items?: FollowUp[] }) {
  const { t, label } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [adding, setAdding] = useState(false);
  const own = useQuery({ queryKey: ["customer", customerId, "follow-ups"], queryFn: () => listFollowUps(customerId), enabled: !items });
  const q = items ? { isPending: false, isError: false, error: null, data: { items }, refetch: () => undefined } : own;
  const add = useMutation({
    mutationFn: (v: FollowUpValues) => addFollowUp(customerId, toFollowUpBody(v)),
    onSuccess: () => {
      message.success(t("followup.done"));
      setAdding(false);
      // the record is published, then folded into the 360 by the customer service: look again shortly
      void qc.invalidateQueries({ queryKey: ["customer", customerId] });
      setTimeout(() => void qc.invalidateQueries({ queryKey: ["customer", customerId] }), 1500);
    },
  });
  return (
    <>
      {may("customers.followUp") && (
        <Button icon={<PlusOutlined />} onClick={() => setAdding(true)} style={{ marginBottom: 12 }} data-testid="followup-add">{t("followup.add")}</Button>
      )}
      <QueryState query={q} isEmpty={(d) => d.items.length === 0} empty={t("followup.empty")}>
        {(d) => (
          <List
            dataSource={d.items}
            renderItem={(f) => (
              <List.Item>
                <List.Item.Meta
                  title={<Space wrap>
                    <Typography.Text strong>{f.recorded_at ? dayjs(f.recorded_at).format("YYYY-MM-DD HH:mm") : ""}</Typography.Text>
                    {f.manager_id && <Typography.Text type="secondary">{f.manager_id}</Typography.Text>}
                    {f.intent && <Tag color="geekblue">{t("followup.intent")}: {f.intent}</Tag>}
                    {f.tier && <Tag color="purple">{t("followup.tier")}: {f.tier}</Tag>}
                    {(f.contact_methods ?? []).map((m) => <Tag key={m}>{label("contact", m)}</Tag>)}
                  </Space>}
                  description={<>
                    {f.remarks && <Typography.Paragraph style={{ whiteSpace: "pre-wrap", marginBottom: 4 }}>{f.remarks}</Typography.Paragraph>}
                    {(f.tags ?? []).map((x) => <Tag key={x}>{x}</Tag>)}
                    {f.next_follow_up_at && <Typography.Text type="secondary">{t("followup.next")}: {dayjs(f.next_follow_up_at).format("YYYY-MM-DD HH:mm")}</Typography.Text>}
                  </>}
                />
              </List.Item>
            )}
          />
        )}
      </QueryState>
      <Modal open={adding} title={t("followup.add")} footer={null} onCancel={() => setAdding(false)} destroyOnHidden width={640}>
        <FollowUpForm onSubmit={(v) => add.mutate(v)} pending={add.isPending} />
        {add.isError && <div style={{ marginTop: 12 }}><ProblemAlert error={add.error} /></div>}
      </Modal>
    </>
  );
}
