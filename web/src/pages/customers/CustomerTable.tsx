import { Button, Empty, Table, Tag, Tooltip, Typography } from "antd";
import type { ColumnsType, SortOrder } from "antd/es/table/interface";
import dayjs from "dayjs";
import { useAuth } from "../../auth/AuthProvider";
import { useI18n } from "../../i18n";
import type { CustomerItem } from "../../services/models";
import type { CustomerFilters, SortKey } from "./filters";

const COLUMN_SORT: Record<string, SortKey> = { registered_at: "registered_at", total_assets: "assets", last_activity_at: "last_activity" };

export function isMasked(value: string | null | undefined): boolean {
  return !!value && value.includes("*");
}

export function Masked({ value }: { value: string | null | undefined }) {
  const { t } = useI18n();
  if (!value) return <>{t("common.none")}</>;
  if (!isMasked(value)) return <>{value}</>;
  return (
    <Tooltip title={t("masked.hint")}>
      <span className="masked" data-masked="true" aria-label={`${value} (${t("masked.hint")})`}>{value}</span>
    </Tooltip>
  );
}

export function CustomerTable({ items, loading, selected, onSelect, onOpen, filters, onSort }: {
  items: CustomerItem[];
  loading: boolean;
  selected: string[];
  onSelect: (ids: string[]) => void;
  onOpen: (id: string) => void;
  filters: CustomerFilters;
  onSort: (sort: SortKey, order: "asc" | "desc") => void;
}) {
  const { t, label } = useI18n();
  const { can } = useAuth();
  const selectable = can("AssignmentManage") || can("CustomerWrite");
  const sortOrder = (key: string): SortOrder | null =>
    COLUMN_SORT[key] === filters.sort ? (filters.order === "asc" ? "ascend" : "descend") : null;
  // no horizontal scroll, fixed columns or sticky header: antd's hidden measure row would then clone the
  // select-all checkbox into an aria-hidden row (an axe violation); the columns fit from 1280 px instead
  const columns: ColumnsType<CustomerItem> = [
    {
      title: t("customers.col.id"), dataIndex: "customer_id", width: 150,
      render: (id: string, r) => (
        <div>
          <Button type="link" style={{ padding: 0, height: "auto" }} onClick={() => onOpen(id)} data-testid={`open-${id}`}>{id}</Button>
          <div><Masked value={r.name} /></div>
        </div>
      ),
    },
    {
      title: `${t("customers.col.phone")} / ${t("customers.col.email")}`, key: "contact", width: 190,
      render: (_, r) => (
        <div style={{ fontSize: 13 }}>
          <div>{r.phone_number ? <>{r.phone_dialing_code ? `+${r.phone_dialing_code.replace(/^\+/, "")} ` : ""}<Masked value={r.phone_number} /></> : t("common.none")}</div>
          <div style={{ wordBreak: "break-all" }}><Masked value={r.email} /></div>
        </div>
      ),
    },
    { title: t("customers.col.stage"), dataIndex: "stage", width: 130, render: (v: string | null) => <Tag color="blue">{label("stage", v)}</Tag> },
    { title: t("customers.col.region"), key: "region", width: 90, render: (_, r) => `${r.user_region ?? "—"} / ${r.active_region ?? "—"}` },
    { title: t("customers.col.channel"), dataIndex: "channel", width: 110, render: (v: string | null) => label("channel", v) },
    {
      title: t("customers.col.registeredAt"), dataIndex: "registered_at", width: 130, sorter: true, sortOrder: sortOrder("registered_at"),
      render: (v: string | null) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : t("common.none")),
    },
    {
      title: t("customers.col.assets"), dataIndex: "total_assets", width: 120, align: "right", sorter: true, sortOrder: sortOrder("total_assets"),
      render: (v: string | null, r) => (v == null ? t("common.none") : `${Number(v).toLocaleString(undefined, { maximumFractionDigits: 2 })} ${r.assets_currency ?? ""}`),
    },
    {
      title: t("customers.col.managers"), key: "managers", width: 150,
      render: (_, r) => r.managers.length === 0
        ? <Typography.Text type="secondary">{t("assignment.none")}</Typography.Text>
        : r.managers.map((m) => <Tag key={`${m.manager_id}-${m.stage}`} data-testid="manager-tag">{m.manager_id}{m.stage ? ` · ${label("stage", m.stage)}` : ""}</Tag>),
    },
    { title: t("customers.col.tags"), dataIndex: "tags", render: (v: string[] | null) => (v ?? []).map((x) => <Tag key={x}>{x}</Tag>) },
    {
      title: <span className="sr-only">{t("customers.col.actions")}</span>, key: "actions", width: 80,
      render: (_, r) => <Button size="small" onClick={() => onOpen(r.customer_id)} aria-label={`${t("common.details")} ${r.customer_id}`}>{t("common.details")}</Button>,
    },
  ];
  return (
    <Table<CustomerItem>
      rowKey="customer_id"
      size="middle"
      columns={columns}
      dataSource={items}
      loading={loading}
      pagination={false}
      locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={<span style={{ color: "rgba(0,0,0,0.65)" }}>{t("customers.empty")}</span>} /> }}
      data-testid="customer-table"
      rowSelection={selectable ? {
        selectedRowKeys: selected,
        onChange: (keys) => onSelect(keys.map(String)),
        preserveSelectedRowKeys: true,
        columnWidth: 48,
        getCheckboxProps: (r) => ({ "aria-label": r.customer_id }) as never,
      } : undefined}
      onChange={(_p, _f, sorter) => {
        const s = Array.isArray(sorter) ? sorter[0] : sorter;
        const key = s?.field ? COLUMN_SORT[String(s.field)] : undefined;
        if (key) onSort(key, s.order === "ascend" ? "asc" : "desc");
      }}
    />
  );
}
