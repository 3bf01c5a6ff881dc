"""`api.deps.fetch_all` and `fetch_rows` on real PostgreSQL, through the customer service's read engine: the same rows with and
without `plan_once` (the 360's lookups run on their generic plans, prepared on the connection), and the
reader's own setting (`plan_cache_mode=force_custom_plan`, which the list filters need) back on the connection
afterwards — also when a statement of the round trip fails. One round trip: the statements go in one pipeline.
`fetch_rows` gives the rows SQLAlchemy's own execution gives, for a shape with IN lists too (expanded for each
call's values from the one compiled shape) and for one whose parameter a type processes (sent through the
session)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table, TypeDecorator, bindparam, func, select, text

from services.customer.api import deps
from services.customer.api.deps import built_once, fetch_all, fetch_rows
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


class _Upper(TypeDecorator):
    """A type that processes its bound values (upper-cases them)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else value.upper()


def test_fetch_rows_same_rows_as_the_session_in_lists_and_processed_parameters(pg_database):
    c = bootstrap(CustomerSettings(database_url=pg_database("fetchrows")))
    try:
        with c.engine.begin() as conn:
            conn.execute(text("INSERT INTO customer_remark (remark_id, customer_id, text, author, created_at) "
                              "VALUES ('r1', 'c1', 'b', 'm1', now()), ('r2', 'c1', 'a', 'm2', now()), "
                              "('r3', 'c2', 'C', 'm3', now())"))
        rm = c.tables.remark
        upper = Table("customer_remark", MetaData(), Column("remark_id", String), Column("text", _Upper))

        def by_authors(*authors):
            return select(rm.c.remark_id, rm.c.text).where(rm.c.author.in_(authors)).order_by(rm.c.remark_id)

        with c.read_sessions() as s:
            def session_rows(stmt):
                return [dict(r._mapping) for r in s.execute(stmt)]

            for authors in (("m1",), ("m1", "m3"), ("m2", "m3", "m9"), ("m1", "m1", "m2")):
                assert fetch_rows(s, by_authors(*authors)) == session_rows(by_authors(*authors)), authors
            assert [r["remark_id"] for r in fetch_rows(s, by_authors("m1", "m3"))] == ["r1", "r3"]
            shape, _ = deps._compiled(by_authors("m1", "m2"), s.connection().dialect)
            assert shape.expanding and shape.plain
            assert deps._compiled(by_authors("m7"), s.connection().dialect)[0] is shape  # one shape for all lists

            plain = select(rm.c.remark_id).where(rm.c.customer_id == "c1").order_by(rm.c.remark_id)
            assert fetch_rows(s, plain) == [{"remark_id": "r1"}, {"remark_id": "r2"}] == session_rows(plain)

            processed = select(upper.c.remark_id).where(upper.c.text == "c")  # bound as 'C'
            assert not deps._compiled(processed, s.connection().dialect)[0].plain
            assert fetch_rows(s, processed) == [{"remark_id": "r3"}] == session_rows(processed)
    finally:
        c.engine.dispose()
