// A staff member: node, status, role assignments with their effective period, assigning and revoking a role,
// exit (confirmed), and the member's effective access as every service's access directory answers it.
import { DeleteOutlined, LogoutOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Card, Descriptions, Drawer, Form, Input, Popconfirm, Select, Space, Table, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { submitValid } from "../../components/submitValid";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { assignRole, effectiveAccess, exitStaff, getStaff, revokeRole, type Assignment, type OrgNode, type Role } from "../../services/access";
import { assignBody, formFieldErrors, type AssignValues } from "./model";

const when = (v: string | null | undefined) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : null);

export function StaffDrawer({ staffId, roles, nodes, onClose }: { staffId: string | null; roles: Role[]; nodes: OrgNode[]; onClose: () => void }) {
  const { t } = useI18n();
  const { may } = useAuth();
  const { message, modal } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<AssignValues>();
  const staff = useQuery({ queryKey: ["access", "staff", staffId], queryFn: ({ signal }) => getStaff(staffId!, signal), enabled: !!staffId });
  const effective = useQuery({ queryKey: ["access", "effective", staffId], queryFn: ({ signal }) => effectiveAccess(staffId!, signal), enabled: !!staffId });
  const changed = () => {
    void qc.invalidateQueries({ queryKey: ["access", "staff"] });
    void qc.invalidateQueries({ queryKey: ["access", "effective", staffId] });
  };
  const assign = useMutation({
    mutationFn: (v: AssignValues) => assignRole(staffId!, assignBody(v)),
    onSuccess: () => { message.success(t("common.saved")); form.resetFields(); changed(); },
    onError: (e) => form.setFields(formFieldErrors(e, ["role_id", "node_id", "effective_from", "effective_until"] as const)),
  });
  const revoke = useMutation({ mutationFn: (a: Assignment) => revokeRole(staffId!, a.assignment_id), onSuccess: () => { message.success(t("common.saved")); changed(); } });
  const exit = useMutation({ mutationFn: () => exitStaff(staffId!), onSuccess: () => { message.success(t("access.staff.exited")); changed(); } });
  const roleName = (id: string) => roles.find((r) => r.role_id === id)?.name ?? id;
  const nodeName = (id: string | null) => (id ? nodes.find((n) => n.node_id === id)?.name ?? id : t("common.none"));
  const confirmExit = (name: string) => modal.confirm({
    title: t("access.staff.exitTitle", { name }), content: t("access.staff.exitConfirm"),
    okText: t("access.staff.exit"), okButtonProps: { danger: true, ...{ "data-testid": "staff-exit-confirm" } }, cancelText: t("common.cancel"),
    onOk: () => exit.mutateAsync(),
  });
  return (
    <Drawer open={!!staffId} onClose={onClose} width={720} title={staff.data?.display_name ?? staffId} destroyOnHidden data-testid="staff-drawer">
      <QueryState query={staff}>
        {(s) => {
          const active = s.status === "active";
          return (
            <Space direction="vertical" style={{ width: "100%" }} size="middle">
              <Descriptions column={2} size="small">
                <Descriptions.Item label={t("access.staff.id")}>{s.staff_id}</Descriptions.Item>
                <Descriptions.Item label={t("access.staff.node")}>{nodeName(s.node_id)}</Descriptions.Item>
                <Descriptions.Item label={t("access.staff.status")}><Tag color={active ? "green" : undefined} data-testid="staff-status">{t(`access.staff.status.${s.status}` as MessageKey)}</Tag></Descriptions.Item>
              </Descriptions>
              {may("access.staff.exit") && active && (
                <Button danger icon={<LogoutOutlined />} onClick={() => confirmExit(s.display_name)} loading={exit.isPending} data-testid="staff-exit">{t("access.staff.exit")}</Button>
              )}
              {exit.isError && <ProblemAlert error={exit.error} />}
              <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>{t("access.staff.assignments")}</Typography.Title>
              <Table<Assignment> rowKey="assignment_id" size="small" pagination={false} dataSource={s.assignments} locale={{ emptyText: t("access.staff.noAssignments") }} data-testid="staff-assignments"
                columns={[
                  { title: t("access.staff.role"), dataIndex: "role_id", render: (v: string) => <>{roleName(v)} <Typography.Text type="secondary">({v})</Typography.Text></> },
                  { title: t("access.staff.node"), dataIndex: "node_id", render: (v: string | null) => (v ? nodeName(v) : t("common.none")) },
                  { title: t("access.staff.from"), dataIndex: "effective_from", render: when },
                  { title: t("access.staff.until"), dataIndex: "effective_until", render: (v: string | null) => when(v) ?? t("access.staff.open") },
                  ...(may("access.staff.revoke") && active ? [{ title: t("common.actions"), key: "act", render: (_: unknown, a: Assignment) => (
                    <Popconfirm title={t("access.staff.revokeConfirm")} okText={t("access.staff.revoke")} cancelText={t("common.cancel")} onConfirm={() => revoke.mutate(a)}>
                      <Button size="small" danger icon={<DeleteOutlined />} aria-label={t("access.staff.revokeFor", { role: roleName(a.role_id) })} data-testid={`staff-revoke-${a.role_id}`} />
                    </Popconfirm>) }] : []),
                ]} />
              {revoke.isError && <ProblemAlert error={revoke.error} />}
              {may("access.staff.assign") && active && (
                <Card size="small" title={t("access.staff.assign")}>
                  {/* a validator, not `required`: antd would put aria-required on the Select (axe: aria-allowed-attr) */}
                  <Form<AssignValues> form={form} layout="vertical" name="assign" onFinish={(v) => assign.mutate(v)}>
                    <Space align="start" wrap>
                      <Form.Item name="role_id" label={t("access.staff.role")}
                        rules={[{ validator: (_, v?: string) => (v ? Promise.resolve() : Promise.reject(new Error(t("common.required")))) }]}>
                        <Select showSearch optionFilterProp="label" style={{ width: 240 }} aria-label={t("access.staff.role")} data-testid="assign-role"
                          options={roles.filter((r) => !r.retired).map((r) => ({ value: r.role_id, label: r.name }))} />
                      </Form.Item>
                      <Form.Item name="node_id" label={t("access.f.node")}>
                        <Select allowClear showSearch optionFilterProp="label" style={{ width: 200 }} aria-label={t("access.f.node")}
                          options={nodes.map((n) => ({ value: n.node_id, label: n.name }))} />
                      </Form.Item>
                    </Space>
                    <Space align="start" wrap>
                      <Form.Item name="effective_from" label={t("access.staff.from")} extra={t("access.staff.now")}>
                        <Input type="datetime-local" />
                      </Form.Item>
                      <Form.Item name="effective_until" label={t("access.staff.until")} extra={t("access.staff.open")} dependencies={["effective_from"]}
                        rules={[({ getFieldValue }) => ({ validator: (_, v?: string) => (!v || !getFieldValue("effective_from") || v > getFieldValue("effective_from") ? Promise.resolve() : Promise.reject(new Error(t("access.staff.untilAfterFrom")))) })]}>
                        <Input type="datetime-local" />
                      </Form.Item>
                    </Space>
                    <Button type="primary" loading={assign.isPending} onClick={() => submitValid(form, (v) => assign.mutate(v))} data-testid="assign-save">{t("access.staff.assign")}</Button>
                    {assign.isError && <div style={{ marginTop: 8 }}><ProblemAlert error={assign.error} /></div>}
                  </Form>
                </Card>
              )}
              <Card size="small" title={t("access.staff.effective")} data-testid="staff-effective">
                <QueryState query={effective}>
                  {(e) => (
                    <Descriptions column={1} size="small">
                      <Descriptions.Item label={t("access.staff.status")}>{e.active ? t("access.staff.effectiveActive") : <Alert type="warning" showIcon message={t("access.staff.effectiveInactive")} />}</Descriptions.Item>
                      <Descriptions.Item label={t("access.staff.roles")}>{e.roles.map((r) => <Tag key={r}>{roleName(r)}</Tag>)}</Descriptions.Item>
                      <Descriptions.Item label={t("access.staff.effectiveScope")}>{t(`access.scope.${e.scope}` as MessageKey)}</Descriptions.Item>
                      {e.teams.length > 0 && <Descriptions.Item label={t("access.staff.effectiveTeams")}>{e.teams.join(", ")}</Descriptions.Item>}
                      <Descriptions.Item label={t("access.staff.effectivePerms")}>
                        <Space size={[4, 4]} wrap data-testid="effective-perms">{e.permissions.map((p) => <Tag key={p} data-perm={p}>{p}</Tag>)}</Space>
                      </Descriptions.Item>
                      {e.valid_until && <Descriptions.Item label={t("access.staff.effectiveUntil")}>{when(e.valid_until)}</Descriptions.Item>}
                    </Descriptions>
                  )}
                </QueryState>
              </Card>
            </Space>
          );
        }}
      </QueryState>
    </Drawer>
  );
}
