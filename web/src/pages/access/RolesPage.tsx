// Roles and permissions (issue #20): the roles, a role's permissions and data scope, creating, editing and
// retiring one. Reading needs AccessManage or AuditRead; the buttons need AccessManage (auth/catalogue.ts).
import { EditOutlined, MinusSquareOutlined, PlusOutlined, PlusSquareOutlined, StopOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Popconfirm, Space, Switch, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { listNodes, listPermissions, listRoles, retireRole, type Role } from "../../services/access";
import { RoleForm } from "./RoleForm";

export default function RolesPage() {
  const { t } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [retired, setRetired] = useState(false);
  const [editing, setEditing] = useState<Role | "new" | null>(null);
  const roles = useQuery({ queryKey: ["access", "roles", retired], queryFn: ({ signal }) => listRoles(retired, signal) });
  const catalogue = useQuery({ queryKey: ["access", "permissions"], queryFn: ({ signal }) => listPermissions(signal), staleTime: 300_000 });
  const nodes = useQuery({ queryKey: ["access", "nodes"], queryFn: ({ signal }) => listNodes(signal) });
  const retire = useMutation({
    mutationFn: (r: Role) => retireRole(r.role_id),
    onSuccess: () => { message.success(t("common.saved")); void qc.invalidateQueries({ queryKey: ["access", "roles"] }); },
  });
  const nodeName = (id: string | null) => (id ? nodes.data?.find((n) => n.node_id === id)?.name ?? id : null);
  const edit = may("access.roles.edit");
  return (
    <>
      <Space style={{ width: "100%", justifyContent: "space-between" }} align="baseline">
        <Typography.Title level={1} style={{ fontSize: 24 }}>{t("access.roles.title")}</Typography.Title>
        {edit && <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing("new")} disabled={!catalogue.data} data-testid="role-new">{t("access.roles.new")}</Button>}
      </Space>
      {!edit && <Alert type="info" showIcon message={t("access.readOnly")} style={{ marginBottom: 12 }} />}
      <Space style={{ marginBottom: 12 }}>
        <Switch checked={retired} onChange={setRetired} aria-label={t("access.roles.showRetired")} />
        <span>{t("access.roles.showRetired")}</span>
      </Space>
      {retire.isError && <ProblemAlert error={retire.error} />}
      {roles.isError ? <ProblemAlert error={roles.error} onRetry={() => void roles.refetch()} /> : (
        <Table<Role> rowKey="role_id" size="middle" pagination={false} loading={roles.isPending} dataSource={roles.data ?? []}
          locale={{ emptyText: t("access.roles.empty") }} data-testid="roles-table"
          expandable={{
            expandedRowRender: (r) => <Space size={[4, 4]} wrap>{r.permissions.map((p) => <Tag key={p}>{p}</Tag>)}</Space>,
            expandIcon: ({ expanded, onExpand, record }) => (
              <Button size="small" type="text" icon={expanded ? <MinusSquareOutlined /> : <PlusSquareOutlined />} aria-expanded={expanded}
                aria-label={t("access.roles.permissionsOf", { name: record.name })} onClick={(e) => onExpand(record, e)} />),
          }}
          columns={[
            { title: t("access.f.name"), dataIndex: "name", render: (v: string, r) => <><Typography.Text strong>{v}</Typography.Text><div style={{ fontSize: 12, color: "#595959" }}>{r.role_id}</div></> },
            { title: t("access.f.scope"), key: "scope", render: (_, r) => <>{t(`access.scope.${r.scope}` as MessageKey)}{r.scope === "node" && nodeName(r.node_id) ? `: ${nodeName(r.node_id)}` : ""}</> },
            { title: t("access.f.permissions"), key: "perms", render: (_, r) => t("access.roles.permissionCount", { n: r.permissions.length }) },
            { title: t("access.staff.status"), dataIndex: "retired", render: (v: boolean) => (v ? <Tag>{t("access.roles.retired")}</Tag> : null) },
            ...(edit ? [{ title: t("common.actions"), key: "act", render: (_: unknown, r: Role) => (r.retired ? null : (
              <Space size={4}>
                <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(r)} disabled={!catalogue.data} aria-label={t("access.roles.editFor", { name: r.name })} data-testid={`role-edit-${r.role_id}`} />
                <Popconfirm title={t("access.roles.retireConfirm")} okText={t("access.roles.retire")} cancelText={t("common.cancel")} onConfirm={() => retire.mutate(r)}>
                  <Button size="small" danger icon={<StopOutlined />} aria-label={t("access.roles.retireFor", { name: r.name })} data-testid={`role-retire-${r.role_id}`} />
                </Popconfirm>
              </Space>)) }] : []),
          ]} />
      )}
      {catalogue.isError && <ProblemAlert error={catalogue.error} onRetry={() => void catalogue.refetch()} />}
      <RoleForm editing={editing} catalogue={catalogue.data ?? []} nodes={nodes.data ?? []}
        onClose={(saved) => { setEditing(null); if (saved) void qc.invalidateQueries({ queryKey: ["access", "roles"] }); }} />
    </>
  );
}
