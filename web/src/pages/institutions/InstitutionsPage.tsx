// Institutions (seed 004 §I.1, issue #19): the institutions customers come through, by name, with the manager
// or team who looks after them; create and edit need AssignmentManage (catalogue: institutions.manage), the
// list ClientProfileReadOnly, as the customer service's /institutions routes require.
import { EditOutlined, PlusOutlined } from "@ant-design/icons";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Form, Input, Modal, Select, Space, Table, Typography } from "antd";
import type { FormInstance } from "antd";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert } from "../../components/PageState";
import { submitValid } from "../../components/submitValid";
import { useI18n } from "../../i18n";
import { listTeams, managersPage, type ManagerRow, type Team } from "../../services/assignment";
import { createInstitution, listInstitutions, updateInstitution, type Institution, type InstitutionBody } from "../../services/institutions";
import { ENTITY_ID } from "../managers/validation";

export interface InstitutionValues { institution_id: string; name: string; manager_id?: string | null; team_id?: string | null }

/** The API's body: the name trimmed, an unset manager or team as null (the API clears it). */
export function toInstitutionBody(v: InstitutionValues): InstitutionBody {
  return { name: v.name.trim(), manager_id: v.manager_id || null, team_id: v.team_id || null };
}

export function InstitutionForm({ form, existing, teams, managers }: { form: FormInstance<InstitutionValues>; existing: boolean; teams: Team[]; managers: ManagerRow[] }) {
  const { t } = useI18n();
  return (
    <Form<InstitutionValues> form={form} layout="vertical" name="institution">
      <Form.Item name="institution_id" label={t("institutions.id")}
        rules={[{ required: true, message: t("common.required") }, { pattern: ENTITY_ID, message: t("managers.badId") }]}>
        <Input disabled={existing} maxLength={64} />
      </Form.Item>
      <Form.Item name="name" label={t("field.name")} rules={[{ required: true, whitespace: true, message: t("common.required") }, { max: 200 }]}>
        <Input maxLength={200} />
      </Form.Item>
      <Form.Item name="manager_id" label={t("institutions.manager")}>
        <Select allowClear showSearch optionFilterProp="label"
          options={managers.map((m) => ({ value: m.manager_id, label: `${m.name} (${m.manager_id})` }))} />
      </Form.Item>
      <Form.Item name="team_id" label={t("institutions.team")}>
        <Select allowClear options={teams.map((x) => ({ value: x.team_id, label: x.name }))} />
      </Form.Item>
    </Form>
  );
}

export default function InstitutionsPage() {
  const { t } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const manage = may("institutions.manage");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const list = useQuery({
    queryKey: ["institutions", cursor],
    queryFn: ({ signal }) => listInstitutions(cursor, signal),
    placeholderData: keepPreviousData,
  });
  const teams = useQuery({ queryKey: ["teams"], queryFn: ({ signal }) => listTeams(signal) });
  const managers = useQuery({ queryKey: ["managers", "active-all"], queryFn: ({ signal }) => managersPage({ status: "active", limit: 500 }, signal), enabled: manage });
  const [editing, setEditing] = useState<Institution | "new" | null>(null);
  const [form] = Form.useForm<InstitutionValues>();
  const save = useMutation({
    mutationFn: (v: InstitutionValues) => editing === "new"
      ? createInstitution(v.institution_id.trim(), toInstitutionBody(v))
      : updateInstitution(v.institution_id, toInstitutionBody(v)),
    onSuccess: () => { message.success(t("common.saved")); setEditing(null); void qc.invalidateQueries({ queryKey: ["institutions"] }); },
  });
  const open = (r: Institution | "new") => {
    save.reset();
    form.resetFields();
    if (r !== "new") form.setFieldsValue({ institution_id: r.institution_id, name: r.name, manager_id: r.manager_id ?? undefined, team_id: r.team_id ?? undefined });
    setEditing(r);
  };
  const teamName = (id?: string | null) => (id ? teams.data?.find((x) => x.team_id === id)?.name ?? id : "—");
  return (
    <Space direction="vertical" style={{ width: "100%" }} size="large">
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("institutions.title")}</Typography.Title>
      <Card size="small" title={<Typography.Text type="secondary" style={{ fontWeight: "normal" }}>{t("institutions.help")}</Typography.Text>}
        extra={manage && <Button size="small" icon={<PlusOutlined />} onClick={() => open("new")} data-testid="institution-add">{t("institutions.add")}</Button>}>
        {list.error ? <ProblemAlert error={list.error} onRetry={() => void list.refetch()} /> : null}
        <Table<Institution> rowKey="institution_id" size="small" pagination={false} dataSource={list.data?.items ?? []} loading={list.isLoading}
          locale={{ emptyText: t("institutions.empty") }} data-testid="institutions-table"
          columns={[
            { title: t("field.name"), dataIndex: "name", render: (v: string, r) => <>{v} <Typography.Text type="secondary">({r.institution_id})</Typography.Text></> },
            { title: t("institutions.manager"), dataIndex: "manager_id", render: (v?: string | null) => v ?? "—" },
            { title: t("institutions.team"), dataIndex: "team_id", render: (v?: string | null) => teamName(v) },
            { title: t("institutions.updated"), dataIndex: "updated_at", render: (v: string) => new Date(v).toLocaleString() },
            ...(manage ? [{ title: t("common.actions"), key: "act", render: (_: unknown, r: Institution) => (
              <Button size="small" icon={<EditOutlined />} onClick={() => open(r)} aria-label={t("institutions.edit", { id: r.institution_id })} />) }] : []),
          ]} />
        <Space style={{ marginTop: 8 }}>
          <Button disabled={cursors.length < 2} onClick={() => setCursors((c) => c.slice(0, -1))}>{t("common.previous")}</Button>
          <Button disabled={!list.data?.next_cursor} onClick={() => setCursors((c) => [...c, list.data?.next_cursor ?? null])}>{t("common.next")}</Button>
        </Space>
      </Card>
      <Modal open={editing !== null} forceRender width={520} onCancel={() => setEditing(null)}
        title={editing === "new" ? t("institutions.add") : t("institutions.edit", { id: editing?.institution_id ?? "" })}
        okText={t("common.save")} confirmLoading={save.isPending} onOk={() => submitValid(form, (v) => save.mutate(v))}>
        <InstitutionForm form={form} existing={editing !== "new" && editing !== null} teams={teams.data ?? []} managers={managers.data?.items ?? []} />
        {save.isError && <ProblemAlert error={save.error} />}
      </Modal>
    </Space>
  );
}
