import { Empty, Table, Tooltip } from "antd";
import type { ColumnsType, SortOrder, TableRowSelection } from "antd/es/table/interface";
import dayjs from "dayjs";
import { memo, useMemo } from "react";
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

/** A masked value in a table cell: the hint as a native title (50 rows of antd Tooltips cost the page its
 * render budget at 1,000,000 customers: bench/bench_console.py). */
function MaskedCell({ value, none, hint }: { value: string | null | undefined; none: string; hint: string }) {
  if (!value) return <>{none}</>;
  if (!isMasked(value)) return <>{value}</>;
  return <span className="masked" data-masked="true" title={hint} aria-label={`${value} (${hint})`}>{value}</span>;
}

/** The list's rows. Rendering them is most of the time between a page's answer and its rows on screen, so
 * the cells are plain elements styled like antd's (no Button, Tag or Tooltip per row), the columns and the
 * row selection are memoised (a loading flag or a selection does not rebuild 50 rows of cells). */
export const CustomerTable = memo(function CustomerTable({ items, loading, selected, onSelect, onOpen, filters, onSort }: {
  items: CustomerItem[];
  loading: boolean;
  selected: string[];
  onSelect: (ids: string[]) => void;
  onOpen: (id: string) => void;
  filters: CustomerFilters;
  onSort: (sort: SortKey, order: "asc" | "desc") => void;
}) {
  const { t, label } = useI18n();
  const { may } = useAuth();
  const selectable = may("customers.select");
  const { sort, order } = filters;
  // no horizontal scroll, fixed columns or sticky header: antd's hidden measure row would then clone the
  // select-all checkbox into an aria-hidden row (an axe violation); the columns fit from 1280 px instead
  const columns = useMemo<ColumnsType<CustomerItem>>(() => {
    const sortOrder = (key: string): SortOrder | null =>
      COLUMN_SORT[key] === sort ? (order === "asc" ? "ascend" : "descend") : null;
    const none = t("common.none");
    const hint = t("masked.hint");
    return [
    {
      title: t("customers.col.id"), dataIndex: "customer_id", width: 150,
      render: (id: string, r) => (
        <div>
          <button type="button" className="cell-link" onClick={() => onOpen(id)} data-testid={`open-${id}`}>{id}</button>
          <div><MaskedCell value={r.name} none={none} hint={hint} /></div>
        </div>
      ),
    },
    {
      title: `${t("customers.col.phone")} / ${t("customers.col.email")}`, key: "contact", width: 190,
      render: (_, r) => (
        <div style={{ fontSize: 13 }}>
          <div>{r.phone_number ? <>{r.phone_dialing_code ? `+${r.phone_dialing_code.replace(/^\+/, "")} ` : ""}<MaskedCell value={r.phone_number} none={none} hint={hint} /></> : none}</div>
          <div style={{ wordBreak: "break-all" }}><MaskedCell value={r.email} none={none} hint={hint} /></div>
        </div>
      ),
    },
    { title: t("customers.col.stage"), dataIndex: "stage", width: 130, render: (v: string | null) => <span className="cell-tag cell-tag-blue">{label("stage", v)}</span> },
    { title: t("customers.col.region"), key: "region", width: 90, render: (_, r) => `${r.user_region ?? "—"} / ${r.active_region ?? "—"}` },
    { title: t("customers.col.channel"), dataIndex: "channel", width: 110, render: (v: string | null) => label("channel", v) },
    {
      title: t("customers.col.registeredAt"), dataIndex: "registered_at", width: 130, sorter: true, sortOrder: sortOrder("registered_at"),
      render: (v: string | null) => (v ? dayjs(v).format("YYYY-MM-DD HH:mm") : none),
    },
    {
      title: t("customers.col.assets"), dataIndex: "total_assets", width: 120, align: "right", sorter: true, sortOrder: sortOrder("total_assets"),
      render: (v: string | null, r) => {
        const total = v == null ? none : `${AMOUNT.format(Number(v))} ${r.assets_currency ?? ""}`;
        const ada30 = r.ada?.windows.find((w) => w.days === 30)?.ada;
        if (ada30 == null) return total;
        // the 30-day average daily assets under the latest total (the list sorts by it: "sort" in the filters)
        return <div>{total}<div className="cell-secondary" data-testid="ada30">{t("customers.ada30", { v: AMOUNT.format(Number(ada30)) })}</div></div>;
      },
    },
    {
      title: t("customers.col.managers"), key: "managers", width: 150,
      render: (_, r) => r.managers.length === 0
        ? <span className="cell-secondary">{t("assignment.none")}</span>
        : r.managers.map((m) => <span className="cell-tag" key={`${m.manager_id}-${m.stage}`} data-testid="manager-tag">{m.manager_id}{m.stage ? ` · ${label("stage", m.stage)}` : ""}</span>),
    },
    { title: t("customers.col.tags"), dataIndex: "tags", render: (v: string[] | null) => (v ?? []).map((x) => <span className="cell-tag" key={x}>{x}</span>) },
    {
      title: <span className="sr-only">{t("customers.col.actions")}</span>, key: "actions", width: 80,
      render: (_, r) => <button type="button" className="cell-button" onClick={() => onOpen(r.customer_id)} aria-label={`${t("common.details")} ${r.customer_id}`}>{t("common.details")}</button>,
    },
    ];
  }, [t, label, sort, order, onOpen]);
  const rowSelection = useMemo<TableRowSelection<CustomerItem> | undefined>(() => (selectable ? {
    selectedRowKeys: selected,
    onChange: (keys) => onSelect(keys.map(String)),
    preserveSelectedRowKeys: true,
    columnWidth: 48,
    getCheckboxProps: (r) => ({ "aria-label": r.customer_id }) as never,
    // a native checkbox per row (antd's select-all stays in the header)
    renderCell: (checked, r) => (
      <input type="checkbox" className="cell-check" checked={checked} aria-label={r.customer_id}
        onChange={(e) => onSelect(e.target.checked ? [...selected, r.customer_id] : selected.filter((id) => id !== r.customer_id))} />
    ),
  } : undefined), [selectable, selected, onSelect]);
  const empty = useMemo(() => ({ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={<span style={{ color: "rgba(0,0,0,0.65)" }}>{t("customers.empty")}</span>} /> }), [t]);
  return (
    <Table<CustomerItem>
      rowKey="customer_id"
      size="middle"
      columns={columns}
      dataSource={items}
      loading={loading}
      pagination={false}
      locale={empty}
      data-testid="customer-table"
      rowSelection={rowSelection}
      onChange={(_p, _f, sorter) => {
        const s = Array.isArray(sorter) ? sorter[0] : sorter;
        const key = s?.field ? COLUMN_SORT[String(s.field)] : undefined;
        if (key) onSort(key, s.order === "ascend" ? "asc" : "desc");
      }}
    />
  );
});

const AMOUNT = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
