import { useMutation, useQueryClient } from "@tanstack/react-query";
import { App, Form, Input, Modal } from "antd";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import { batchRemark } from "../../services/customers";

export function BatchRemarkDialog({ customerIds, onClose }: { customerIds: string[]; onClose: (done: boolean) => void }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ text: string }>();
  const qc = useQueryClient();
  const mutation = useMutation({
    mutationFn: (text: string) => batchRemark(customerIds, text),
    onSuccess: () => {
      message.success(t("remarks.done", { count: customerIds.length }));
      void qc.invalidateQueries({ queryKey: ["customer"] });
      onClose(true);
    },
  });
  return (
    <Modal open title={t("remarks.title", { count: customerIds.length })} okText={t("common.submit")} cancelText={t("common.cancel")}
      onCancel={() => onClose(false)} onOk={() => form.submit()} confirmLoading={mutation.isPending} destroyOnHidden>
      <Form form={form} layout="vertical" onFinish={(v) => mutation.mutate(v.text.trim())} name="batch-remark">
        <Form.Item name="text" label={t("remarks.text")} rules={[{ required: true, whitespace: true, message: t("common.required") }, { max: 4000 }]}>
          <Input.TextArea rows={4} showCount maxLength={4000} />
        </Form.Item>
      </Form>
      {mutation.isError && <ProblemAlert error={mutation.error} />}
    </Modal>
  );
}
