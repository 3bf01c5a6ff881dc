// A started campaign's evaluation: its indicators as last computed (daily, or now on demand), the control
// group's lift, the cost input (an event on the campaign) and the input-output ratio, and the CSV download.
import { DownloadOutlined, ReloadOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Button, Descriptions, Empty, Input, InputNumber, Space, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { useAuth } from "../../auth/AuthProvider";
import { downloadBlob } from "../../components/download";
import { ProblemAlert, QueryState } from "../../components/PageState";
import { useI18n } from "../../i18n";
import { getIndicators, indicatorsCsv, recordCost, refreshIndicators } from "../../services/campaigns";

/** Offer a file being fetched as a Blob as a download. */
export async function saveBlob(blob: Promise<Blob>, filename: string) {
  downloadBlob(await blob, filename);
}

const money = (v: string | number | null | undefined) => (v == null ? "—" : Number(v).toLocaleString(undefined, { maximumFractionDigits: 2 }));
/** An amount with its currency: the indicators' amounts are in the brokerage's reporting currency (other
 * currencies are listed apart, never converted or added in). */
const inCurrency = (v: string | number | null | undefined, currency: string | null | undefined) => (v == null ? "—" : `${money(v)}${currency ? ` ${currency}` : ""}`);

export function EvaluationPanel({ campaignId }: { campaignId: string }) {
  const { t } = useI18n();
  const { may } = useAuth();
  const qc = useQueryClient();
  const [amount, setAmount] = useState<string | null>(null);
  const q = useQuery({ queryKey: ["campaign-indicators", campaignId], queryFn: ({ signal }) => getIndicators(campaignId, signal) });
  // the cost's currency: the indicators' (the ratio needs the cost in the reporting currency) unless typed
  const [typed, setCurrency] = useState<string | null>(null);
  const currency = typed ?? q.data?.currency ?? "USD";
  const refresh = useMutation({
    mutationFn: () => refreshIndicators(campaignId),
    onSuccess: (data) => qc.setQueryData(["campaign-indicators", campaignId], data),
  });
  const cost = useMutation({
    mutationFn: () => recordCost(campaignId, amount ?? "0", currency.trim().toUpperCase(), null),
    onSuccess: () => { setAmount(null); refresh.mutate(); void qc.invalidateQueries({ queryKey: ["campaign-history", campaignId] }); },
  });
  const writer = may("campaigns.plan");
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="campaign-evaluation">
      <Typography.Title level={2} style={{ fontSize: 16 }}>{t("campaigns.eval.title")}</Typography.Title>
      {(refresh.isError || cost.isError) && <ProblemAlert error={refresh.error ?? cost.error} />}
      <QueryState query={q}>
        {(ind) => ind == null ? <Empty description={t("campaigns.eval.none")} /> : (
          <Descriptions column={2} size="small" bordered items={[
            { key: "targeted", label: t("campaigns.eval.targeted"), children: <span data-testid="eval-targeted">{ind.targeted}</span> },
            { key: "converted", label: t("campaigns.eval.converted"), children: <span data-testid="eval-converted">{ind.converted}</span> },
            { key: "opened", label: t("campaigns.metric.account_opened"), children: ind.account_opened },
            { key: "funded", label: t("campaigns.metric.funded"), children: ind.funded },
            { key: "traded", label: t("campaigns.metric.first_trade"), children: ind.first_trade },
            { key: "contacted", label: t("campaigns.eval.contacted"), children: (ind.figures.tracking as Record<string, number> | null)?.contacted ?? "—" },
            { key: "net", label: t("campaigns.metric.net_deposits"), children: <span data-testid="eval-net">{inCurrency(ind.net_deposits, ind.currency)}</span> },
            { key: "assets", label: t("campaigns.metric.incremental_assets"), children: inCurrency(ind.incremental_assets, ind.currency) },
            ...(Object.keys(ind.other_currencies ?? {}).length ? [{
              key: "others", span: 2, label: t("campaigns.eval.otherCurrencies"),
              children: <span data-testid="eval-other-currencies">{Object.entries(ind.other_currencies ?? {}).map(([ccy, a]) =>
                `${ccy}: ${t("campaigns.metric.net_deposits")} ${money(a.net_deposits)} · ${t("campaigns.metric.incremental_assets")} ${money(a.incremental_assets)}`).join("; ")}</span>,
            }] : []),
            { key: "control", label: t("campaigns.eval.control"), children: (ind.figures.control as { size: number } | null)?.size ?? "—" },
            { key: "lift", label: t("campaigns.eval.lift"), children: (ind.figures.lift as Record<string, string> | null)?.conversion_rate ?? "—" },
            { key: "cost", label: t("campaigns.eval.cost"), children: ind.figures.cost ? `${money((ind.figures.cost as { amount: string }).amount)} ${(ind.figures.cost as { currency: string }).currency}` : "—" },
            { key: "ratio", label: t("campaigns.eval.ratio"), children: <span data-testid="eval-ratio">{(ind.figures.input_output_ratio as string | null) ?? "—"}</span> },
            { key: "at", label: t("campaigns.eval.computedAt"), children: dayjs(ind.computed_at).format("YYYY-MM-DD HH:mm") },
          ]} />
        )}
      </QueryState>
      <Space wrap>
        {writer && <Button icon={<ReloadOutlined />} loading={refresh.isPending} onClick={() => refresh.mutate()} data-testid="eval-refresh">{t("campaigns.eval.refresh")}</Button>}
        {q.data && <Button icon={<DownloadOutlined />} onClick={() => void saveBlob(indicatorsCsv(campaignId), `campaign-${campaignId}-indicators.csv`)} data-testid="eval-csv">{t("campaigns.eval.csv")}</Button>}
      </Space>
      {writer && (
        <Space wrap>
          <InputNumber<string> stringMode min="0" value={amount} onChange={(v) => setAmount(v)} aria-label={t("campaigns.eval.cost")} placeholder={t("campaigns.eval.cost")} data-testid="eval-cost" />
          <Input value={currency} maxLength={3} style={{ width: 80 }} onChange={(e) => setCurrency(e.target.value)} aria-label={t("campaigns.eval.currency")} />
          <Button type="primary" disabled={amount == null || !/^[A-Za-z]{3}$/.test(currency.trim())} loading={cost.isPending} onClick={() => cost.mutate()} data-testid="eval-cost-save">{t("campaigns.eval.saveCost")}</Button>
        </Space>
      )}
    </Space>
  );
}
