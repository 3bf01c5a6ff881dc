// The drawer's Calendar / Holdings tab: what each account holds (the platform's latest positions snapshot) and
// the customer's wealth calendar for the next 30 days, from the drawer's one call (the 360's `wealth` section).
import { Empty, List, Space, Table, Typography } from "antd";
import dayjs from "dayjs";
import { useI18n } from "../../../i18n";
import type { CalendarItem } from "../../../services/calendar";
import type { Customer360 } from "../../../services/customers";
import { amountOf, KindTag } from "../../calendar/WealthCalendarPage";

interface Holding { account_id: string; security: string; quantity: string; as_of: string }

export function WealthTab({ h }: { h: Customer360 }) {
  const { t } = useI18n();
  const holdings = h.wealth.holdings as unknown as Holding[];
  const upcoming = h.wealth.upcoming as unknown as CalendarItem[];
  return (
    <>
      <Typography.Title level={5}>{t("calendar.holdings")}</Typography.Title>
      <Table<Holding> size="small" pagination={false} data-testid="drawer-holdings" dataSource={holdings}
        rowKey={(x) => `${x.account_id}:${x.security}`}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("calendar.noHoldings")} /> }}
        columns={[
          { title: t("calendar.security"), dataIndex: "security" },
          { title: t("calendar.quantity"), dataIndex: "quantity" },
          { title: t("calendar.account"), dataIndex: "account_id" },
          { title: t("calendar.asOf"), dataIndex: "as_of", render: (v: string) => dayjs(v).format("YYYY-MM-DD HH:mm") },
        ]} />
      <Typography.Title level={5}>{t("calendar.upcoming")}</Typography.Title>
      {upcoming.length === 0 ? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("calendar.none")} />
        : <List size="small" data-testid="drawer-upcoming" dataSource={upcoming} renderItem={(x) => (
          <List.Item><Space wrap><Typography.Text strong>{x.date}</Typography.Text><KindTag kind={x.kind} />
            <span>{x.title}</span><Typography.Text type="secondary">{amountOf(x, t)}</Typography.Text></Space></List.Item>)} />}
    </>
  );
}
