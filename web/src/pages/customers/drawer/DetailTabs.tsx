// The drawer's tabs over the 360° detail (one GET /customers/{id}, current or as of a past time).
import { Button, Descriptions, Empty, Table, Tag, Timeline, Typography } from "antd";
import dayjs from "dayjs";
import { useI18n } from "../../../i18n";
import type { CustomerDetail, Move } from "../../../services/models";
import { Masked } from "../CustomerTable";
import { AdaTrend } from "./AdaTrend";

const when = (v: string | null | undefined) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : "—");
const money = (v: string | null | undefined, ccy?: string | null) =>
  v == null ? "—" : `${Number(v).toLocaleString(undefined, { maximumFractionDigits: 2 })}${ccy ? ` ${ccy}` : ""}`;
const totals = (m: Record<string, string> | null) =>
  m && Object.keys(m).length ? Object.entries(m).map(([ccy, v]) => money(v, ccy)).join(" · ") : "—";

export function BasicTab({ d }: { d: CustomerDetail }) {
  const { t, label } = useI18n();
  const b = d.basic;
  const id = d.identity;
  return (
    <>
      <Descriptions size="small" bordered column={2} data-testid="drawer-basic">
        <Descriptions.Item label={t("field.name")}><Masked value={b.name} /></Descriptions.Item>
        <Descriptions.Item label={t("field.phone")}>{b.phone_number ? <>{b.phone_dialing_code ? `+${b.phone_dialing_code.replace(/^\+/, "")} ` : ""}<Masked value={b.phone_number} /></> : "—"}</Descriptions.Item>
        <Descriptions.Item label={t("field.email")}><Masked value={b.email} /></Descriptions.Item>
        <Descriptions.Item label={t("field.registeredAt")}>{when(b.registered_at)}</Descriptions.Item>
        <Descriptions.Item label={t("field.channel")}>{label("channel", b.channel)}</Descriptions.Item>
        <Descriptions.Item label={t("field.campaign")}>{b.campaign ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("field.referralCode")}>{b.referral_code ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("field.language")}>{b.language ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("field.residence")}>{b.residence_country ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("field.ipCountry")}>{b.registration_ip_country ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("field.userRegion")}>{b.user_region ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("field.activeRegion")}>{b.active_region ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("field.verification")}>{label("verification", b.verification_status)}</Descriptions.Item>
        <Descriptions.Item label={t("field.tags")}>{b.tags.length ? b.tags.map((x) => <Tag key={x}>{x}</Tag>) : "—"}</Descriptions.Item>
        <Descriptions.Item label={t("drawer.risk")}>
          <span data-testid="drawer-risk">{d.risk ? <>{label("risk", d.risk.rating)} <Typography.Text type="secondary">{t("drawer.riskValid", { at: when(d.risk.assessed_at), until: when(d.risk.valid_until) })}</Typography.Text></> : t("drawer.riskNone")}</span>
        </Descriptions.Item>
      </Descriptions>
      <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("field.idType")}</Typography.Title>
      <Descriptions size="small" bordered column={2}>
        <Descriptions.Item label={t("field.idType")}>{id.id_type ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("field.idCountry")}>{id.id_issuing_country ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("field.idNumber")}><Masked value={id.id_number} /></Descriptions.Item>
        <Descriptions.Item label={t("field.legalName")}><Masked value={id.legal_name} /></Descriptions.Item>
        <Descriptions.Item label={t("field.dob")}><Masked value={id.date_of_birth} /></Descriptions.Item>
      </Descriptions>
    </>
  );
}

export function OpeningTab({ d }: { d: CustomerDetail }) {
  const { t, label } = useI18n();
  const ao = d.account_opening;
  return (
    <>
      <Descriptions size="small" bordered column={2}>
        <Descriptions.Item label={t("field.stage")}>{label("stage", d.lifecycle.stage)}</Descriptions.Item>
        <Descriptions.Item label={t("field.accountStatus")}>{label("account", ao.status)}</Descriptions.Item>
      </Descriptions>
      <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("field.applications")}</Typography.Title>
      <Table size="small" rowKey="application_id" pagination={false} dataSource={ao.applications} locale={{ emptyText: t("state.empty") }}
        columns={[
          { title: t("field.applicationId"), dataIndex: "application_id" },
          { title: t("field.accountType"), dataIndex: "account_type" },
          { title: t("field.submittedAt"), dataIndex: "submitted_at", render: when },
          { title: t("field.documents"), dataIndex: "documents" },
          { title: t("field.rejectedAt"), dataIndex: "rejected_at", render: when },
          { title: t("field.reason"), dataIndex: "reason" },
        ]} />
      <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("field.accounts")}</Typography.Title>
      <Table size="small" rowKey="account_id" pagination={false} dataSource={ao.accounts} locale={{ emptyText: t("state.empty") }}
        columns={[
          { title: t("field.accountId"), dataIndex: "account_id" },
          { title: t("field.accountType"), dataIndex: "account_type" },
          { title: t("field.openedAt"), dataIndex: "opened_at", render: when },
          { title: t("field.closedAt"), dataIndex: "closed_at", render: when },
        ]} />
      <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("field.stage")}</Typography.Title>
      <Timeline items={d.lifecycle.timeline.map((x) => ({ children: `${label("stage", x.stage)} · ${when(x.entered_at)}` }))} />
    </>
  );
}

