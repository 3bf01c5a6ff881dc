// Resign a manager, handing every customer over to another manager or back to the pool.
import { submitValid } from "../../components/submitValid";
import { Alert, Form, Modal, Radio, Select } from "antd";
import { useI18n } from "../../i18n";
import type { ManagerRow } from "../../services/assignment";
import { ProblemAlert } from "../../components/PageState";

export interface ResignValues { handover: "manager" | "pool"; to_manager_id?: string }

export function ResignDialog({ manager, managers, onClose, onResign, pending, error }: {
  manager: ManagerRow | null; managers: ManagerRow[]; onClose: () => void; onResign: (v: ResignValues) => void; pending: boolean; error: unknown;
}) {
  const { t } = useI18n();
  const [form] = Form.useForm<ResignValues>();
  const handover = Form.useWatch("handover", form);
  const others = managers.filter((m) => m.manager_id !== manager?.manager_id && m.status === "active");
  return (
    <Modal open={!!manager} onCancel={onClose} destroyOnHidden title={t("managers.resignTitle", { name: manager?.name ?? "" })}
      okText={t("managers.resign")} okButtonProps={{ danger: true, loading: pending }}
      onOk={() => submitValid(form, onResign)}>
      <Alert type="warning" showIcon style={{ marginBottom: 12 }} message={t("managers.resignWarn", { n: manager?.load ?? 0 })} />
      <Form<ResignValues> form={form} layout="vertical" initialValues={{ handover: "pool" }} name="resign">
        <Form.Item name="handover" label={t("managers.handover")}>
          <Radio.Group options={[{ value: "pool", label: t("managers.toPool") }, { value: "manager", label: t("managers.toManager") }]} />
        </Form.Item>
        {handover === "manager" && (
          <Form.Item name="to_manager_id" label={t("managers.successor")} rules={[{ required: true, message: t("managers.pickSuccessor") }]}>
            <Select showSearch optionFilterProp="label" options={others.map((m) => ({ value: m.manager_id, label: `${m.name} (${m.manager_id})` }))} />
          </Form.Item>
        )}
      </Form>
      {error ? <ProblemAlert error={error} /> : null}
    </Modal>
  );
}
