// Today's Summary (seed 000 "Today's Summary", seed 002 今日小结): Customer Progress, Daily Follow-up and My
// Daily Report, for a chosen day of the brokerage (?date=YYYY-MM-DD, default the brokerage's today from the
// summary service, not the browser's). ?tab= keeps the section.
import { DatePicker, Space, Tabs, Typography } from "antd";
import dayjs from "dayjs";
import { useSearchParams } from "react-router";
import { PageLoading, ProblemAlert } from "../../components/PageState";
import { useBrokerageDay } from "../../hooks/useBrokerageDay";
import { useI18n } from "../../i18n";
import { CustomerDrawerSlot } from "../customers/drawer/CustomerDrawerSlot";
import { DueListSection } from "./DueListSection";
import { ProgressSection } from "./ProgressSection";
import { ReportSection } from "./ReportEditor";

const TABS = ["progress", "followups", "report"] as const;

export default function TodaySummaryPage() {
  const { t } = useI18n();
  const [params, setParams] = useSearchParams();
  const clock = useBrokerageDay();
  const dateParam = params.get("date");
  const today = clock.data?.today;
  const day = dateParam && dayjs(dateParam, "YYYY-MM-DD", true).isValid() ? dateParam : today;
  const tab = (TABS as readonly string[]).includes(params.get("tab") ?? "") ? params.get("tab")! : "progress";
  const set = (k: string, v: string | null) => {
    const p = new URLSearchParams(params);
    if (v === null) p.delete(k);
    else p.set(k, v);
    setParams(p, { replace: true });
  };
  if (!day || !today) return clock.isError ? <ProblemAlert error={clock.error} onRetry={() => void clock.refetch()} /> : <PageLoading />;
  return (
    <>
      <Space style={{ width: "100%", justifyContent: "space-between" }} align="baseline">
        <Typography.Title level={1} style={{ fontSize: 24 }}>{t("summary.title")}</Typography.Title>
        <Space>
          <label htmlFor="summary-date">{t("summary.date")}</label>
          <DatePicker id="summary-date" allowClear={false} value={dayjs(day)} disabledDate={(d) => d.isAfter(dayjs(today), "day")}
            onChange={(v) => set("date", v ? v.format("YYYY-MM-DD") : null)} data-testid="summary-date" />
          <Typography.Text type="secondary" data-testid="summary-timezone">{t("summary.timezone", { tz: clock.data!.timezone })}</Typography.Text>
        </Space>
      </Space>
      <Tabs activeKey={tab} onChange={(k) => set("tab", k)} items={[
        { key: "progress", label: t("summary.progress"), children: <ProgressSection day={day} /> },
        { key: "followups", label: t("summary.followups"), children: <DueListSection day={day} /> },
        { key: "report", label: t("summary.report"), children: <ReportSection day={day} today={today} /> },
      ]} />
      <CustomerDrawerSlot />
    </>
  );
}
