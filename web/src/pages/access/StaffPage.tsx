// Staff (issue #20): members with node and status filters (keyset pages); a member's drawer (?staff=) with
// their role assignments, assign / revoke, exit, and effective access.
import { useQuery } from "@tanstack/react-query";
import { Alert, Button, Select, Space, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert } from "../../components/PageState";
import { useSearchPatch } from "../../hooks/useSearchPatch";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { listNodes, listRoles, staffPage, type Staff, type StaffStatus } from "../../services/access";
import { StaffDrawer } from "./StaffDrawer";

export default function StaffPage() {
  const { t } = useI18n();
  const { may } = useAuth();
  const [params, patch] = useSearchPatch();
  const [node, setNode] = useState<string | null>(null);
  const [status, setStatus] = useState<StaffStatus | null>("active");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const q = useQuery({ queryKey: ["access", "staff", "page", node, status, cursor], queryFn: ({ signal }) => staffPage({ node_id: node, status, cursor }, signal) });
  const nodes = useQuery({ queryKey: ["access", "nodes"], queryFn: ({ signal }) => listNodes(signal) });
  const roles = useQuery({ queryKey: ["access", "roles", true], queryFn: ({ signal }) => listRoles(true, signal) });
  const nodeName = (id: string | null) => (id ? nodes.data?.find((n) => n.node_id === id)?.name ?? id : t("common.none"));
  const roleName = (id: string) => roles.data?.find((r) => r.role_id === id)?.name ?? id;
  const open = params.get("staff");
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("access.staff.title")}</Typography.Title>
      {!may("access.staff.assign") && <Alert type="info" showIcon message={t("access.readOnly")} style={{ marginBottom: 12 }} />}
      <Space wrap style={{ marginBottom: 12 }}>
        <Select allowClear showSearch optionFilterProp="label" placeholder={t("access.staff.anyNode")} aria-label={t("access.staff.node")} style={{ width: 240 }} value={node ?? undefined}
          onChange={(v) => { setCursors([null]); setNode(v ?? null); }} options={(nodes.data ?? []).map((n) => ({ value: n.node_id, label: n.name }))} data-testid="staff-node-filter" />
        <Select allowClear placeholder={t("access.staff.anyStatus")} aria-label={t("access.staff.status")} style={{ width: 160 }} value={status ?? undefined}
          onChange={(v) => { setCursors([null]); setStatus(v ?? null); }}
          options={(["active", "exited"] as const).map((s) => ({ value: s, label: t(`access.staff.status.${s}` as MessageKey) }))} />
      </Space>
      {q.isError ? <ProblemAlert error={q.error} onRetry={() => void q.refetch()} /> : (
        <Table<Staff> rowKey="staff_id" size="middle" pagination={false} loading={q.isPending} dataSource={q.data?.items ?? []}
          locale={{ emptyText: t("access.staff.empty") }} data-testid="staff-table"
          columns={[
            { title: t("access.f.name"), dataIndex: "display_name", render: (v: string, r) => (
              <Button type="link" style={{ padding: 0, height: "auto", textAlign: "start" }} onClick={() => patch({ staff: r.staff_id }, { keepCursor: true })} data-testid={`staff-open-${r.staff_id}`}>
                <span>{v}<div style={{ fontSize: 12, color: "#595959" }}>{r.staff_id}</div></span>
              </Button>) },
            { title: t("access.staff.node"), dataIndex: "node_id", render: nodeName },
            { title: t("access.staff.roles"), key: "roles", render: (_, r) => r.assignments.map((a) => <Tag key={a.assignment_id}>{roleName(a.role_id)}</Tag>) },
            { title: t("access.staff.status"), dataIndex: "status", render: (v: StaffStatus) => <Tag color={v === "active" ? "green" : undefined}>{t(`access.staff.status.${v}` as MessageKey)}</Tag> },
          ]} />
      )}
      <Space style={{ marginTop: 12, width: "100%", justifyContent: "flex-end" }}>
        <Button disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>{t("common.previous")}</Button>
        <Button disabled={!q.data?.next_cursor} onClick={() => q.data?.next_cursor && setCursors([...cursors, q.data.next_cursor])}>{t("common.next")}</Button>
      </Space>
      <StaffDrawer staffId={open} roles={roles.data ?? []} nodes={nodes.data ?? []} onClose={() => patch({ staff: null }, { keepCursor: true })} />
    </>
  );
}
