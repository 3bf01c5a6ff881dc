"""`api.deps.fetch_all` on real PostgreSQL, through the customer service's read engine: the same rows with and
without `plan_once` (the 360's lookups run on their generic plans, prepared on the connection), and the
reader's own setting (`plan_cache_mode=force_custom_plan`, which the list filters need) back on the connection
afterwards — also when a statement of the round trip fails. One round trip: the statements go in one pipeline."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, select, text

from services.customer.api.deps import built_once, fetch_all
from services.customer.bootstrap import bootstrap
from services.customer.settings import CustomerSettings


def _statements(t):
    cid = bindparam("customer_id")
    rm = t.remark
    return {"count": select(func.count().label("n")).select_from(rm).where(rm.c.customer_id == cid),
            "remarks": select(rm.c.text).where(rm.c.customer_id == cid).order_by(rm.c.text)}


def test_fetch_all_plan_once_same_rows_and_the_reader_setting_kept(pg_database):
    c = bootstrap(CustomerSettings(database_url=pg_database("fetchall")))
    try:
        with c.engine.begin() as conn:
            conn.execute(text("INSERT INTO customer_remark (remark_id, customer_id, text, author, created_at) "
                              "VALUES ('r1', 'c1', 'b', 'm1', now()), ('r2', 'c1', 'a', 'm1', now())"))
        stmts = built_once(c.tables, "test", _statements)
        assert built_once(c.tables, "test", _statements) is stmts  # built once per tables

        def mode(s):
            return s.execute(text("SHOW plan_cache_mode")).scalar()

        with c.read_sessions() as s:
            before = mode(s)
            plain = fetch_all(s, stmts, {"customer_id": "c1"})
            for _ in range(3):  # prepared on the first, run on the generic plan after
                once = fetch_all(s, stmts, {"customer_id": "c1"}, plan_once=True)
                assert once == plain
                assert mode(s) == before == "force_custom_plan"
            plans = s.execute(text("SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) "
                                   "FROM pg_prepared_statements")).one()
            assert plans[0] >= 4 and plans[1] == 0, plans  # 2 statements x 3 runs: generic plans only
            assert fetch_all(s, stmts, {"customer_id": "c2"}, plan_once=True) == {
                "count": [{"n": 0}], "remarks": []}
        assert plain == {"count": [{"n": 2}], "remarks": [{"text": "a"}, {"text": "b"}]}

        failing = {**stmts, "bad": select(text("1 / 0 AS x"))}
        with c.read_sessions() as s:
            with pytest.raises(Exception, match="division by zero"):
                fetch_all(s, failing, {"customer_id": "c1"}, plan_once=True)
        with c.read_sessions() as s:  # the pool's connection: no transaction left open, the setting back
            assert mode(s) == "force_custom_plan"
            assert fetch_all(s, stmts, {"customer_id": "c1"}, plan_once=True) == plain
    finally:
        c.engine.dispose()
