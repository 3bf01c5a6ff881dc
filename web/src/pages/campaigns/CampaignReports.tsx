// Campaign reports: the indicators of the campaigns the caller sees summed by manager, team, channel or
// segment, and campaigns side by side; both as CSV. The service keeps them within the caller's data scope.
import { DownloadOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Button, Modal, Segmented, Space, Table, Typography } from "antd";
import { useState } from "react";
import { ProblemAlert } from "../../components/PageState";
import { useI18n } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { REPORT_DIMENSIONS, campaignReport, compareCampaigns, evaluationCsv, type Indicators, type ReportDimension } from "../../services/campaigns";
import { saveBlob } from "./EvaluationPanel";

const num = (v: string | number) => Number(v).toLocaleString(undefined, { maximumFractionDigits: 2 });
const FIGURES = ["targeted", "account_opened", "funded", "first_trade", "converted", "net_deposits", "incremental_assets"] as const;

const AMOUNTS = new Set<string>(["net_deposits", "incremental_assets"]);

/** The figures' columns; the amounts' titles name their currency (the brokerage's reporting currency). */
function useFigureColumns(currency?: string | null) {
  const { t } = useI18n();
  return FIGURES.map((k) => ({ title: `${t(`campaigns.fig.${k}` as MessageKey)}${currency && AMOUNTS.has(k) ? ` (${currency})` : ""}`, dataIndex: k, align: "right" as const, render: (v: string | number) => num(v) }));
}

export function CampaignReports() {
  const { t } = useI18n();
  const [dimension, setDimension] = useState<ReportDimension>("manager");
  const q = useQuery({ queryKey: ["campaign-report", dimension], queryFn: ({ signal }) => campaignReport(dimension, signal) });
  const figures = useFigureColumns(q.data?.currency);
  return (
    <Space direction="vertical" style={{ width: "100%", marginTop: 24 }} data-testid="campaign-reports">
      <Typography.Title level={2} style={{ fontSize: 18 }}>{t("campaigns.reports")}</Typography.Title>
      <Space wrap>
        <Segmented<ReportDimension> value={dimension} onChange={setDimension} aria-label={t("campaigns.reports")}
          options={REPORT_DIMENSIONS.map((d) => ({ value: d, label: t(`campaigns.dim.${d}` as MessageKey) }))} />
        <Button icon={<DownloadOutlined />} onClick={() => void saveBlob(evaluationCsv({ dimension }), `campaigns-by-${dimension}.csv`)} data-testid="report-csv">{t("campaigns.eval.csv")}</Button>
      </Space>
      {q.isError ? <ProblemAlert error={q.error} onRetry={() => void q.refetch()} /> : (
        <Table rowKey="key" size="small" pagination={false} loading={q.isPending} dataSource={q.data?.items ?? []} data-testid="report-table"
          locale={{ emptyText: t("campaigns.eval.none") }}
          columns={[{ title: t(`campaigns.dim.${dimension}` as MessageKey), dataIndex: "key" }, { title: t("campaigns.reportCampaigns"), dataIndex: "campaigns", align: "right" as const }, ...figures]} />
      )}
    </Space>
  );
}

export function CompareModal({ ids, onClose }: { ids: string[] | null; onClose: () => void }) {
  const { t } = useI18n();
  const q = useQuery({ queryKey: ["campaign-compare", ids], enabled: !!ids, queryFn: ({ signal }) => compareCampaigns(ids!, signal) });
  const currencies = [...new Set((q.data ?? []).map((r) => r.currency).filter(Boolean))];
  const figures = useFigureColumns(currencies.length === 1 ? currencies[0] : null);
  return (
    <Modal open={!!ids} onCancel={onClose} footer={null} width={1000} destroyOnHidden title={t("campaigns.compare")}>
      {q.isError ? <ProblemAlert error={q.error} /> : (
        <Table<Indicators> rowKey="campaign_id" size="small" pagination={false} loading={q.isPending} dataSource={q.data ?? []} data-testid="compare-table"
          columns={[{ title: t("campaigns.col.name"), dataIndex: "name" }, ...figures,
            { title: t("campaigns.eval.ratio"), key: "ratio", align: "right" as const, render: (_, r) => (r.figures.input_output_ratio as string | null) ?? "—" }]} />
      )}
      <Button icon={<DownloadOutlined />} style={{ marginTop: 12 }} onClick={() => ids && void saveBlob(evaluationCsv({ ids }), "campaigns-compare.csv")}>{t("campaigns.eval.csv")}</Button>
    </Modal>
  );
}
