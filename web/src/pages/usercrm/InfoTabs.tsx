// The user-information tabs, each behind its own permission (personal data masked without CustomerPiiRead),
// and the reports: Accounts, Allocations (active / inactive), Statement (keyset pages, filters, CSV).
import { DownloadOutlined } from "@ant-design/icons";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, DatePicker, Descriptions, Empty, Input, Popconfirm, Segmented, Select, Space, Table, Tag, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { downloadBlob } from "../../components/download";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import * as api from "../../services/usercrm";
import { AllocationDepositDialog, FundDialog } from "./AllocationActions";

const when = (v: string | null | undefined) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : "—");
const isPlain = (v: unknown) => v === null || ["string", "number", "boolean"].includes(typeof v);

/** Any JSON section as a readable table: scalars as rows, lists of objects as tables, nested objects inline. */
export function DataView({ data }: { data: unknown }) {
  const { t } = useI18n();
  if (data == null || (typeof data === "object" && Object.keys(data as object).length === 0)) return <Empty description={t("state.empty")} />;
  if (Array.isArray(data)) {
    if (!data.length) return <Empty description={t("state.empty")} />;
    if (data.every((x) => x && typeof x === "object" && !Array.isArray(x))) {
      const cols = Array.from(new Set(data.flatMap((x) => Object.keys(x as object))));
      return <Table size="small" pagination={false} rowKey={(_, i) => String(i)} dataSource={data as Record<string, unknown>[]}
        columns={cols.map((c) => ({ title: c.replace(/_/g, " "), dataIndex: c, render: (v: unknown) => (isPlain(v) ? String(v ?? "—") : JSON.stringify(v)) }))} />;
    }
    return <>{data.map((x, i) => <Tag key={i}>{String(x)}</Tag>)}</>;
  }
  if (typeof data !== "object") return <>{String(data)}</>;
  return (
    <Descriptions size="small" bordered column={1}>
      {Object.entries(data as Record<string, unknown>).map(([k, v]) => (
        <Descriptions.Item key={k} label={k.replace(/_/g, " ")}>{isPlain(v) ? String(v ?? "—") : <DataView data={v} />}</Descriptions.Item>
      ))}
    </Descriptions>
  );
}

export function InfoTab({ customerId, tab }: { customerId: string; tab: api.InfoTab }) {
  const q = useQuery({ queryKey: ["usercrm", customerId, "info", tab], queryFn: ({ signal }) => api.infoTab(customerId, tab, signal) });
  return <QueryState query={q}>{(d) => <DataView data={d.data !== undefined ? d.data : d.items ?? d} />}</QueryState>;
}

export function AccountsReport({ customerId }: { customerId: string }) {
  const { t } = useI18n();
  const [q, setQ] = useState<string | null>(null);
  const r = useQuery({ queryKey: ["usercrm", customerId, "accounts", q], queryFn: ({ signal }) => api.accounts(customerId, q, signal) });
  return (
    <>
      <Input.Search allowClear placeholder={t("common.search")} aria-label={t("usercrm.searchAccounts")} style={{ width: 260, marginBottom: 12 }} onSearch={(v) => setQ(v.trim() || null)} />
      <QueryState query={r}>
        {(d) => (
          <Table<api.Account> rowKey="account_id" size="small" pagination={false} dataSource={d.items} locale={{ emptyText: t("usercrm.noAccounts") }}
            columns={[
              { title: t("usercrm.account"), dataIndex: "account_id" },
              { title: t("usercrm.accountType"), dataIndex: "account_type" },
              { title: t("usercrm.currency"), dataIndex: "currency" },
              { title: t("tasks.col.status"), dataIndex: "status", render: (v: string) => <Tag color={v === "open" ? "green" : undefined}>{v}</Tag> },
              { title: t("usercrm.balance"), dataIndex: "balance", align: "right", render: (v: string | null) => v ?? "—" },
              { title: t("usercrm.cash"), dataIndex: "cash", align: "right", render: (v: string | null) => v ?? "—" },
              { title: t("usercrm.asOf"), dataIndex: "balance_as_of", render: when },
            ]} />
        )}
      </QueryState>
    </>
  );
}

