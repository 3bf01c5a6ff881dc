// One campaign: its plan, status, execution (once started) and history; submit for review, a peer's approval or rejection (with a
// comment), start. The buttons follow the permissions and the status; the service decides (a reviewer who
// wrote the plan, or is not the creator's peer, gets its problem shown).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Button, Descriptions, Drawer, Input, Space, Tag, Timeline, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { ExecutionSection } from "./ExecutionSection";
import { campaignHistory, getCampaign, reviewCampaign, startCampaign, submitCampaign, type Campaign } from "../../services/campaigns";
import { EvaluationPanel } from "./EvaluationPanel";

const fmt = (v: string | null | undefined) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : "—");
export const STATUS_COLOR: Record<string, string> = { draft: "default", in_review: "gold", approved: "green", rejected: "red", running: "blue", closed: "default" };

export function CampaignDrawer({ campaignId, onClose }: { campaignId: string | null; onClose: () => void }) {
  const { t } = useI18n();
  const { may, session } = useAuth();
  const qc = useQueryClient();
  const [comment, setComment] = useState("");
  const q = useQuery({ queryKey: ["campaign", campaignId], enabled: !!campaignId, queryFn: ({ signal }) => getCampaign(campaignId!, signal) });
  const h = useQuery({ queryKey: ["campaign-history", campaignId], enabled: !!campaignId, queryFn: ({ signal }) => campaignHistory(campaignId!, signal) });
  const act = useMutation({
    mutationFn: (fn: (id: string) => Promise<Campaign>) => fn(campaignId!),
    onSuccess: (c) => {
      qc.setQueryData(["campaign", campaignId], c);
      setComment("");
      void qc.invalidateQueries({ queryKey: ["campaign-history", campaignId] });
      void qc.invalidateQueries({ queryKey: ["campaigns"] });
    },
  });
  const mine = q.data?.created_by === session?.claims.sub;
  return (
    <Drawer open={!!campaignId} onClose={() => { act.reset(); onClose(); }} width={640} destroyOnHidden title={q.data?.plan.name ?? t("campaigns.detail")}>
      <QueryState query={q}>
        {(c) => (
          <Space direction="vertical" style={{ width: "100%" }} size="middle">
            <Descriptions column={1} size="small" bordered items={[
              { key: "status", label: t("campaigns.col.status"), children: <Tag color={STATUS_COLOR[c.status]} data-testid="campaign-status">{t(`campaigns.status.${c.status}` as MessageKey)}</Tag> },
              { key: "purpose", label: t("campaigns.f.purpose"), children: c.plan.purpose ?? "—" },
              { key: "period", label: t("campaigns.col.period"), children: `${fmt(c.plan.start_at)} – ${fmt(c.plan.end_at)}` },
              { key: "dist", label: t("campaigns.col.distribution"), children: `${t(`campaigns.dist.${c.plan.distribution}` as MessageKey)}${c.plan.team_id ? ` (${c.plan.team_id})` : ""}` },
              { key: "channels", label: t("campaigns.f.channels"), children: c.plan.channels.map((x) => t(`campaigns.channel.${x}` as MessageKey)).join(", ") },
              { key: "metrics", label: t("campaigns.f.metrics"), children: `${c.plan.metrics.map((x) => t(`campaigns.metric.${x}` as MessageKey)).join(", ")} · ${c.plan.attribution_window_days}` },
              { key: "audience", label: t("campaigns.col.audience"), children: c.audience_size ?? "—" },
              ...(c.plan.control_pct ? [{ key: "control", label: t("campaigns.f.control"), children: `${c.plan.control_pct}%` }] : []),
              { key: "by", label: t("campaigns.col.createdBy"), children: c.created_by },
            ]} />
            {act.isError && <ProblemAlert error={act.error} />}
            <Space wrap>
              {may("campaigns.plan") && (c.status === "draft" || c.status === "rejected") && (
                <Button type="primary" loading={act.isPending} onClick={() => act.mutate(submitCampaign)} data-testid="campaign-submit">{t("campaigns.submit")}</Button>)}
              {may("campaigns.plan") && c.status === "approved" && (
                <Button type="primary" loading={act.isPending} onClick={() => act.mutate(startCampaign)} data-testid="campaign-start">{t("campaigns.start")}</Button>)}
            </Space>
            {may("campaigns.review") && c.status === "in_review" && !mine && (
              <Space direction="vertical" style={{ width: "100%" }}>
                <Input.TextArea rows={2} value={comment} maxLength={4000} onChange={(e) => setComment(e.target.value)} aria-label={t("campaigns.comment")} placeholder={t("campaigns.comment")} />
                <Space>
                  <Button type="primary" loading={act.isPending} onClick={() => act.mutate((id) => reviewCampaign(id, "approve", comment.trim() || null))} data-testid="campaign-approve">{t("campaigns.approve")}</Button>
                  <Button danger disabled={!comment.trim()} title={comment.trim() ? undefined : t("campaigns.commentNeeded")} loading={act.isPending}
                    onClick={() => act.mutate((id) => reviewCampaign(id, "reject", comment.trim()))} data-testid="campaign-reject">{t("campaigns.reject")}</Button>
                </Space>
              </Space>
            )}
            {c.started_at && <ExecutionSection campaign={c} />}
            {(c.status === "running" || c.status === "closed") && <EvaluationPanel campaignId={c.campaign_id} />}
            <Typography.Title level={2} style={{ fontSize: 16 }}>{t("campaigns.history")}</Typography.Title>
            <QueryState query={h}>
              {(items) => <Timeline items={items.map((e) => ({
                key: e.version,
                children: (
                  <span data-testid={`history-${e.event}`}>
                    {t(`campaigns.ev.${e.event}` as MessageKey)} · {fmt(e.at)} · {e.by ?? t("campaigns.scheduler")}
                    {e.audience_size != null && ` · ${e.audience_size}`}
                    {e.comment && <Typography.Text type="secondary"> — {e.comment}</Typography.Text>}
                  </span>
                ),
              }))} />}
            </QueryState>
          </Space>
        )}
      </QueryState>
    </Drawer>
  );
}
