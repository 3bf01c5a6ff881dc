// Saved segments on the Customer List: pick one (its customers, with the other filters), save the current
// filters as a dynamic segment, or the selected customers as a static list; each shows its count.
import { DeleteOutlined, SaveOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Form, Input, Modal, Popconfirm, Select, Space } from "antd";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import { deleteSegment, listSegments, saveFilterAsSegment, saveStaticSegment } from "../../services/customers";
import { toFilterQuery, type CustomerFilters } from "./filters";

export function SegmentsBar({ filters, selected, onChange }: {
  filters: CustomerFilters;
  selected: string[];
  onChange: (f: CustomerFilters) => void;
}) {
  const { t, lang } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [saving, setSaving] = useState<"dynamic" | "static" | null>(null);
  const [form] = Form.useForm<{ name: string }>();
  const segments = useQuery({ queryKey: ["customers", "segments"], queryFn: ({ signal }) => listSegments(signal) });
  const save = useMutation({
    mutationFn: ({ name, kind }: { name: string; kind: "dynamic" | "static" }) => {
      const { segment: _s, ...filter } = toFilterQuery(filters);
      return kind === "dynamic" ? saveFilterAsSegment(name, filter) : saveStaticSegment(name, selected);
    },
    onSuccess: (seg) => {
      message.success(t("segments.saved", { name: seg.name, count: seg.count.toLocaleString(lang) }));
      setSaving(null);
      form.resetFields();
      void qc.invalidateQueries({ queryKey: ["customers", "segments"] });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => deleteSegment(id),
    onSuccess: () => {
      onChange({ ...filters, segment: undefined });
      void qc.invalidateQueries({ queryKey: ["customers", "segments"] });
    },
  });
  return (
    <Space wrap style={{ marginBottom: 12 }} data-testid="segments-bar">
      <label htmlFor="f-segment">{t("segments.label")}</label>
      <Select id="f-segment" allowClear style={{ minWidth: 260 }} placeholder={t("segments.all")} loading={segments.isPending}
        value={filters.segment} onChange={(v?: string) => onChange({ ...filters, segment: v })} data-testid="segment-select"
        options={(segments.data ?? []).map((s) => ({
          value: s.segment_id,
          label: t("segments.option", { name: s.name, count: s.count.toLocaleString(lang), kind: t(`segments.kind.${s.kind}` as "segments.kind.static") }),
        }))} />
      {may("customers.segments") && (
        <>
          <Button icon={<SaveOutlined />} onClick={() => setSaving("dynamic")} data-testid="segment-save-filter">{t("segments.saveFilter")}</Button>
          <Button disabled={selected.length === 0} onClick={() => setSaving("static")} data-testid="segment-save-selected">
            {t("segments.saveSelected", { n: selected.length })}
          </Button>
          {filters.segment && (
            <Popconfirm title={t("segments.deleteConfirm")} onConfirm={() => remove.mutate(filters.segment!)}>
              <Button danger icon={<DeleteOutlined />} aria-label={t("segments.delete")} data-testid="segment-delete" />
            </Popconfirm>
          )}
        </>
      )}
      <Modal open={saving !== null} title={saving === "static" ? t("segments.saveSelected", { n: selected.length }) : t("segments.saveFilter")}
        okText={t("common.save")} onOk={() => form.submit()} confirmLoading={save.isPending} onCancel={() => setSaving(null)} destroyOnHidden>
        <Form form={form} layout="vertical" name="segment" onFinish={(v) => save.mutate({ name: v.name.trim(), kind: saving ?? "dynamic" })}>
          <Form.Item name="name" label={t("segments.name")} rules={[{ required: true, whitespace: true, message: t("common.required") }, { max: 200 }]}>
            <Input maxLength={200} data-testid="segment-name" />
          </Form.Item>
        </Form>
        {save.isError && <ProblemAlert error={save.error} />}
      </Modal>
    </Space>
  );
}