/** The drop-down that switches between the user's accounts (all when cleared). */
function AccountSelect({ customerId, value, onChange }: { customerId: string; value: string | null; onChange: (v: string | null) => void }) {
  const { t } = useI18n();
  const accts = useQuery({ queryKey: ["usercrm", customerId, "accounts", null], queryFn: ({ signal }) => api.accounts(customerId, null, signal) });
  return (
    <Select allowClear placeholder={t("usercrm.allAccounts")} aria-label={t("usercrm.account")} style={{ width: 220 }} value={value ?? undefined}
      loading={accts.isPending} onChange={(v?: string) => onChange(v ?? null)} data-testid="account-select"
      options={(accts.data?.items ?? []).map((a) => ({ value: a.account_id, label: `${a.account_id} · ${a.account_type} · ${a.currency}` }))} />
  );
}

export function AllocationsReport({ customerId }: { customerId: string }) {
  const { t } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [status, setStatus] = useState<"active" | "inactive">("active");
  const [q, setQ] = useState<string | null>(null);
  const [account, setAccount] = useState<string | null>(null);
  const [depositTo, setDepositTo] = useState<api.Allocation | null>(null);
  const [fundId, setFundId] = useState<string | null>(null);
  const r = useQuery({ queryKey: ["usercrm", customerId, "allocations", status, q, account], queryFn: ({ signal }) => api.allocations(customerId, status, q, signal, account) });
  const stop = useMutation({
    mutationFn: (id: string) => api.stopAllocation(customerId, id),
    onSuccess: () => { message.success(t("usercrm.sent")); void qc.invalidateQueries({ queryKey: ["usercrm", customerId] }); },
  });
  return (
    <>
      <Space style={{ marginBottom: 12 }}>
        <Segmented<"active" | "inactive"> value={status} onChange={setStatus} aria-label={t("tasks.col.status")}
          options={[{ value: "active", label: t("usercrm.activeAlloc") }, { value: "inactive", label: t("usercrm.inactiveAlloc") }]} />
        <AccountSelect customerId={customerId} value={account} onChange={setAccount} />
        <Input.Search allowClear placeholder={t("common.search")} aria-label={t("usercrm.searchAllocations")} style={{ width: 240 }} onSearch={(v) => setQ(v.trim() || null)} />
      </Space>
      {stop.isError && <ProblemAlert error={stop.error} />}
      <QueryState query={r}>
        {(d) => (
          <Table<api.Allocation> rowKey="allocation_id" size="small" pagination={false} dataSource={d.items} locale={{ emptyText: t("usercrm.noAllocations") }}
            columns={[
              { title: t("usercrm.fund"), key: "fund", render: (_, a) => (
                <Button type="link" size="small" style={{ padding: 0 }} onClick={() => setFundId(a.fund_id)} data-testid={`view-fund-${a.allocation_id}`}>{a.fund_name ?? a.fund_id}</Button>) },
              { title: t("usercrm.account"), dataIndex: "account_id" },
              { title: t("usercrm.amount"), key: "amt", align: "right", render: (_, a) => `${a.amount} ${a.currency}` },
              { title: t("usercrm.value"), dataIndex: "value", align: "right", render: (v: string | null) => v ?? "—" },
              { title: t("usercrm.performance"), dataIndex: "performance_pct", align: "right", render: (v: string | null) => (v == null ? "—" : `${v}%`) },
              { title: t("usercrm.started"), dataIndex: "started_at", render: when },
              { title: t("usercrm.stopped"), dataIndex: "stopped_at", render: when },
              ...(status === "active" && may("usercrm.moneyRequest") ? [{ title: t("common.actions"), key: "act", render: (_: unknown, a: api.Allocation) => (
                <Space size="small">
                  <Button size="small" onClick={() => setDepositTo(a)} data-testid={`allocation-deposit-${a.allocation_id}`}>{t("usercrm.allocationDeposit")}</Button>
                  <Popconfirm title={t("usercrm.stopConfirm")} okText={t("usercrm.stop")} cancelText={t("common.cancel")} onConfirm={() => stop.mutate(a.allocation_id)}>
                    <Button size="small" danger loading={stop.isPending && stop.variables === a.allocation_id} data-testid={`allocation-stop-${a.allocation_id}`}>{t("usercrm.stop")}</Button>
                  </Popconfirm>
                </Space>) }] : []),
            ]} />
        )}
      </QueryState>
      <AllocationDepositDialog customerId={customerId} allocation={depositTo} onClose={() => setDepositTo(null)} />
      <FundDialog fundId={fundId} onClose={() => setFundId(null)} />
    </>
  );
}

