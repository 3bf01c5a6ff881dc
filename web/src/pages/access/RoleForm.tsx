// Creating or editing a role: id (new only), name, data scope and its node, and the permissions from the
// catalogue (GET /access/permissions) grouped by area, each with its description. The service's 422s are
// shown next to the field they name.
import { useMutation } from "@tanstack/react-query";
import { App, Button, Checkbox, Drawer, Form, Input, Select, Space, Typography } from "antd";
import { useEffect } from "react";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { SCOPES, changeRole, defineRole, type OrgNode, type Permission, type Role } from "../../services/access";
import { formFieldErrors, groupPermissions, roleDefinition, type RoleValues } from "./model";

const FIELDS = ["role_id", "name", "scope", "node_id", "permissions"] as const satisfies readonly (keyof RoleValues)[];

function PermissionPicker({ catalogue, value, onChange }: { catalogue: Permission[]; value?: string[]; onChange?: (v: string[]) => void }) {
  const { t } = useI18n();
  const picked = new Set(value ?? []);
  const toggle = (name: string, on: boolean) => {
    const next = new Set(picked);
    if (on) next.add(name);
    else next.delete(name);
    onChange?.(catalogue.map((p) => p.name).filter((n) => next.has(n)));
  };
  return (
    <div data-testid="role-permissions">
      {groupPermissions(catalogue).map((g) => (
        <fieldset key={g.area} style={{ border: "1px solid #f0f0f0", borderRadius: 6, padding: "4px 12px 8px", marginBottom: 8 }}>
          <legend style={{ fontSize: 14, fontWeight: 600, width: "auto", padding: "0 4px", margin: 0, border: 0 }}>{t(`access.area.${g.area}` as MessageKey)}</legend>
          {g.items.map((p) => (
            <div key={p.name} style={{ padding: "2px 0" }}>
              <Checkbox checked={picked.has(p.name)} onChange={(e) => toggle(p.name, e.target.checked)} data-testid={`perm-${p.name}`}>
                <code>{p.name}</code>
              </Checkbox>
              {p.description && <div style={{ fontSize: 12, color: "#595959", marginInlineStart: 24 }}>{p.description}</div>}
            </div>
          ))}
        </fieldset>
      ))}
    </div>
  );
}

export function RoleForm({ editing, catalogue, nodes, onClose }: {
  /** "new", a role to edit, or null (closed) */
  editing: Role | "new" | null;
  catalogue: Permission[];
  nodes: OrgNode[];
  onClose: (saved: Role | null) => void;
}) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [form] = Form.useForm<RoleValues>();
  const scope = Form.useWatch("scope", form);
  const isNew = editing === "new";
  const save = useMutation({
    mutationFn: (v: RoleValues) => (isNew ? defineRole({ ...roleDefinition(v), role_id: v.role_id!.trim() }) : changeRole((editing as Role).role_id, roleDefinition(v))),
    onSuccess: (r) => { message.success(t("common.saved")); onClose(r); },
    onError: (e) => form.setFields(formFieldErrors(e, FIELDS)),
  });
  useEffect(() => {
    if (editing === null) return;
    save.reset();
    form.resetFields();
    if (editing !== "new") form.setFieldsValue({ name: editing.name, permissions: editing.permissions, scope: editing.scope, node_id: editing.node_id });
  }, [editing]);
  const idRule = { pattern: /^[A-Za-z0-9_\-.:]+$/, message: t("access.f.idPattern") };
  return (
    <Drawer open={editing !== null} onClose={() => onClose(null)} width={600} forceRender
      title={isNew ? t("access.roles.new") : t("access.roles.edit")}
      extra={<Button type="primary" loading={save.isPending} onClick={() => form.submit()} data-testid="role-save">{t("common.save")}</Button>}>
      <Form<RoleValues> form={form} layout="vertical" name="role" onFinish={(v) => save.mutate(v)} initialValues={{ scope: "own", permissions: [] }}>
        {isNew && (
          <Form.Item name="role_id" label={t("access.f.roleId")} extra={t("access.f.roleIdHint")}
            rules={[{ required: true, whitespace: true, message: t("common.required") }, { max: 64 }, idRule]}>
            <Input data-testid="role-id" />
          </Form.Item>
        )}
        <Form.Item name="name" label={t("access.f.name")} rules={[{ required: true, whitespace: true, message: t("common.required") }, { max: 200 }]}>
          <Input data-testid="role-name" />
        </Form.Item>
        <Space align="start" wrap>
          <Form.Item name="scope" label={t("access.f.scope")}>
            <Select style={{ width: 200 }} aria-label={t("access.f.scope")} data-testid="role-scope"
              options={SCOPES.map((s) => ({ value: s, label: t(`access.scope.${s}` as MessageKey) }))} />
          </Form.Item>
          {scope === "node" && (
            <Form.Item name="node_id" label={t("access.f.node")} extra={t("access.f.nodeHint")}>
              <Select allowClear showSearch optionFilterProp="label" style={{ width: 300 }} aria-label={t("access.f.node")}
                options={nodes.filter((n) => n.kind !== "team").map((n) => ({ value: n.node_id, label: `${n.name} (${t(`access.kind.${n.kind}` as MessageKey)})` }))} />
            </Form.Item>
          )}
        </Space>
        <Form.Item name="permissions" label={<Typography.Text strong>{t("access.f.permissions")}</Typography.Text>}>
          <PermissionPicker catalogue={catalogue} />
        </Form.Item>
        {save.isError && <ProblemAlert error={save.error} />}
      </Form>
    </Drawer>
  );
}
