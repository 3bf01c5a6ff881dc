// The Allocations report's management menu (seed 003 "Active Allocations"): add a deposit to an active
// allocation (a request, maker-checker above the threshold), stop it (the platform closes its open trades at
// the market price: asked to confirm), and the fund: its page data and its allocations in the caller's scope.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Descriptions, Form, Input, Modal, Segmented, Table } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { submitValid } from "../../components/submitValid";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import * as api from "../../services/usercrm";
import { AMOUNT, CURRENCY } from "./ActionDialog";

const when = (v: string | null | undefined) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : "—");

export function AllocationDepositDialog({ customerId, allocation, onClose }: { customerId: string; allocation: api.Allocation | null; onClose: () => void }) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<{ amount: string; currency: string }>();
  const req = useMutation({
    mutationFn: (v: { amount: string; currency: string }) => api.allocationDeposit(customerId, allocation!.allocation_id, v.amount, v.currency),
    onSuccess: (r) => {
      message.success(r.state === "awaiting_approval" ? t("usercrm.needsApproval") : t("usercrm.sent"));
      void qc.invalidateQueries({ queryKey: ["usercrm", customerId] });
      onClose();
    },
  });
  const required = { required: true, message: t("common.required") };
  return (
    <Modal open={!!allocation} destroyOnHidden onCancel={onClose} confirmLoading={req.isPending} okText={t("common.submit")}
      title={allocation ? `${t("usercrm.allocationDeposit")} · ${allocation.fund_name ?? allocation.fund_id}` : ""}
      onOk={() => submitValid(form, (v) => req.mutate(v))} afterOpenChange={(o) => { if (!o) req.reset(); }}>
      <Form form={form} layout="vertical" name="allocation-deposit" preserve={false} initialValues={{ currency: allocation?.currency ?? "USD" }}>
        <Form.Item name="amount" label={t("usercrm.amount")} rules={[required, { pattern: AMOUNT, message: t("usercrm.badAmount") }]}>
          <Input inputMode="decimal" style={{ width: 200 }} data-testid="allocation-deposit-amount" />
        </Form.Item>
        <Form.Item name="currency" label={t("usercrm.currency")} normalize={(v: string) => v.toUpperCase()} rules={[required, { pattern: CURRENCY, message: t("usercrm.badCurrency") }]}>
          <Input maxLength={3} style={{ width: 120 }} />
        </Form.Item>
      </Form>
      {req.isError ? <ProblemAlert error={req.error} /> : null}
    </Modal>
  );
}

export function FundDialog({ fundId, onClose }: { fundId: string | null; onClose: () => void }) {
  const { t } = useI18n();
  const [status, setStatus] = useState<"active" | "inactive">("active");
  const f = useQuery({ queryKey: ["usercrm", "fund", fundId], queryFn: ({ signal }) => api.fund(fundId!, signal), enabled: !!fundId });
  const allocs = useQuery({ queryKey: ["usercrm", "fund", fundId, "allocations", status], queryFn: ({ signal }) => api.fundAllocations(fundId!, status, signal), enabled: !!fundId });
  return (
    <Modal open={!!fundId} destroyOnHidden onCancel={onClose} footer={null} width={820} title={t("usercrm.fundPage")}>
      <QueryState query={f}>
        {(d) => (
          <Descriptions size="small" bordered column={2} data-testid="fund-page">
            <Descriptions.Item label={t("usercrm.fund")}>{d.name ?? d.fund_id}</Descriptions.Item>
            <Descriptions.Item label={t("usercrm.strategy")}>{d.strategy ?? "—"}</Descriptions.Item>
            <Descriptions.Item label={t("usercrm.fundManager")}>{d.manager_name ?? "—"}</Descriptions.Item>
            <Descriptions.Item label={t("usercrm.performance")}>{d.performance_pct == null ? "—" : `${d.performance_pct}%`}</Descriptions.Item>
            <Descriptions.Item label={t("usercrm.currency")}>{d.currency ?? "—"}</Descriptions.Item>
            <Descriptions.Item label={t("usercrm.asOf")}>{when(d.as_of)}</Descriptions.Item>
          </Descriptions>
        )}
      </QueryState>
      <Segmented<"active" | "inactive"> style={{ margin: "12px 0" }} value={status} onChange={setStatus} aria-label={t("usercrm.fundAllocations")}
        options={[{ value: "active", label: t("usercrm.activeAlloc") }, { value: "inactive", label: t("usercrm.inactiveAlloc") }]} />
      <QueryState query={allocs}>
        {(d) => (
          <Table rowKey="allocation_id" size="small" pagination={false} dataSource={d.items} locale={{ emptyText: t("usercrm.noAllocations") }} data-testid="fund-allocations"
            columns={[
              { title: t("usercrm.customerId"), dataIndex: "customer_id" },
              { title: t("usercrm.account"), dataIndex: "account_id" },
              { title: t("usercrm.amount"), key: "amt", align: "right", render: (_, a) => `${a.amount} ${a.currency}` },
              { title: t("usercrm.value"), dataIndex: "value", align: "right", render: (v: string | null) => v ?? "—" },
              { title: t("usercrm.started"), dataIndex: "started_at", render: when },
              { title: t("usercrm.stopped"), dataIndex: "stopped_at", render: when },
            ]} />
        )}
      </QueryState>
    </Modal>
  );
}
