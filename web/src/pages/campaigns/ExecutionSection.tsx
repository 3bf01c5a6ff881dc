// A started campaign's execution: its targets per status (contacted, reached, interested, declined, converted),
// refreshed while it runs (the service counts them as it consumes delivery results, follow-ups and conversions;
// frozen at the close), the targets with their status and each outreach channel's delivery, and the audit
// log's CSV export (ids only).
import { useMutation, useQuery } from "@tanstack/react-query";
import { Button, Space, Statistic, Table, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { downloadBlob } from "../../components/download";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { campaignTargets, exportCampaignLog, getCampaign, TARGET_STATUSES, type Campaign, type Target } from "../../services/campaigns";

const REFRESH_MS = 10_000;
export const TARGET_COLOR: Record<string, string> = { targeted: "default", contacted: "blue", reached: "geekblue", interested: "green", declined: "red", converted: "gold" };
const DELIVERY_COLOR: Record<string, string> = { requested: "default", sent: "blue", delivered: "cyan", opened: "green", failed: "red" };

export function ExecutionSection({ campaign }: { campaign: Campaign }) {
  const { t } = useI18n();
  const id = campaign.campaign_id;
  const running = campaign.status === "running";
  // the same query as the drawer's: polled while running, so the counts follow the consumed events
  const live = useQuery({ queryKey: ["campaign", id], queryFn: ({ signal }) => getCampaign(id, signal), initialData: campaign, refetchInterval: running ? REFRESH_MS : false });
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const targets = useQuery({ queryKey: ["campaign-targets", id, cursor], queryFn: ({ signal }) => campaignTargets(id, cursor, signal), refetchInterval: running ? REFRESH_MS : false });
  const exporting = useMutation({ mutationFn: () => exportCampaignLog(id), onSuccess: (blob) => downloadBlob(blob, `campaign-${id}-log.csv`) });
  const execution = live.data?.execution;
  if (!execution) return null;
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="campaign-execution">
      <Typography.Title level={2} style={{ fontSize: 16 }}>
        {t("campaigns.execution")} {execution.final && <Tag data-testid="execution-final">{t("campaigns.execution.final")}</Tag>}
      </Typography.Title>
      <Space wrap size="large">
        {TARGET_STATUSES.map((s) => (
          <Statistic key={s} title={t(`campaigns.target.${s}` as MessageKey)} value={execution.counts[s]} valueStyle={{ fontSize: 18 }}
            data-testid={`count-${s}`} />
        ))}
      </Space>
      <QueryState query={targets}>
        {(page) => (
          <Table<Target> size="small" rowKey="customer_id" dataSource={page.items} pagination={false} data-testid="campaign-targets"
            columns={[
              { key: "customer", title: t("campaigns.col.customer"), dataIndex: "customer_id" },
              { key: "owner", title: t("campaigns.col.owner"), render: (_, r) => r.manager_id ?? (r.team_id ? `${r.team_id} (${t("campaigns.queue")})` : "—") },
              { key: "status", title: t("campaigns.col.status"), render: (_, r) => (
                <Tag color={TARGET_COLOR[r.status ?? "targeted"]} data-testid={`target-status-${r.customer_id}`}>{t(`campaigns.target.${r.status ?? "targeted"}` as MessageKey)}</Tag>) },
              { key: "channels", title: t("campaigns.col.delivery"), render: (_, r) => (r.channels ?? []).length === 0 ? "—" : (
                <Space size={4} wrap>{(r.channels ?? []).map((c) => (
                  <Tag key={c.channel} color={DELIVERY_COLOR[c.status]} title={c.reason_code ?? undefined}>
                    {t(`campaigns.channel.${c.channel}` as MessageKey)}: {t(`campaigns.delivery.${c.status}` as MessageKey)}
                  </Tag>))}
                </Space>) },
              { key: "converted", title: t("campaigns.col.converted"), render: (_, r) => r.converted_at
                ? `${t(`campaigns.metric.${r.conversion}` as MessageKey)} · ${dayjs(r.converted_at).format("YYYY-MM-DD")}` : "—" },
            ]} />
        )}
      </QueryState>
      <Space>
        <Button size="small" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>{t("campaigns.prev")}</Button>
        <Button size="small" disabled={!targets.data?.next_cursor} onClick={() => setCursors([...cursors, targets.data!.next_cursor!])}>{t("campaigns.next")}</Button>
        <Button size="small" loading={exporting.isPending} onClick={() => exporting.mutate()} data-testid="campaign-log-export">{t("campaigns.logExport")}</Button>
      </Space>
      {exporting.isError && <ProblemAlert error={exporting.error} />}
    </Space>
  );
}