export function StatementReport({ customerId }: { customerId: string }) {
  const { t } = useI18n();
  const [f, setF] = useState<{ account_id?: string | null; kind?: string[]; since?: string | null; until?: string | null; q?: string | null }>({});
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [exporting, setExporting] = useState(false);
  const cursor = cursors[cursors.length - 1];
  const r = useQuery({ queryKey: ["usercrm", customerId, "statement", f, cursor], queryFn: ({ signal }) => api.statement(customerId, { ...f, cursor, limit: 100 }, signal), placeholderData: keepPreviousData });
  const change = (patch: typeof f) => { setCursors([null]); setF({ ...f, ...patch }); };
  const csv = async () => {
    setExporting(true);
    try {
      const res = await api.statementCsv(customerId, f);
      downloadBlob(await res.blob(), `statement-${customerId}.csv`);
    } finally {
      setExporting(false);
    }
  };
  return (
    <>
      <Space wrap style={{ marginBottom: 12 }} role="search" aria-label={t("usercrm.statementFilters")}>
        <AccountSelect customerId={customerId} value={f.account_id ?? null} onChange={(v) => change({ account_id: v })} />
        <Select mode="multiple" allowClear placeholder={t("usercrm.kind")} aria-label={t("usercrm.kind")} style={{ minWidth: 220 }} value={f.kind ?? []}
          onChange={(v) => change({ kind: v })} options={api.STATEMENT_KINDS.map((k) => ({ value: k, label: t(`usercrm.kind.${k}` as "usercrm.kind.trade") }))} />
        <DatePicker.RangePicker aria-label={t("usercrm.period")} onChange={(v) => change({ since: v?.[0] ? (v[0] as Dayjs).startOf("day").toISOString() : null, until: v?.[1] ? (v[1] as Dayjs).endOf("day").toISOString() : null })} />
        <Input.Search allowClear placeholder={t("common.search")} aria-label={t("usercrm.searchStatement")} style={{ width: 200 }} onSearch={(v) => change({ q: v.trim() || null })} />
        <Button icon={<DownloadOutlined />} loading={exporting} onClick={() => void csv()}>{t("usercrm.csv")}</Button>
      </Space>
      {r.isError ? <ProblemAlert error={r.error} onRetry={() => void r.refetch()} /> : (
        <Table<api.StatementEntry> rowKey="entry_id" size="small" pagination={false} loading={r.isPending || (r.isFetching && r.isPlaceholderData)} dataSource={r.data?.items ?? []}
          locale={{ emptyText: t("usercrm.noEntries") }} data-testid="statement-table"
          columns={[
            { title: t("usercrm.at"), dataIndex: "at", render: when },
            { title: t("usercrm.account"), dataIndex: "account_id" },
            { title: t("usercrm.kind"), dataIndex: "kind", render: (v: string) => <Tag>{t(`usercrm.kind.${v}` as "usercrm.kind.trade")}</Tag> },
            { title: t("usercrm.detail"), key: "d", render: (_, e) => (e.symbol ? `${e.side ?? ""} ${e.quantity ?? ""} ${e.symbol} @ ${e.price ?? ""}` : e.description ?? e.reference) },
            { title: t("usercrm.amount"), key: "amt", align: "right", render: (_, e) => <Typography.Text type={e.amount.startsWith("-") ? "danger" : undefined}>{e.amount} {e.currency}</Typography.Text> },
          ]} />
      )}
      <Space style={{ marginTop: 12, width: "100%", justifyContent: "flex-end" }}>
        <Typography.Text>{t("customers.page", { n: cursors.length })}</Typography.Text>
        <Button disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>{t("common.previous")}</Button>
        <Button disabled={!r.data?.next_cursor} onClick={() => r.data?.next_cursor && setCursors([...cursors, r.data.next_cursor])}>{t("common.next")}</Button>
      </Space>
    </>
  );
}
