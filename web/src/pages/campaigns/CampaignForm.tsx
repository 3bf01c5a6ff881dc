// Planning a campaign: name, purpose, period, audience (stages, tags and a saved segment, or a list of customer ids) with a
// preview of its size and a sample, distribution, channels, metrics and attribution window.
import { useMutation, useQuery } from "@tanstack/react-query";
import { App, Button, Checkbox, Drawer, Form, Input, InputNumber, Select, Space, Typography } from "antd";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { listSegments } from "../../services/customers";
import { CHANNELS, DISTRIBUTIONS, METRICS, STAGES, createCampaign, previewAudience, type Campaign } from "../../services/campaigns";
import { endAfterStart, needsTeam, planFrom, type PlanValues } from "./plan";

export function CampaignForm({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (c: Campaign) => void }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [form] = Form.useForm<PlanValues>();
  const distribution = Form.useWatch("distribution", form);
  const segments = useQuery({ queryKey: ["customers", "segments"], queryFn: ({ signal }) => listSegments(signal), enabled: open });
  const preview = useMutation({ mutationFn: async () => previewAudience(planFrom({ ...form.getFieldsValue(true), name: "-" } as PlanValues).audience) });
  const create = useMutation({
    mutationFn: (v: PlanValues) => createCampaign(planFrom(v)),
    onSuccess: (c) => { message.success(t("campaigns.created")); form.resetFields(); preview.reset(); onCreated(c); },
  });
  // a validator, not `required`: antd would put aria-required on a Select or a checkbox group (axe: aria-allowed-attr)
  const picked = { validator: (_: unknown, v: unknown) => (Array.isArray(v) ? v.length : v) ? Promise.resolve() : Promise.reject(new Error(t("common.required"))) };
  const label = (prefix: string) => (v: string) => ({ value: v, label: t(`${prefix}.${v}` as MessageKey) });
  return (
    <Drawer open={open} onClose={onClose} title={t("campaigns.new")} width={560} destroyOnHidden
      extra={<Button type="primary" loading={create.isPending} onClick={() => form.submit()} data-testid="campaign-save">{t("common.save")}</Button>}>
      <Form<PlanValues> form={form} layout="vertical" name="campaign" onFinish={(v) => create.mutate(v)}
        initialValues={{ distribution: "assigned_manager", channels: ["phone"], metrics: ["funded"], attribution_window_days: 30, control_pct: 0 }}>
        <Form.Item name="name" label={t("campaigns.f.name")} rules={[{ required: true, whitespace: true, message: t("common.required") }, { max: 200 }]}>
          <Input />
        </Form.Item>
        <Form.Item name="purpose" label={t("campaigns.f.purpose")} rules={[{ max: 4000 }]}>
          <Input.TextArea rows={2} />
        </Form.Item>
        <Space align="start" wrap>
          <Form.Item name="start" label={t("campaigns.f.start")} rules={[{ required: true, message: t("common.required") }]}>
            <Input type="datetime-local" />
          </Form.Item>
          <Form.Item name="end" label={t("campaigns.f.end")} dependencies={["start"]} rules={[
            { required: true, message: t("common.required") },
            ({ getFieldValue }) => ({ validator: (_, v?: string) => (endAfterStart(getFieldValue("start"), v) ? Promise.resolve() : Promise.reject(new Error(t("campaigns.f.endAfterStart")))) }),
          ]}>
            <Input type="datetime-local" />
          </Form.Item>
        </Space>
        <Form.Item name="stages" label={t("campaigns.f.stages")}>
          <Select mode="multiple" allowClear aria-label={t("campaigns.f.stages")} options={STAGES.map((s) => ({ value: s, label: t(`stage.${s}` as MessageKey) }))} />
        </Form.Item>
        <Form.Item name="tags" label={t("campaigns.f.tags")}>
          <Select mode="tags" allowClear aria-label={t("campaigns.f.tags")} open={false} suffixIcon={null} />
        </Form.Item>
        {/* the customers in a saved segment now (the campaigns service's copy of crm.customer.segment_membership_changed) */}
        <Form.Item name="segment_id" label={t("campaigns.f.segment")}>
          <Select allowClear showSearch optionFilterProp="label" aria-label={t("campaigns.f.segment")} data-testid="campaign-segment"
            options={(segments.data ?? []).map((s) => ({ value: s.segment_id, label: `${s.name} · ${s.count}` }))} />
        </Form.Item>
        <Form.Item name="customer_ids" label={t("campaigns.f.customerIds")}>
          <Input.TextArea rows={2} />
        </Form.Item>
        <Space direction="vertical" style={{ marginBottom: 16 }}>
          <Button onClick={() => preview.mutate()} loading={preview.isPending} data-testid="campaign-preview">{t("campaigns.preview")}</Button>
          {preview.isError && <ProblemAlert error={preview.error} />}
          {preview.data && (
            <Typography.Text data-testid="campaign-preview-size">
              {t("campaigns.previewSize", { n: preview.data.size })}
              {preview.data.sample.length > 0 && `: ${preview.data.sample.map((s) => s.customer_id).join(", ")}`}
            </Typography.Text>
          )}
        </Space>
        <Form.Item name="distribution" label={t("campaigns.f.distribution")} rules={[picked]}>
          <Select aria-label={t("campaigns.f.distribution")} options={DISTRIBUTIONS.map(label("campaigns.dist"))} />
        </Form.Item>
        <Form.Item name="team_id" label={t("campaigns.f.team")} dependencies={["distribution"]}
          rules={[{ validator: (_, v?: string) => (!needsTeam(distribution) || v?.trim() ? Promise.resolve() : Promise.reject(new Error(t("campaigns.f.teamNeeded")))) }]}>
          <Input />
        </Form.Item>
        <Form.Item name="channels" label={t("campaigns.f.channels")} rules={[picked]}>
          <Checkbox.Group options={CHANNELS.map(label("campaigns.channel"))} />
        </Form.Item>
        <Form.Item name="metrics" label={t("campaigns.f.metrics")} rules={[picked]}>
          <Checkbox.Group options={METRICS.map(label("campaigns.metric"))} />
        </Form.Item>
        <Form.Item name="attribution_window_days" label={t("campaigns.f.window")} rules={[{ required: true, type: "integer", min: 1, max: 365 }]}>
          <InputNumber min={1} max={365} />
        </Form.Item>
        <Form.Item name="control_pct" label={t("campaigns.f.control")} extra={t("campaigns.f.controlHelp")}
          rules={[{ type: "integer", min: 0, max: 50 }]}>
          <InputNumber min={0} max={50} addonAfter="%" />
        </Form.Item>
        {create.isError && <ProblemAlert error={create.error} />}
      </Form>
    </Drawer>
  );
}
