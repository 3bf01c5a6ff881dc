import { useQuery } from "@tanstack/react-query";
import { Card, Col, DatePicker, Progress, Row, Space, Statistic, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { useBrokerageDay } from "../../hooks/useBrokerageDay";
import { QueryState } from "../../components/PageState";
import { useI18n, type Translate } from "../../i18n";
import { accountOpening } from "../../services/summary";

export function formatDuration(seconds: number | null, t: Translate): string {
  if (seconds == null) return t("common.none");
  const m = Math.round(seconds / 60);
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  if (d > 0) return t("duration.days", { d, h });
  if (h > 0) return t("duration.hours", { h, m: m % 60 });
  return t("duration.minutes", { m });
}

export function AccountOpeningCard() {
  const { t, lang } = useI18n();
  // the last 30 of the brokerage's days until one is chosen (its today from the summary service)
  const clock = useBrokerageDay();
  const today = clock.data ? dayjs(clock.data.today) : null;
  const [chosen, setRange] = useState<[Dayjs, Dayjs] | null>(null);
  const range = chosen ?? (today ? [today.subtract(29, "day"), today] as [Dayjs, Dayjs] : null);
  const from = range?.[0].format("YYYY-MM-DD");
  const to = range?.[1].format("YYYY-MM-DD");
  const q = useQuery({ queryKey: ["summary", "account-opening", from, to], queryFn: () => accountOpening(from!, to!), enabled: !!range });
  const presets = today ? [7, 30, 90].map((n) => ({
    label: lang === "zh" ? `近 ${n} 天` : `Last ${n} days`,
    value: [today.subtract(n - 1, "day"), today] as [Dayjs, Dayjs],
  })) : [];
  return (
    <Card
      title={<Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>{t("home.opening")}</Typography.Title>}
      extra={
        <Space>
          <span id="opening-interval">{t("home.interval")}</span>
          <DatePicker.RangePicker
            aria-labelledby="opening-interval"
            value={range}
            allowClear={false}
            presets={presets}
            disabledDate={(d) => !!today && d.isAfter(today, "day")}
            onChange={(v) => v?.[0] && v[1] && setRange([v[0], v[1]])}
          />
        </Space>
      }
    >
      <QueryState query={q}>
        {(d) => (
          <Row gutter={16} align="middle">
            <Col span={8}>
              <Statistic title={t("home.avgRegisteredToOpened")} value={formatDuration(d.avg_seconds_registered_to_opened, t)} data-testid="avg-registered" />
              <Typography.Text type="secondary">{t("home.samples", { count: d.samples_registered_to_opened })}</Typography.Text>
            </Col>
            <Col span={8}>
              <Statistic title={t("home.avgSubmittedToOpened")} value={formatDuration(d.avg_seconds_submitted_to_opened, t)} />
              <Typography.Text type="secondary">{t("home.samples", { count: d.samples_submitted_to_opened })}</Typography.Text>
            </Col>
            <Col span={8} style={{ textAlign: "center" }}>
              <div id="success-rate-label" style={{ marginBottom: 8 }}>{t("home.successRate")}</div>
              {d.success_rate == null ? (
                <Typography.Text type="secondary">{t("home.noData")}</Typography.Text>
              ) : (
                <>
                  <Progress type="circle" size={96} percent={Math.round(d.success_rate * 1000) / 10} aria-labelledby="success-rate-label" data-testid="success-rate" />
                  <div><Typography.Text type="secondary">{t("home.decided", { opened: d.opened, decided: d.decided })}</Typography.Text></div>
                </>
              )}
            </Col>
          </Row>
        )}
      </QueryState>
    </Card>
  );
}