export function ReferralTab({ d, onOpen }: { d: CustomerDetail; onOpen: (id: string) => void }) {
  const { t } = useI18n();
  const r = d.referral;
  return (
    <>
      <Descriptions size="small" bordered column={1}>
        <Descriptions.Item label={t("field.referrer")}>
          {r.referrer_customer_id ? <Button type="link" style={{ padding: 0 }} onClick={() => onOpen(r.referrer_customer_id!)}>{r.referrer_customer_id}</Button> : "—"}
        </Descriptions.Item>
        <Descriptions.Item label={t("field.referralCode")}>{r.referral_code ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("field.linkedAt")}>{when(r.linked_at)}</Descriptions.Item>
      </Descriptions>
      <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("field.referees")} ({r.referees.length})</Typography.Title>
      {r.referees.length === 0 ? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("state.empty")} /> : (
        <ul style={{ paddingInlineStart: 20 }}>
          {r.referees.map((x) => <li key={x}><Button type="link" style={{ padding: 0 }} onClick={() => onOpen(x)}>{x}</Button></li>)}
        </ul>
      )}
    </>
  );
}

export function AssetsTab({ d }: { d: CustomerDetail }) {
  const { t } = useI18n();
  const a = d.assets;
  return (
    <>
      <Descriptions size="small" bordered column={2}>
        <Descriptions.Item label={t("field.totalAssets")}>{money(a.total_assets, a.currency)}</Descriptions.Item>
        <Descriptions.Item label={t("field.asOf")}>{when(a.as_of)}</Descriptions.Item>
        <Descriptions.Item label={t("field.depositsTotal")}>{totals(a.deposits_total)}</Descriptions.Item>
        <Descriptions.Item label={t("field.withdrawalsTotal")}>{totals(a.withdrawals_total)}</Descriptions.Item>
      </Descriptions>
      {d.as_of == null && (
        <>
          <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("ada.title")}</Typography.Title>
          <AdaTrend customerId={d.customer_id} ada={a.ada} />
        </>
      )}
      <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("field.accounts")}</Typography.Title>
      <Table size="small" rowKey="account_id" pagination={false} dataSource={a.accounts} locale={{ emptyText: t("state.empty") }}
        columns={[
          { title: t("field.accountId"), dataIndex: "account_id" },
          { title: t("field.totalAssets"), key: "ta", align: "right", render: (_, r) => money(r.total_assets, r.currency) },
          { title: t("field.cash"), key: "cash", align: "right", render: (_, r) => money(r.cash, r.currency) },
          { title: t("field.asOf"), dataIndex: "as_of", render: when },
        ]} />
      <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("field.positions")}</Typography.Title>
      <Table size="small" rowKey={(r) => `${r.account_id}-${String(r.symbol)}`} pagination={false} dataSource={a.positions} locale={{ emptyText: t("state.empty") }}
        columns={[
          { title: t("field.accountId"), dataIndex: "account_id" },
          { title: t("field.symbol"), dataIndex: "symbol" },
          { title: t("field.quantity"), dataIndex: "quantity", align: "right" },
          { title: t("field.marketValue"), key: "mv", align: "right", render: (_, r) => money(r.market_value as string | undefined, r.currency as string | undefined) },
        ]} />
      <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("field.trades")} ({d.trading.trades_count})</Typography.Title>
      <Table size="small" rowKey={(r, i) => String(r.trade_id ?? i)} pagination={false} dataSource={d.trading.recent_trades} locale={{ emptyText: t("state.empty") }}
        columns={[
          { title: t("field.symbol"), dataIndex: "symbol" },
          { title: t("field.side"), dataIndex: "side" },
          { title: t("field.quantity"), dataIndex: "quantity", align: "right" },
          { title: t("field.price"), dataIndex: "price", align: "right" },
          { title: t("field.at"), dataIndex: "at", render: (v: string) => when(v ?? null) },
        ]} />
    </>
  );
}

function MovesTable({ rows }: { rows: Move[] }) {
  const { t } = useI18n();
  return (
    <Table size="small" rowKey="transaction_id" pagination={false} dataSource={rows} locale={{ emptyText: t("state.empty") }}
      columns={[
        { title: t("field.transaction"), dataIndex: "transaction_id" },
        { title: t("field.amount"), key: "amount", align: "right", render: (_, r) => money(r.amount, r.currency) },
        { title: t("field.method"), dataIndex: "method" },
        { title: t("field.accountId"), dataIndex: "account_id" },
        { title: t("field.at"), dataIndex: "at", render: when },
      ]} />
  );
}

export function MovesTab({ d }: { d: CustomerDetail }) {
  const { t } = useI18n();
  return (
    <>
      <Typography.Title level={3} style={{ fontSize: 14 }}>{t("field.deposits")} · {totals(d.assets.deposits_total)}</Typography.Title>
      <MovesTable rows={d.funding.recent_deposits} />
      <Typography.Title level={3} style={{ fontSize: 14, marginTop: 16 }}>{t("field.withdrawals")} · {totals(d.assets.withdrawals_total)}</Typography.Title>
      <MovesTable rows={d.funding.recent_withdrawals} />
    </>
  );
}
