// Customer List (seed 000 "Customer List: Full Customer Pool", seed 002 客户池): filters in the URL, search,
// sort, keyset paging, multi-select actions, the customer drawer (?customer=ID).
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Card, Col, Row, Space, Statistic, Typography } from "antd";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { ProblemAlert } from "../../components/PageState";
import { useCursorPager } from "../../hooks/useCursorPager";
import { useI18n } from "../../i18n";
import { listCustomers, stageCounts } from "../../services/customers";
import { STAGES } from "../../services/models";
import { BulkActions } from "./BulkActions";
import { CustomerDrawer } from "./drawer/CustomerDrawer";
import { CustomerFiltersBar } from "./CustomerFiltersBar";
import { CustomerTable } from "./CustomerTable";
import { toFilterQuery, toListQuery } from "./filters";
import { Pager } from "../../components/Pager";
import { useCustomerFilters } from "./useCustomerFilters";

export default function CustomerListPage() {
  const { t, label } = useI18n();
  const [filters, setFilters] = useCustomerFilters();
  const pager = useCursorPager();
  const [params, setParams] = useSearchParams();
  const [selected, setSelected] = useState<string[]>([]);
  const [followUntil, setFollowUntil] = useState(0);
  const query = toListQuery(filters, pager.cursor);
  // after an assignment, follow the list for a while: the move arrives through the event stream
  const following = followUntil > Date.now();
  const list = useQuery({
    queryKey: ["customers", "list", query],
    queryFn: ({ signal }) => listCustomers(query, signal),
    placeholderData: keepPreviousData,
    refetchInterval: following ? 1000 : false,
  });
  const counts = useQuery({
    queryKey: ["customers", "counts", toFilterQuery({ ...filters, stage: [] })],
    queryFn: ({ signal }) => stageCounts(toFilterQuery({ ...filters, stage: [] }), signal),
    refetchInterval: following ? 2000 : false,
  });

  const openCustomer = (id: string) => {
    const p = new URLSearchParams(params);
    p.set("customer", id);
    p.delete("as_of");
    setParams(p, { state: null });
  };
  const toggleStage = (stage: (typeof STAGES)[number]) =>
    setFilters({ ...filters, stage: filters.stage.length === 1 && filters.stage[0] === stage ? [] : [stage] });

  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("customers.title")}</Typography.Title>
      <Row gutter={12} style={{ marginBottom: 16 }} role="list" aria-label={t("customers.stage")}>
        {STAGES.map((s) => {
          const active = filters.stage.length === 1 && filters.stage[0] === s;
          return (
            <Col key={s} flex="1 1 0" role="listitem">
              <Card size="small" hoverable className="stat-card" tabIndex={0} role="button" aria-pressed={active}
                data-testid={`stage-card-${s}`}
                style={{ height: "100%", ...(active ? { borderColor: "#1456c8", boxShadow: "0 0 0 1px #1456c8" } : {}) }}
                onClick={() => toggleStage(s)}
                onKeyDown={(e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggleStage(s); } }}>
                <Statistic title={label("stage", s)} value={counts.data?.counts[s] ?? (counts.isPending ? "…" : 0)} />
              </Card>
            </Col>
          );
        })}
      </Row>
      <CustomerFiltersBar filters={filters} onChange={(f) => { setSelected([]); setFilters(f); }} />
      <Space style={{ marginBottom: 12, width: "100%", justifyContent: "space-between" }} wrap>
        <BulkActions
          selected={selected}
          filters={filters}
          total={counts.data?.total}
          onDone={() => setSelected([])}
          onAssigned={() => setFollowUntil(Date.now() + 15_000)}
        />
        {counts.data && <Typography.Text type="secondary" data-testid="customers-total">{t("customers.total", { total: counts.data.total })}</Typography.Text>}
      </Space>
      {list.isError ? (
        <ProblemAlert error={list.error} onRetry={() => void list.refetch()} />
      ) : (
        <CustomerTable
          items={list.data?.items ?? []}
          loading={list.isPending || (list.isFetching && list.isPlaceholderData)}
          selected={selected}
          onSelect={setSelected}
          onOpen={openCustomer}
          filters={filters}
          onSort={(sort, order) => setFilters({ ...filters, sort, order })}
        />
      )}
      <Pager pager={pager} nextCursor={list.data?.next_cursor ?? null} limit={filters.limit}
        onLimit={(limit) => setFilters({ ...filters, limit })} />
      <CustomerDrawer />
    </>
  );
}
