"""The customer list's page statement found by its variable part (`api.deps.compiled_page`) on PostgreSQL: the
rows are those of the whole statement, built and compiled as before, for every filter, sort, cursor and limit;
a second page of the same shape with other values is neither built nor keyed whole (the cache is used); the
API's pages equal the whole statement's rows."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bench.bench_customer import load_customers
from services.customer.api.deps import compiled_page, fetch_page_rows, fetch_rows
from services.customer.api.query import FilterParams, band_config, filter_clauses, page_parts, to_list_filters
from services.customer.bootstrap import bootstrap
from services.customer.settings import CustomerSettings

pytestmark = pytest.mark.asyncio
TODAY = date(2026, 12, 1)


def parts_for(c: Any, query: dict[str, Any], sort: str = "registered_at", order: str = "desc",
              after: tuple[Any, str] | None = None, limit: int = 51) -> Any:
    f = to_list_filters(FilterParams(**query), TODAY, band_config(c.settings))
    return page_parts(c.tables, filter_clauses(c.tables, f, pii=True), sort, order, after, limit, "postgresql")


async def test_pages_found_by_their_variable_part_are_the_whole_statements_rows(pg_database):
    url = pg_database("page_shapes")
    c = bootstrap(CustomerSettings(database_url=url))
    try:
        load_customers(url, c, 3000)
        dialect = c.read_sessions.kw["bind"].dialect
        # (pairs of the same shape: the same filters with other values; an open range is another shape than a
        # closed one, and adjacent bands are one range)
        cases = [({"age_min": 30, "age_max": 50}, {"age_min": 41, "age_max": 79}),
                 ({"ada_band": ["10000-100000"]}, {"ada_band": ["100000-1000000"]}),
                 ({"ada_band": ["100000-1000000", "1000000-"]}, {"ada_band": ["10000-100000", "100000-1000000", "1000000-"]}),
                 ({"ada30_min": "10000", "ada30_max": "20000", "age_min": 30},
                  {"ada30_min": "0", "ada30_max": "900000", "age_min": 18}),
                 ({"stage": ["registered", "funded"]}, {"stage": ["traded", "pending_funding"]}),
                 ({}, {})]
        for first, second in cases:
            for sort, order in (("registered_at", "desc"), ("assets", "asc")):
                a = parts_for(c, first, sort, order)
                shape_a, _, built = compiled_page(a, dialect)
                b = parts_for(c, second, sort, order, limit=17)
                shape_b, _, not_built = compiled_page(b, dialect)
                assert not_built is None and shape_b is shape_a, (first, second, sort)  # found, not built again
                for parts in (a, b):
                    with c.read_sessions() as s:
                        whole = fetch_rows(s, parts.statement())
                    got = (await fetch_page_rows(c, parts)).dicts()
                    assert got == whole, (parts.where, sort, order)
                    assert len(got) <= parts.limit
                # the next page after a cursor: the same shape with the keyset criterion, its own values
                last = whole[-1] if whole else None
                if last is not None:
                    key = "sort_registered_at" if sort == "registered_at" else "assets_sort"
                    nxt = parts_for(c, second, sort, order, after=(last[key], last["customer_id"]), limit=17)
                    with c.read_sessions() as s:
                        assert (await fetch_page_rows(c, nxt)).dicts() == fetch_rows(s, nxt.statement())
        assert len((await fetch_page_rows(c, parts_for(c, {"age_min": 30}))).rows) == 51  # the data has such customers
    finally:
        await c.stop()
