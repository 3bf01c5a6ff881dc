// Customer List (seed 000 "Customer List: Full Customer Pool", seed 002 客户池): filters in the URL, search,
// sort, keyset paging, multi-select actions, the customer drawer (?customer=ID).
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { Card, Col, Row, Space, Statistic, Typography } from "antd";
import { memo, useEffect, useState } from "react";
import { useSearchParams } from "react-router";
import { ProblemAlert } from "../../components/PageState";
import { useCursorPager } from "../../hooks/useCursorPager";
import { useLatest } from "../../hooks/useLatest";
import { useI18n } from "../../i18n";
import { STAGES, type Stage } from "../../services/models";
import { BulkActions } from "./BulkActions";
import { CustomerDrawerSlot } from "./drawer/CustomerDrawerSlot";
import { CustomerFiltersBar } from "./CustomerFiltersBar";
import { SegmentsBar } from "./SegmentsBar";
import { CustomerTable } from "./CustomerTable";
import { toListQuery, type CustomerFilters, type SortKey } from "./filters";
import { countsFilter, customerListQuery, stageCountsQuery } from "./listQueries";
import { Pager } from "../../components/Pager";
import { useCustomerFilters } from "./useCustomerFilters";

export default function CustomerListPage() {
  const { t, lang } = useI18n();
  const [filters, setFilters] = useCustomerFilters();
  const pager = useCursorPager();
  const [params, setParams] = useSearchParams();
  const [selected, setSelected] = useState<string[]>([]);
  const [followUntil, setFollowUntil] = useState(0);
  const query = toListQuery(filters, pager.cursor);
  // after an assignment, follow the list for a while: the move arrives through the event stream
  const following = followUntil > Date.now();
  const list = useQuery({
    ...customerListQuery(query),
    placeholderData: keepPreviousData,
    refetchInterval: following ? 1000 : false,
  });
  const counts = useQuery({ ...stageCountsQuery(countsFilter(filters)), refetchInterval: following ? 2000 : false });
  // the next page is asked for as soon as this one is on screen: Next then renders from the cache
  const qc = useQueryClient();
  // (a cursor belongs to the filters of the page that answered it, so it alone keys the effect)
  const nextCursor = list.isPlaceholderData ? null : list.data?.next_cursor;
  const nextQuery = useLatest(() => ({ ...query, cursor: nextCursor ?? undefined }));
  useEffect(() => {
    if (nextCursor) void qc.prefetchQuery(customerListQuery(nextQuery()));
  }, [qc, nextCursor, nextQuery]);

  const openCustomer = useLatest((id: string) => {
    const p = new URLSearchParams(params);
    p.set("customer", id);
    p.delete("as_of");
    setParams(p, { state: null });
  });
  const toggleStage = useLatest((stage: Stage) =>
    setFilters({ ...filters, stage: filters.stage.length === 1 && filters.stage[0] === stage ? [] : [stage] }));
  const onFilters = useLatest((f: CustomerFilters) => { setSelected([]); setFilters(f); });
  const clearSelection = useLatest(() => setSelected([]));
  const followAssignments = useLatest(() => setFollowUntil(Date.now() + 15_000));
  const onSort = useLatest((sort: SortKey, order: "asc" | "desc") => setFilters({ ...filters, sort, order }));

  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>{t("customers.title")}</Typography.Title>
      <StageCards filters={filters} counts={counts.data?.counts} pending={counts.isPending} onToggle={toggleStage} />
      <CustomerFiltersBar filters={filters} onChange={onFilters} />
      <SegmentsBar filters={filters} selected={selected} onChange={onFilters} />
      <Space style={{ marginBottom: 12, width: "100%", justifyContent: "space-between" }} wrap>
        <BulkActions
          selected={selected}
          filters={filters}
          total={counts.data?.total}
          onDone={clearSelection}
          onAssigned={followAssignments}
        />
        {counts.data && <Typography.Text type="secondary" data-testid="customers-total">{t("customers.total", { total: counts.data.total.toLocaleString(lang) })}</Typography.Text>}
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
          onSort={onSort}
        />
      )}
      <Pager pager={pager} nextCursor={list.data?.next_cursor ?? null} limit={filters.limit}
        onLimit={(limit) => setFilters({ ...filters, limit })} />
      <CustomerDrawerSlot />
    </>
  );
}

const StageCards = memo(function StageCards({ filters, counts, pending, onToggle }: {
  filters: CustomerFilters;
  counts: Record<string, number> | undefined;
  pending: boolean;
  onToggle: (stage: Stage) => void;
}) {
  const { t, label } = useI18n();
  return (
    <Row gutter={12} style={{ marginBottom: 16 }} role="list" aria-label={t("customers.stage")}>
      {STAGES.map((s) => {
        const active = filters.stage.length === 1 && filters.stage[0] === s;
        return (
          <Col key={s} flex="1 1 0" role="listitem">
            <Card size="small" hoverable className="stat-card" tabIndex={0} role="button" aria-pressed={active}
              data-testid={`stage-card-${s}`}
              style={{ height: "100%", ...(active ? { borderColor: "#1456c8", boxShadow: "0 0 0 1px #1456c8" } : {}) }}
              onClick={() => onToggle(s)}
              onKeyDown={(e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); onToggle(s); } }}>
              <Statistic title={label("stage", s)} value={counts?.[s] ?? (pending ? "…" : 0)} />
            </Card>
          </Col>
        );
      })}
    </Row>
  );
});
