// Today's Summary (seed 000 "Today's Summary", seed 002 今日小结): Customer Progress, Daily Follow-up and My
// Daily Report, for a chosen local day (?date=YYYY-MM-DD, default today). ?tab= keeps the section.
import { DatePicker, Space, Tabs, Typography } from "antd";
import dayjs from "dayjs";
import { useSearchParams } from "react-router";
import { useI18n } from "../../i18n";
import { CustomerDrawerSlot } from "../customers/drawer/CustomerDrawerSlot";
import { DueListSection } from "./DueListSection";
import { ProgressSection } from "./ProgressSection";
import { ReportSection } from "./ReportEditor";

const TABS = ["progress", "followups", "report"] as const;

export default function TodaySummaryPage() {
  const { t } = useI18n();
  const [params, setParams] = useSearchParams();
  const dateParam = params.get("date");
  const day = dateParam && dayjs(dateParam, "YYYY-MM-DD", true).isValid() ? dateParam : dayjs().format("YYYY-MM-DD");
  const tab = (TABS as readonly string[]).includes(params.get("tab") ?? "") ? params.get("tab")! : "progress";
  const set = (k: string, v: string | null) => {
    const p = new URLSearchParams(params);
    if (v === null) p.delete(k);
    else p.set(k, v);
    setParams(p, { replace: true });
  };
  return (
    <>
      <Space style={{ width: "100%", justifyContent: "space-between" }} align="baseline">
        <Typography.Title level={1} style={{ fontSize: 24 }}>{t("summary.title")}</Typography.Title>
        <Space>
          <label htmlFor="summary-date">{t("summary.date")}</label>
          <DatePicker id="summary-date" allowClear={false} value={dayjs(day)} disabledDate={(d) => d.isAfter(dayjs(), "day")}
            onChange={(v) => set("date", v ? v.format("YYYY-MM-DD") : null)} />
        </Space>
      </Space>
      <Tabs activeKey={tab} onChange={(k) => set("tab", k)} items={[
        { key: "progress", label: t("summary.progress"), children: <ProgressSection day={day} /> },
        { key: "followups", label: t("summary.followups"), children: <DueListSection day={day} /> },
        { key: "report", label: t("summary.report"), children: <ReportSection day={day} /> },
      ]} />
      <CustomerDrawerSlot />
    </>
  );
}
