// The service history of the drawer's one call (GET /customers/{id}/360): KYC status and completion, tickets,
// campaign touches and requests on the user's behalf, as the customer service folds them from the tasks, KYC,
// campaigns and User CRM events.
import { Descriptions, Empty, List, Progress, Space, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useI18n } from "../../../i18n";
import type { MessageKey } from "../../../i18n/en";
import type { Customer360 } from "../../../services/customers";

const when = (v: unknown) => (v ? dayjs(String(v)).format("YYYY-MM-DD HH:mm") : "—");
type Item = Record<string, unknown>;

export function ServiceTab({ h }: { h: Customer360 }) {
  const { t } = useI18n();
  const k = h.kyc;
  const section = (title: string, items: Item[], render: (x: Item) => React.ReactNode, testid: string) => (
    <>
      <Typography.Title level={5}>{title}</Typography.Title>
      {items.length === 0 ? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("drawer.service.none")} />
        : <List size="small" data-testid={testid} dataSource={items} renderItem={(x) => <List.Item>{render(x)}</List.Item>} />}
    </>
  );
  return (
    <>
      <Descriptions size="small" column={1} title={t("drawer.service.kyc")} data-testid="drawer-kyc">
        {k.status ? (
          <>
            <Descriptions.Item label={t("drawer.service.kyc")}>
              <Space><Tag color={k.status === "approved" ? "green" : k.status === "rejected" ? "red" : "gold"} data-testid="drawer-kyc-status">{t(`kyc.${k.status}` as MessageKey)}</Tag>
                {k.high_risk && <Tag color="red">{t("drawer.service.highRisk")}</Tag>}
                <Typography.Text type="secondary">{when(k.updated_at)}</Typography.Text></Space>
            </Descriptions.Item>
            <Descriptions.Item label={t("drawer.service.completion")}>
              <Progress percent={k.completion_pct ?? 0} size="small" style={{ width: 200 }} data-testid="drawer-kyc-completion" />
            </Descriptions.Item>
          </>
        ) : <Descriptions.Item label={t("drawer.service.kyc")}>{t("drawer.service.kycNone")}</Descriptions.Item>}
      </Descriptions>
      {section(t("drawer.service.tickets", { n: h.tickets.count }), h.tickets.items, (x) => (
        <Space wrap data-testid={`drawer-ticket-${String(x.ticket_id)}`}>
          <Typography.Text strong>{String(x.ticket_id)}</Typography.Text>
          {!!x.category && <span>{t(`tickets.category.${String(x.category)}` as MessageKey)}</span>}
          {!!x.priority && <Tag>{t(`tickets.priority.${String(x.priority)}` as MessageKey)}</Tag>}
          {!!x.status && <Tag color="blue">{t(`tickets.status.${String(x.status)}` as MessageKey)}</Tag>}
          <Typography.Text type="secondary">{when(x.last_at)}</Typography.Text>
        </Space>
      ), "drawer-tickets")}
      {section(t("drawer.service.campaigns", { n: h.campaign_touches.count }), h.campaign_touches.items, (x) => (
        <Space wrap>
          <Typography.Text strong>{String(x.campaign_name ?? x.campaign_id)}</Typography.Text>
          {((x.channels as string[]) ?? []).map((c) => <Tag key={c}>{c}</Tag>)}
          <Typography.Text type="secondary">{when(x.requested_at)} · {t("drawer.service.due", { at: when(x.due_at) })}</Typography.Text>
        </Space>
      ), "drawer-campaigns")}
      {section(t("drawer.service.requests", { n: h.requests.count }), h.requests.items, (x) => (
        <Space wrap>
          <Typography.Text strong>{t(`usercrm.action.${String(x.action)}` as MessageKey)}</Typography.Text>
          <Tag>{String(x.state)}</Tag>
          <Typography.Text type="secondary">{when(x.last_at)}</Typography.Text>
        </Space>
      ), "drawer-requests")}
    </>
  );
}
