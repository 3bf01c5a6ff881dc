// User CRM (seed 003): pick a customer (?customer=ID) → the User management panel, the information tabs
// the caller may read, and the reports; the maker-checker approvals queue (?view=approvals).
import { useSearchPatch } from "../../hooks/useSearchPatch";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Input, Popconfirm, Segmented, Space, Table, Tabs, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import * as api from "../../services/usercrm";
import { AccountsReport, AllocationsReport, InfoTab, StatementReport } from "./InfoTabs";
import { STATE_COLOR, UserPanel } from "./UserPanel";

function Approvals() {
  const { t } = useI18n();
  const { may, session } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["usercrm", "approvals"], queryFn: ({ signal }) => api.approvals(signal), refetchInterval: 10_000 });
  const decide = useMutation({
    mutationFn: ({ id, ok }: { id: string; ok: boolean }) => (ok ? api.approve(id) : api.decline(id, null)),
    onSuccess: () => { message.success(t("common.saved")); void qc.invalidateQueries({ queryKey: ["usercrm"] }); },
  });
  return (
    <>
      {decide.isError && <ProblemAlert error={decide.error} />}
      <QueryState query={q} isEmpty={(d) => d.items.length === 0} empty={t("usercrm.noApprovals")}>
        {(d) => (
          <Table<api.UserRequest> rowKey="request_id" size="middle" pagination={false} dataSource={d.items} data-testid="approvals-table"
            columns={[
              { title: t("tasks.col.customer"), dataIndex: "customer_id" },
              { title: t("usercrm.action"), dataIndex: "action" },
              { title: t("usercrm.amount"), key: "amt", align: "right", render: (_, r) => `${r.amount ?? ""} ${r.currency ?? ""}` },
              { title: t("usercrm.requestedBy"), key: "by", render: (_, r) => `${r.requested_by} · ${dayjs(r.requested_at).format("YYYY-MM-DD HH:mm")}` },
              { title: t("tasks.col.status"), dataIndex: "state", render: (v: string) => <Tag color={STATE_COLOR[v]}>{t(`usercrm.state.${v}` as MessageKey)}</Tag> },
              { title: t("common.actions"), key: "act", render: (_, r) => (may("usercrm.moneyApprove") && r.requested_by !== session?.claims.sub ? (
                <Space size={4}>
                  <Button size="small" type="primary" onClick={() => decide.mutate({ id: r.request_id, ok: true })}>{t("usercrm.approve")}</Button>
                  <Popconfirm title={t("usercrm.declineConfirm")} okText={t("usercrm.decline")} cancelText={t("common.cancel")} onConfirm={() => decide.mutate({ id: r.request_id, ok: false })}>
                    <Button size="small" danger>{t("usercrm.decline")}</Button>
                  </Popconfirm>
                </Space>) : <Typography.Text type="secondary">{t("usercrm.notYours")}</Typography.Text>) },
            ]} />
        )}
      </QueryState>
    </>
  );
}

export default function UserCrmPage() {
  const { t } = useI18n();
  const { sees } = useAuth();
  const [params, set] = useSearchPatch();
  const customerId = params.get("customer");
  const view = params.get("view") === "approvals" ? "approvals" : "user";
  const tab = params.get("tab") ?? "panel";
  // the information tabs the caller may read sit under one "Information" tab: ten tabs in one row overflow
  // at 1280 px into antd's "more" menu, whose button inside the tablist is not a tab (aria-required-children)
  const infoTabs = api.INFO_TABS.filter((x) => sees(`usercrm.tab.${x}`)).map((x) => ({
    key: x, label: t(`usercrm.tab.${x}` as MessageKey), children: customerId && <InfoTab customerId={customerId} tab={x} />,
  }));
  const infoTab = infoTabs.find((x) => x.key === tab)?.key;
  const tabs = [
    ...(sees("usercrm.tab.panel") ? [{ key: "panel", label: t("usercrm.panel"), children: customerId && <UserPanel customerId={customerId} /> }] : []),
    ...(infoTabs.length ? [{ key: "info", label: t("usercrm.information"), children: (
      <Tabs size="small" activeKey={infoTab ?? infoTabs[0].key} onChange={(k) => set({ tab: k }, { keepCursor: true })} items={infoTabs} destroyOnHidden />
    ) }] : []),
    ...(sees("usercrm.tab.accounts") ? [{ key: "accounts", label: t("usercrm.accounts"), children: customerId && <AccountsReport customerId={customerId} /> }] : []),
    ...(sees("usercrm.tab.allocations") ? [{ key: "allocations", label: t("usercrm.allocations"), children: customerId && <AllocationsReport customerId={customerId} /> }] : []),
    ...(sees("usercrm.tab.statement") ? [{ key: "statement", label: t("usercrm.statement"), children: customerId && <StatementReport customerId={customerId} /> }] : []),
  ];
  return (
    <>
      <Space style={{ width: "100%", justifyContent: "space-between" }} align="baseline">
        <Typography.Title level={1} style={{ fontSize: 24 }}>{t("usercrm.title")}</Typography.Title>
        <Segmented value={view} onChange={(v) => set({ view: v === "approvals" ? "approvals" : null }, { keepCursor: true })} aria-label={t("usercrm.title")}
          options={[{ value: "user", label: t("usercrm.user") }, { value: "approvals", label: t("usercrm.approvals") }]} />
      </Space>
      {view === "approvals" ? <Approvals /> : (
        <>
          <Input.Search key={customerId ?? ""} enterButton={t("usercrm.open")} allowClear placeholder={t("usercrm.customerId")} aria-label={t("usercrm.customerId")}
            defaultValue={customerId ?? ""} style={{ width: 360, marginBottom: 16 }} onSearch={(v) => set({ customer: v.trim() || null, tab: null }, { keepCursor: true })} data-testid="usercrm-customer" />
          {customerId ? (
            <Tabs activeKey={infoTab ? "info" : tabs.some((x) => x.key === tab) ? tab : "panel"} onChange={(k) => set({ tab: k === "info" ? infoTabs[0].key : k }, { keepCursor: true })} items={tabs} destroyOnHidden />
          ) : <Card size="small"><Typography.Text type="secondary">{t("usercrm.pick")}</Typography.Text></Card>}
        </>
      )}
    </>
  );
}
