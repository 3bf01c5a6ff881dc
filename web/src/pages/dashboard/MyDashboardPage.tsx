// My Dashboard (seed 000 "My Dashboard", seed 002 我的看板): the lifecycle cards of my customers (TMT
// registration, pending account opening, pending funding, funded, traded) → that stage's customers → the
// customer drawer. State in the URL: ?stage=&mine=&cursor=&customer=.
import { useSearchPatch } from "../../hooks/useSearchPatch";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Card, Col, Row, Space, Statistic, Switch, Typography } from "antd";
import { useAuth } from "../../auth/AuthProvider";
import { Pager } from "../../components/Pager";
import { ProblemAlert } from "../../components/PageState";
import { useCursorPager } from "../../hooks/useCursorPager";
import { useI18n } from "../../i18n";
import { listCustomers, stageCounts } from "../../services/customers";
import { STAGES, type Stage } from "../../services/models";
import { CustomerTable } from "../customers/CustomerTable";
import { CustomerDrawerSlot } from "../customers/drawer/CustomerDrawerSlot";
import { DEFAULT_FILTERS, toListQuery, type SortKey } from "../customers/filters";

export default function MyDashboardPage() {
  const { t, label } = useI18n();
  const { session } = useAuth();
  const [params, set] = useSearchPatch();
  const pager = useCursorPager();
  const me = session?.claims.sub ?? "";
  // a manager's scope is their own customers; a team lead or head can narrow to the ones assigned to them
  const wide = session?.claims.scope !== "own";
  const mine = wide && params.get("mine") !== "0";
  const stageParam = params.get("stage") as Stage | null;
  const stage: Stage = stageParam && STAGES.includes(stageParam) ? stageParam : "pending_account_opening";
  const sort = (params.get("sort") as SortKey | null) ?? "registered_at";
  const order = params.get("order") === "asc" ? "asc" : "desc";
  const filters = { ...DEFAULT_FILTERS, stage: [stage], sort, order, limit: Number(params.get("limit")) || 20,
    ...(mine ? { manager_id: me } : {}) } as typeof DEFAULT_FILTERS;
  const counts = useQuery({
    queryKey: ["dashboard", "counts", mine ? me : null],
    queryFn: ({ signal }) => stageCounts(mine ? { manager_id: me } : {}, signal),
  });
  const query = toListQuery(filters, pager.cursor);
  const list = useQuery({ queryKey: ["customers", "list", query], queryFn: ({ signal }) => listCustomers(query, signal), placeholderData: keepPreviousData });
  const open = (id: string) => set({ customer: id }, { keepCursor: true });

  return (
    <>
      <Space style={{ width: "100%", justifyContent: "space-between" }} align="baseline">
        <Typography.Title level={1} style={{ fontSize: 24 }}>{t("dashboard.title")}</Typography.Title>
        {wide && (
          <Space>
            <Switch id="dash-mine" checked={mine} onChange={(v) => set({ mine: v ? null : "0" })} />
            <label htmlFor="dash-mine">{t("dashboard.onlyMine")}</label>
          </Space>
        )}
      </Space>
      {counts.isError && <ProblemAlert error={counts.error} onRetry={() => void counts.refetch()} />}
      <Row gutter={12} style={{ marginBottom: 16 }} role="list" aria-label={t("dashboard.cards")}>
        {STAGES.map((s) => {
          const active = s === stage;
          return (
            <Col key={s} flex="1 1 0" role="listitem">
              <Card size="small" hoverable tabIndex={0} role="button" aria-pressed={active} data-testid={`lifecycle-card-${s}`}
                style={{ height: "100%", ...(active ? { borderColor: "#1456c8", boxShadow: "0 0 0 1px #1456c8" } : {}) }}
                onClick={() => set({ stage: s })}
                onKeyDown={(e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); set({ stage: s }); } }}>
                <Statistic title={label("stage", s)} value={counts.data?.counts[s] ?? 0} loading={counts.isPending} />
              </Card>
            </Col>
          );
        })}
      </Row>
      <Typography.Title level={2} style={{ fontSize: 18 }}>{t("dashboard.customersIn", { stage: label("stage", stage) })}</Typography.Title>
      {list.isError ? <ProblemAlert error={list.error} onRetry={() => void list.refetch()} /> : (
        <CustomerTable items={list.data?.items ?? []} loading={list.isPending || (list.isFetching && list.isPlaceholderData)}
          selected={[]} onSelect={() => undefined} onOpen={open} filters={filters}
          onSort={(s, o) => set({ sort: s, order: o })} />
      )}
      <Pager pager={pager} nextCursor={list.data?.next_cursor ?? null} limit={filters.limit} onLimit={(n) => set({ limit: String(n) })} />
      <CustomerDrawerSlot />
    </>
  );
}
