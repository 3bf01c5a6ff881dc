// Wealth calendar (seed 004 §III, issue #18): the upcoming events of the caller's customers — the closing and
// listing days of the IPOs they subscribed to, dividends and other corporate actions on what they hold, their
// maturities — by day, filtered by kind and period; the brokerage-wide IPO windows beside them. A customer id
// opens the customer drawer (?customer=). The API applies the data scope and masks names without CustomerPiiRead.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Button, Card, DatePicker, Empty, List, Select, Space, Table, Tag, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { QueryState } from "../../components/PageState";
import { useI18n, type Translate } from "../../i18n";
import type { MessageKey } from "../../i18n/en";
import { EVENT_KINDS, wealthCalendar, type CalendarItem, type EventKind } from "../../services/calendar";
import { CustomerDrawerSlot } from "../customers/drawer/CustomerDrawerSlot";

const KIND_COLOR: Record<string, string> = {
  ipo_opens: "blue", ipo_closes: "orange", ipo_listing: "geekblue", corporate_action: "green", maturity: "purple",
};

export function KindTag({ kind }: { kind: string }) {
  const { t } = useI18n();
  return <Tag color={KIND_COLOR[kind]}>{t(`calendar.kind.${kind}` as MessageKey)}</Tag>;
}

/** "2.4 HKD", "1000 shares", or nothing: what an event is worth saying about its amount. */
export function amountOf(x: CalendarItem, t: Translate): string {
  if (x.amount) return `${x.amount}${x.currency ? ` ${x.currency}` : ""}`;
  if (x.quantity) return t("calendar.shares", { n: x.quantity });
  return "";
}

export default function WealthCalendarPage() {
  const { t } = useI18n();
  const [params, setParams] = useSearchParams();
  const [range, setRange] = useState<[Dayjs, Dayjs]>([dayjs().startOf("day"), dayjs().startOf("day").add(30, "day")]);
  const [kinds, setKinds] = useState<EventKind[]>([]);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const query = { from: range[0].format("YYYY-MM-DD"), to: range[1].format("YYYY-MM-DD"), kind: kinds, cursor };
  const cal = useQuery({
    queryKey: ["wealth-calendar", query],
    queryFn: ({ signal }) => wealthCalendar(query, signal),
    placeholderData: keepPreviousData,
  });
  const restart = () => setCursors([null]);
  const open = (id: string) => { const next = new URLSearchParams(params); next.set("customer", id); setParams(next); };
  return (
    <Space direction="vertical" style={{ width: "100%" }} size="large">
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("calendar.title")}</Typography.Title>
      <Space wrap>
        <DatePicker.RangePicker allowClear={false} value={range} data-testid="calendar-range"
          onChange={(v) => { if (v && v[0] && v[1]) { setRange([v[0], v[1]]); restart(); } }} />
        <Select<EventKind[]> mode="multiple" allowClear style={{ minWidth: 280 }} placeholder={t("calendar.allKinds")}
          aria-label={t("calendar.kinds")} data-testid="calendar-kinds" value={kinds}
          options={EVENT_KINDS.map((k) => ({ value: k, label: t(`calendar.kind.${k}` as MessageKey) }))}
          onChange={(v) => { setKinds(v); restart(); }} />
      </Space>
      <QueryState query={cal}>
        {(page) => (
          <>
            {cursor === null && page.brokerage.length > 0 && (
              <Card size="small" title={t("calendar.brokerage")} data-testid="calendar-brokerage">
                <List size="small" dataSource={page.brokerage} renderItem={(x) => (
                  <List.Item><Space><Typography.Text strong>{x.date}</Typography.Text><KindTag kind={x.kind} />
                    <span>{x.title}</span></Space></List.Item>)} />
              </Card>
            )}
            <Table<CalendarItem> size="small" rowKey={(x) => `${x.customer_id}:${x.event_key}`} pagination={false}
              data-testid="calendar-table" dataSource={page.items}
              locale={{ emptyText: <Empty description={t("calendar.none")} /> }}
              columns={[
                { title: t("calendar.date"), dataIndex: "date", width: 120 },
                { title: t("calendar.kind"), dataIndex: "kind", width: 170, render: (v: string) => <KindTag kind={v} /> },
                { title: t("calendar.customerId"), dataIndex: "customer_id", width: 160,
                  render: (v: string) => <Button type="link" size="small" onClick={() => open(v)}>{v}</Button> },
                { title: t("field.name"), dataIndex: "name", width: 160 },
                { title: t("calendar.event"), dataIndex: "title" },
                { title: t("calendar.amount"), key: "amount", width: 150, render: (_: unknown, x) => amountOf(x, t) },
              ]} />
            <Space>
              <Button disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>{t("common.previous")}</Button>
              <Button disabled={!page.next_cursor} data-testid="calendar-next"
                onClick={() => page.next_cursor && setCursors([...cursors, page.next_cursor])}>{t("common.next")}</Button>
            </Space>
          </>
        )}
      </QueryState>
      <CustomerDrawerSlot />
    </Space>
  );
}
