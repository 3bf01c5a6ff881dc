// Account Managers (seed 000 "Account Managers", seed 002 客户经理管理): the list with team and status
// filters, add / edit, resign with hand-over, each manager's referral QR code, and load against capacity (each
// manager's bar and free places, the teams' totals).
import { submitValid } from "../../components/submitValid";
import { EditOutlined, PlusOutlined, QrcodeOutlined, UserDeleteOutlined } from "@ant-design/icons";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Form, Modal, Progress, Select, Space, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { createManager, editManager, listTeams, managersPage, resignManager, teamsCapacity, type ManagerRow } from "../../services/assignment";
import { barColor, barPercent, barStatus } from "./capacity";
import { ManagerForm, toCreateBody, toPatchBody, type ManagerValues } from "./ManagerForm";
import { QrCodeDialog } from "./QrCodeDialog";
import { ResignDialog, type ResignValues } from "./ResignDialog";
import { TeamCapacity } from "./TeamCapacity";

export default function ManagersPage() {
  const { t } = useI18n();
  const { may } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const manage = may("managers.manage");
  const [team, setTeam] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>("active");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [editing, setEditing] = useState<ManagerRow | "new" | null>(null);
  const [qr, setQr] = useState<ManagerRow | null>(null);
  const [resigning, setResigning] = useState<ManagerRow | null>(null);
  const [form] = Form.useForm<ManagerValues>();
  const teams = useQuery({ queryKey: ["teams"], queryFn: ({ signal }) => listTeams(signal) });
  const capacity = useQuery({ queryKey: ["managers", "capacity"], queryFn: ({ signal }) => teamsCapacity(signal) });
  const cursor = cursors[cursors.length - 1];
  const q = useQuery({
    queryKey: ["managers", team, status, cursor],
    queryFn: ({ signal }) => managersPage({ team_id: team, status, cursor, limit: 50 }, signal),
    placeholderData: keepPreviousData,
  });
  const all = useQuery({ queryKey: ["managers", "active-all"], queryFn: ({ signal }) => managersPage({ status: "active", limit: 500 }, signal), enabled: !!resigning });
  const refresh = () => { setTimeout(() => void qc.invalidateQueries({ queryKey: ["managers"] }), 800); };
  const save = useMutation({
    mutationFn: async (v: ManagerValues) => (editing === "new" || editing === null ? createManager(toCreateBody(v)) : editManager(editing.manager_id, toPatchBody(v, editing))),
    onSuccess: () => { message.success(t("common.saved")); setEditing(null); refresh(); },
  });
  const resign = useMutation({
    mutationFn: (v: ResignValues) => resignManager(resigning!.manager_id, v.handover, v.to_manager_id ?? null),
    onSuccess: () => { message.success(t("managers.resigned")); setResigning(null); refresh(); },
  });
  const open = (m: ManagerRow | "new") => {
    save.reset();
    form.resetFields();
    if (m !== "new") form.setFieldsValue({ ...m, position: m.position ?? undefined, referral_code: m.referral_code ?? undefined, status: m.status === "absent" ? "absent" : "active" });
    setEditing(m);
  };
  const teamName = (id: string | null) => teams.data?.find((x) => x.team_id === id)?.name ?? id ?? "—";

  return (
    <>
      <Space style={{ width: "100%", justifyContent: "space-between" }} align="baseline">
        <Typography.Title level={1} style={{ fontSize: 24 }}>{t("managers.title")}</Typography.Title>
        {manage && <Button type="primary" icon={<PlusOutlined />} onClick={() => open("new")} data-testid="manager-add">{t("managers.add")}</Button>}
      </Space>
      <Space wrap style={{ marginBottom: 12 }}>
        <Select allowClear placeholder={t("managers.allTeams")} aria-label={t("managers.team")} style={{ width: 220 }} value={team ?? undefined}
          onChange={(v) => { setCursors([null]); setTeam(v ?? null); }} options={(teams.data ?? []).map((x) => ({ value: x.team_id, label: x.name }))} />
        <Select allowClear placeholder={t("managers.anyStatus")} aria-label={t("managers.status")} style={{ width: 160 }} value={status ?? undefined}
          onChange={(v) => { setCursors([null]); setStatus(v ?? null); }}
          options={["active", "absent", "resigned"].map((s) => ({ value: s, label: t(`managers.status.${s}` as MessageKey) }))} />
      </Space>
      {capacity.isError ? <ProblemAlert error={capacity.error} onRetry={() => void capacity.refetch()} />
        : <TeamCapacity teams={(capacity.data ?? []).filter((x) => !team || x.team_id === team)} loading={capacity.isPending} />}
      {q.isError ? <ProblemAlert error={q.error} onRetry={() => void q.refetch()} /> : (
        <Table<ManagerRow> rowKey="manager_id" size="middle" pagination={false} dataSource={q.data?.items ?? []} loading={q.isPending}
          locale={{ emptyText: t("managers.empty") }} data-testid="managers-table"
          columns={[
            { title: t("field.name"), dataIndex: "name", render: (v: string, r) => <><Typography.Text strong>{v}</Typography.Text><div style={{ fontSize: 12, color: "#595959" }}>{r.manager_id}</div></> },
            { title: t("managers.position"), dataIndex: "position", render: (v: string | null) => v ?? "—" },
            { title: t("managers.team"), dataIndex: "team_id", render: teamName },
            { title: t("managers.regions"), dataIndex: "regions", render: (v: string[]) => v.map((x) => <Tag key={x}>{x}</Tag>) },
            { title: t("managers.languages"), dataIndex: "languages", render: (v: string[]) => v.map((x) => <Tag key={x}>{x}</Tag>) },
            { title: t("managers.load"), key: "load", width: 170, render: (_, r) => (
              <><Progress percent={barPercent(r.utilisation)} status={barStatus(r.utilisation)} strokeColor={barColor(r.utilisation)} size="small" showInfo={false} aria-label={t("capacity.barFor", { name: r.name })} />
                {t("managers.loadOf", { load: r.load, capacity: r.capacity })}
                {r.status === "active" && r.idle !== undefined && <Typography.Text type="secondary"> · {t("managers.idle", { n: r.idle })}</Typography.Text>}</>) },
            { title: t("managers.status"), dataIndex: "status", render: (v: string) => <Tag color={v === "active" ? "green" : v === "absent" ? "orange" : undefined}>{t(`managers.status.${v}` as MessageKey)}</Tag> },
            { title: t("common.actions"), key: "act", render: (_, r) => (
              <Space size={4}>
                <Button size="small" icon={<QrcodeOutlined />} onClick={() => setQr(r)} aria-label={t("managers.qrFor", { name: r.name })} />
                {manage && r.status !== "resigned" && <Button size="small" icon={<EditOutlined />} onClick={() => open(r)} aria-label={t("managers.editFor", { name: r.name })} />}
                {manage && r.status !== "resigned" && <Button size="small" danger icon={<UserDeleteOutlined />} onClick={() => { resign.reset(); setResigning(r); }} aria-label={t("managers.resignFor", { name: r.name })} />}
              </Space>) },
          ]} />
      )}
      <Space style={{ marginTop: 12, width: "100%", justifyContent: "flex-end" }}>
        <Button disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>{t("common.previous")}</Button>
        <Button disabled={!q.data?.next_cursor} onClick={() => q.data?.next_cursor && setCursors([...cursors, q.data.next_cursor])}>{t("common.next")}</Button>
      </Space>
      <Modal open={editing !== null} destroyOnHidden={false} forceRender width={600} onCancel={() => setEditing(null)}
        title={editing === "new" ? t("managers.add") : t("managers.edit")} okText={t("common.save")} confirmLoading={save.isPending}
        onOk={() => submitValid(form, (v) => save.mutate(v))}>
        <ManagerForm form={form} editing={editing === "new" ? null : editing} teams={teams.data ?? []} />
        {save.isError && <ProblemAlert error={save.error} />}
      </Modal>
      <ResignDialog manager={resigning} managers={all.data?.items ?? []} onClose={() => setResigning(null)} onResign={(v) => resign.mutate(v)}
        pending={resign.isPending} error={resign.isError ? resign.error : null} />
      <QrCodeDialog manager={qr} onClose={() => setQr(null)} />
    </>
  );
}
