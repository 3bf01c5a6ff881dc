// Audit log (issue #20): every service's audit records — who, roles, action, customer id, when, from where,
// outcome — filtered by person, customer, action, service, outcome and time; keyset pages; CSV export of the
// filtered records; the hash chain's check. Only for AuditRead (the auditor, the admin).
import { useMutation, useQuery } from "@tanstack/react-query";
import { Alert, Button, DatePicker, Input, Select, Space, Table, Tag, Tooltip, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { downloadBlob as download } from "../../components/download";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import { exportAuditRecords, listAuditRecords, OUTCOMES, verifyChain, type AuditFilters, type AuditRecord } from "../../services/audit";

const OUTCOME_COLOR: Record<string, string> = { allowed: "green", denied: "red", failed: "orange" };

export default function AuditLogPage() {
  const { t, label } = useI18n();
  const [filters, setFilters] = useState<AuditFilters>({});
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const q = useQuery({
    queryKey: ["audit-records", filters, cursor],
    queryFn: ({ signal }) => listAuditRecords({ ...filters, cursor, limit: 50 }, signal),
  });
  const check = useMutation({ mutationFn: () => verifyChain() });
  const exporting = useMutation({
    mutationFn: () => exportAuditRecords(filters),
    onSuccess: (blob) => download(blob, `audit-records-${dayjs().format("YYYYMMDDHHmmss")}.csv`),
  });
  const change = (patch: AuditFilters) => { setCursors([null]); setFilters({ ...filters, ...patch }); };
  const text = (key: keyof AuditFilters) => (v: string) => change({ [key]: v.trim() || null } as AuditFilters);
  const onRange = (range: [Dayjs | null, Dayjs | null] | null) =>
    change({ since: range?.[0]?.startOf("day").toISOString() ?? null, until: range?.[1]?.endOf("day").toISOString() ?? null });
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("audit.title")}</Typography.Title>
      <Space wrap style={{ marginBottom: 12 }} role="search" aria-label={t("audit.filters")}>
        <Input.Search allowClear placeholder={t("audit.staff")} aria-label={t("audit.staff")} style={{ width: 180 }}
          onSearch={text("staff_id")} data-testid="audit-filter-staff" />
        <Input.Search allowClear placeholder={t("audit.customer")} aria-label={t("audit.customer")} style={{ width: 180 }}
          onSearch={text("customer_id")} data-testid="audit-filter-customer" />
        <Input.Search allowClear placeholder={t("audit.action")} aria-label={t("audit.action")} style={{ width: 220 }}
          onSearch={text("action")} data-testid="audit-filter-action" />
        <Input.Search allowClear placeholder={t("audit.service")} aria-label={t("audit.service")} style={{ width: 150 }}
          onSearch={text("service")} />
        <Select allowClear placeholder={t("audit.outcome")} aria-label={t("audit.outcome")} style={{ width: 150 }}
          options={OUTCOMES.map((o) => ({ value: o, label: label("audit.outcome", o) }))}
          onChange={(v?: (typeof OUTCOMES)[number]) => change({ outcome: v ?? null })} />
        <DatePicker.RangePicker aria-label={t("audit.when")} onChange={(r) => onRange(r as [Dayjs | null, Dayjs | null] | null)} />
        <Button onClick={() => exporting.mutate()} loading={exporting.isPending} data-testid="audit-export">{t("audit.export")}</Button>
        <Button onClick={() => check.mutate()} loading={check.isPending} data-testid="audit-verify">{t("audit.verify")}</Button>
      </Space>
      {check.data && (
        <Alert style={{ marginBottom: 12 }} data-testid="audit-verdict" showIcon
          type={check.data.ok ? "success" : "error"}
          message={check.data.ok ? t("audit.chainOk", { checked: check.data.checked, anchor: check.data.anchor_seq })
            : t("audit.chainBroken", { seq: check.data.first_broken_seq ?? "?" })}
          description={<span data-testid="audit-verify-detail">{check.data.ok
            ? (check.data.anchors_checked == null ? t("audit.anchorsUnread")
              : check.data.anchors_checked === 0 ? t("audit.anchorsNone") : t("audit.anchorsMatched", { n: check.data.anchors_checked }))
            : check.data.reason}</span>} />
      )}
      {check.isError && <ProblemAlert error={check.error} />}
      {exporting.isError && <ProblemAlert error={exporting.error} />}
      {q.isError ? <ProblemAlert error={q.error} onRetry={() => void q.refetch()} /> : (
        <Table<AuditRecord> rowKey="record_id" size="middle" pagination={false} loading={q.isPending}
          dataSource={q.data?.items ?? []} locale={{ emptyText: t("audit.empty") }} data-testid="audit-table"
          scroll={{ x: 1100 }}
          columns={[
            { title: "#", dataIndex: "seq", width: 70 },
            { title: t("audit.when"), dataIndex: "at", width: 160, render: (v: string) => dayjs(v).format("YYYY-MM-DD HH:mm:ss") },
            { title: t("audit.staff"), dataIndex: "staff_id", render: (v: string | null, r) => (
              <span>{v ?? "—"}{r.roles.length > 0 && <Typography.Text type="secondary"> ({r.roles.join(", ")})</Typography.Text>}</span>) },
            { title: t("audit.action"), dataIndex: "action", render: (v: string) => <code data-testid="audit-action">{v}</code> },
            { title: t("audit.kind"), dataIndex: "kind", render: (v: string) => label("audit.kind", v) },
            { title: t("audit.customer"), dataIndex: "customer_id", render: (v: string | null) => <span data-testid="audit-customer">{v ?? "—"}</span> },
            { title: t("audit.request"), key: "req", render: (_, r) => <Typography.Text type="secondary">{r.service} · {r.method} {r.route}</Typography.Text> },
            { title: t("audit.from"), dataIndex: "client_ip", render: (v: string | null) => v ?? "—" },
            { title: t("audit.outcome"), dataIndex: "outcome", render: (v: string, r) => (
              <span>
                <Tag color={OUTCOME_COLOR[v]}>{label("audit.outcome", v)} {r.status}</Tag>
                {r.answered === false && (
                  <Tooltip title={t("audit.unansweredHint")}>
                    <Tag color="orange" data-testid="audit-unanswered">{t("audit.unanswered")}</Tag>
                  </Tooltip>)}
              </span>) },
          ]} />
      )}
      <Space style={{ marginTop: 12, width: "100%", justifyContent: "flex-end" }}>
        <Button disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>{t("common.previous")}</Button>
        <Button disabled={!q.data?.next_cursor} onClick={() => q.data?.next_cursor && setCursors([...cursors, q.data.next_cursor])}>{t("common.next")}</Button>
      </Space>
    </>
  );
}
