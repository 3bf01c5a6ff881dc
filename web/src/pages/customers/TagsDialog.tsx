import { useMutation, useQueryClient } from "@tanstack/react-query";
import { App, Form, Modal, Select } from "antd";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import { batchTags } from "../../services/customers";

export const TAG_PATTERN = /^[\w\- ]{1,40}$/;

export function TagsDialog({ customerIds, onClose }: { customerIds: string[]; onClose: (done: boolean) => void }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ add: string[]; remove: string[] }>();
  const qc = useQueryClient();
  const mutation = useMutation({
    mutationFn: (v: { add: string[]; remove: string[] }) => batchTags(customerIds, v.add ?? [], v.remove ?? []),
    onSuccess: () => {
      message.success(t("tags.done", { count: customerIds.length }));
      void qc.invalidateQueries({ queryKey: ["customers"] });
      onClose(true);
    },
  });
  const tagRule = {
    validator: (_: unknown, v: string[] | undefined) =>
      (v ?? []).every((x) => TAG_PATTERN.test(x)) ? Promise.resolve() : Promise.reject(new Error(t("tags.invalid"))),
  };
  return (
    <Modal open title={t("tags.title", { count: customerIds.length })} okText={t("common.submit")} cancelText={t("common.cancel")}
      onCancel={() => onClose(false)} onOk={() => form.submit()} confirmLoading={mutation.isPending} destroyOnHidden>
      <Form form={form} layout="vertical" initialValues={{ add: [], remove: [] }} onFinish={(v) => mutation.mutate(v)} name="bulk-tags">
        <Form.Item name="add" label={t("tags.add")} rules={[tagRule]}>
          <Select mode="tags" tokenSeparators={[","]} open={false} />
        </Form.Item>
        <Form.Item name="remove" label={t("tags.remove")} rules={[tagRule]}>
          <Select mode="tags" tokenSeparators={[","]} open={false} />
        </Form.Item>
      </Form>
      {mutation.isError && <ProblemAlert error={mutation.error} />}
    </Modal>
  );
}
