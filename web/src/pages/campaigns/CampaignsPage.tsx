// Campaigns (seed 004 §II): the list the caller sees (status filter, keyset pages), planning a new one, and
// a campaign's detail with its review and start.
import { useQuery } from "@tanstack/react-query";
import { Button, Select, Space, Table, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { STATUSES, listCampaigns, type CampaignItem, type CampaignStatus } from "../../services/campaigns";
import { CampaignDrawer, STATUS_COLOR } from "./CampaignDrawer";
import { CampaignForm } from "./CampaignForm";
import { CampaignReports, CompareModal } from "./CampaignReports";

export default function CampaignsPage() {
  const { t } = useI18n();
  const { may } = useAuth();
  const [status, setStatus] = useState<CampaignStatus | null>(null);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [open, setOpen] = useState<string | null>(null);
  const [planning, setPlanning] = useState(false);
  const [picked, setPicked] = useState<string[]>([]);
  const [comparing, setComparing] = useState<string[] | null>(null);
  const cursor = cursors[cursors.length - 1];
  const q = useQuery({ queryKey: ["campaigns", status, cursor], queryFn: ({ signal }) => listCampaigns({ status, cursor }, signal) });
  const when = (v: string) => dayjs(v).format("YYYY-MM-DD HH:mm");
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("campaigns.title")}</Typography.Title>
      <Space wrap style={{ marginBottom: 12 }}>
        <Select<CampaignStatus | "">
          style={{ width: 200 }} value={status ?? ""} aria-label={t("campaigns.statusFilter")}
          onChange={(v) => { setCursors([null]); setStatus(v || null); }}
          options={[{ value: "", label: t("campaigns.anyStatus") }, ...STATUSES.map((s) => ({ value: s, label: t(`campaigns.status.${s}` as MessageKey) }))]} />
        {may("campaigns.plan") && <Button type="primary" onClick={() => setPlanning(true)} data-testid="campaign-new">{t("campaigns.new")}</Button>}
        <Button disabled={picked.length < 2} onClick={() => setComparing(picked)} data-testid="campaign-compare">{t("campaigns.compare")}</Button>
      </Space>
      {q.isError ? <ProblemAlert error={q.error} onRetry={() => void q.refetch()} /> : (
        <Table<CampaignItem> rowKey="campaign_id" size="middle" pagination={false} loading={q.isPending} dataSource={q.data?.items ?? []}
          locale={{ emptyText: t("campaigns.empty") }} data-testid="campaign-table"
          rowSelection={{ selectedRowKeys: picked, onChange: (keys) => setPicked((keys as string[]).slice(0, 20)),
            getCheckboxProps: (r) => ({ disabled: r.status !== "running" && r.status !== "closed", "aria-label": r.name }) }}
          columns={[
            { title: t("campaigns.col.name"), dataIndex: "name", render: (v: string, r) => <Button type="link" style={{ padding: 0 }} onClick={() => setOpen(r.campaign_id)}>{v}</Button> },
            { title: t("campaigns.col.status"), dataIndex: "status", render: (v: CampaignStatus) => <Tag color={STATUS_COLOR[v]}>{t(`campaigns.status.${v}` as MessageKey)}</Tag> },
            { title: t("campaigns.col.distribution"), dataIndex: "distribution", render: (v: string) => t(`campaigns.dist.${v}` as MessageKey) },
            { title: t("campaigns.col.period"), key: "period", render: (_, r) => `${when(r.start_at)} – ${when(r.end_at)}` },
            { title: t("campaigns.col.audience"), dataIndex: "audience_size", render: (v: number | null) => v ?? "—" },
            { title: t("campaigns.col.createdBy"), dataIndex: "created_by" },
          ]} />
      )}
      <Space style={{ marginTop: 12, width: "100%", justifyContent: "flex-end" }}>
        <Button disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>{t("common.previous")}</Button>
        <Button disabled={!q.data?.next_cursor} onClick={() => q.data?.next_cursor && setCursors([...cursors, q.data.next_cursor])}>{t("common.next")}</Button>
      </Space>
      <CampaignForm open={planning} onClose={() => setPlanning(false)} onCreated={(c) => { setPlanning(false); setOpen(c.campaign_id); }} />
      <CampaignDrawer campaignId={open} onClose={() => setOpen(null)} />
      <CompareModal ids={comparing} onClose={() => setComparing(null)} />
      <CampaignReports />
    </>
  );
}
