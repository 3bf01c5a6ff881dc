import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Form, InputNumber, Modal, Select } from "antd";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import { assignBulk, assignOne, listManagers } from "../../services/assignment";
import { STAGES, type Stage } from "../../services/models";

interface Values {
  manager_id: string;
  stage: Stage | "all";
  share: number;
}

/** Assign / bulk assign with performance attribution (seed 002: 分配客经, 业绩归属). */
export function AssignDialog({ customerIds, onClose }: { customerIds: string[]; onClose: (done: boolean) => void }) {
  const { t, label } = useI18n();
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const qc = useQueryClient();
  const managers = useQuery({ queryKey: ["assignment", "managers"], queryFn: () => listManagers() });
  const mutation = useMutation({
    mutationFn: async (v: Values) => {
      const stage = v.stage === "all" ? null : v.stage;
      if (customerIds.length === 1) {
        await assignOne(customerIds[0], v.manager_id, stage, v.share);
        return customerIds.length;
      }
      const r = await assignBulk(customerIds, v.manager_id, stage, v.share);
      return (r.counts.assigned ?? 0) + (r.counts.unchanged ?? 0);
    },
    onSuccess: (n) => {
      message.success(customerIds.length === 1 ? t("assign.done", { count: n }) : t("assign.bulkDone", { count: n }));
      void qc.invalidateQueries({ queryKey: ["customers"] });
      void qc.invalidateQueries({ queryKey: ["assignment"] });
      onClose(true);
    },
  });
  return (
    <Modal
      open
      title={t("assign.title", { count: customerIds.length })}
      okText={t("common.submit")}
      cancelText={t("common.cancel")}
      onCancel={() => onClose(false)}
      onOk={() => form.submit()}
      confirmLoading={mutation.isPending}
      destroyOnHidden
      okButtonProps={{ "data-testid": "assign-submit" } as never}
    >
      <Form<Values> form={form} layout="vertical" initialValues={{ stage: "all", share: 1 }} onFinish={(v) => mutation.mutate(v)} name="assign">
        {/* a validator, not `required`: antd would put aria-required on the Select's wrapper div (an axe violation) */}
        <Form.Item name="manager_id" label={t("assign.manager")}
          rules={[{ validator: (_, v?: string) => (v ? Promise.resolve() : Promise.reject(new Error(t("common.required")))) }]}>
          <Select
            showSearch
            placeholder={t("assign.managerPlaceholder")}
            loading={managers.isPending}
            optionFilterProp="label"
            data-testid="assign-manager"
            options={(managers.data ?? []).map((m) => ({ value: m.manager_id, label: `${m.name} (${m.manager_id}${m.team_id ? ` · ${m.team_id}` : ""})` }))}
          />
        </Form.Item>
        <Form.Item name="stage" label={t("assign.stage")}>
          <Select options={[{ value: "all", label: t("assign.stageAll") }, ...STAGES.map((s) => ({ value: s, label: label("stage", s) }))]} />
        </Form.Item>
        <Form.Item name="share" label={t("assign.share")}
          rules={[{ required: true, message: t("common.required") }, { type: "number", min: 0.0001, max: 1, message: t("assign.shareInvalid") }]}>
          <InputNumber step={0.1} style={{ width: 160 }} />
        </Form.Item>
      </Form>
      {managers.isError && <ProblemAlert error={managers.error} />}
      {mutation.isError && <ProblemAlert error={mutation.error} />}
    </Modal>
  );
}
