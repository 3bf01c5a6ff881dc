"""`shared.runtime.async_reader.AsyncReader` on real PostgreSQL, and the customer list's reads through it
(`api.deps.fetch_rows_async`): the rows the sync path gives; connections reused, bounded, retired; a dropped
connection retried once on a new one; a failed or cancelled statement's connection never reused; a database
that is away is an OperationalError (answered 503); a closed reader refuses."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from services.customer.api.deps import fetch_rows, fetch_rows_async
from services.customer.bootstrap import READ_OPTIONS, bootstrap
from services.customer.settings import CustomerSettings
from shared.runtime.api import unavailable
from shared.runtime.async_reader import AsyncReader, conninfo_of


def _reader(url: str, **kw) -> AsyncReader:
    return AsyncReader(conninfo_of(make_url(url)), options=READ_OPTIONS, **kw)


async def _backend(reader: AsyncReader) -> int:
    return (await reader.fetch("SELECT pg_backend_pid()"))[1][0][0]


async def test_rows_reuse_bound_and_session_settings(pg_database):
    reader = _reader(pg_database("areader"), size=2)
    try:
        names, rows = await reader.fetch("SELECT %(a)s::int AS a, current_setting('plan_cache_mode') AS mode, "
                                         "current_setting('TimeZone') AS tz", {"a": 7})
        assert names == ["a", "mode", "tz"] and rows == [(7, "force_custom_plan", "UTC")]
        assert await reader.fetch("SELECT 1 AS one", names=["known"]) == (["known"], [(1,)])  # not read again
        first = await _backend(reader)
        assert await _backend(reader) == first and reader.idle == 1  # one connection, reused
        # five at once on a reader of two: two connections, the others wait for one
        pids = await asyncio.gather(*(reader.fetch("SELECT pg_backend_pid(), pg_sleep(0.1)") for _ in range(5)))
        assert len({r[1][0][0] for r in pids}) == 2 and reader.idle == 2
    finally:
        reader.close()
    assert reader.idle == 0
    with pytest.raises(psycopg.InterfaceError):
        await reader.fetch("SELECT 1")


async def test_a_dropped_connection_is_retried_once_and_a_failed_one_not_reused(pg_database, pg_server_url):
    url = pg_database("areader_drop")
    reader = _reader(url)
    try:
        pid = await _backend(reader)
        with psycopg.connect(pg_server_url, autocommit=True) as admin:  # a restart / failover, as seen by a pool
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await asyncio.sleep(0.2)
        again = await _backend(reader)  # the dead connection dropped, the read run again on a new one
        assert again != pid and reader.idle == 1 and reader.retried == 1

        with pytest.raises(psycopg.errors.DivisionByZero):
            await reader.fetch("SELECT 1 / 0")
        assert reader.idle == 0 and reader.retried == 1  # the failed statement's connection is not kept
        assert await _backend(reader) not in (pid, again)

        task = asyncio.create_task(reader.fetch("SELECT pg_sleep(5)"))
        await asyncio.sleep(0.3)
        task.cancel()  # the caller went away mid-query: that connection is closed, not handed to the next
        with pytest.raises(asyncio.CancelledError):
            await task
        names, rows = await reader.fetch("SELECT 2 AS two")
        assert rows == [(2,)]
    finally:
        reader.close()


async def test_connections_are_retired_after_recycle_s(pg_database):
    reader = _reader(pg_database("areader_recycle"), recycle_s=0.0)
    try:
        first = await _backend(reader)
        await asyncio.sleep(0.01)
        assert await _backend(reader) != first
    finally:
        reader.close()


async def test_a_database_that_is_away_is_unavailable():
    reader = AsyncReader("postgresql://postgres@127.0.0.1:1/none", connect_timeout_s=2)
    with pytest.raises(psycopg.OperationalError) as err:
        await reader.fetch("SELECT 1")
    assert unavailable(err.value)  # the API answers 503 with Retry-After


async def test_customer_list_reads_through_the_async_reader_give_the_sync_rows(pg_database):
    c = bootstrap(CustomerSettings(database_url=pg_database("areader_customer")))
    try:
        assert c.async_reader is not None
        with c.engine.begin() as conn:
            conn.execute(text("INSERT INTO customer_remark (remark_id, customer_id, text, author, created_at) "
                              "VALUES ('r1', 'c1', 'b', 'm1', '2026-01-02T03:04:05+00'), "
                              "('r2', 'c1', 'a', 'm2', now()), ('r3', 'c2', 'C', 'm3', now())"))
        rm = c.tables.remark
        stmts = [select(rm).order_by(rm.c.remark_id),
                 select(rm.c.remark_id).where(rm.c.author.in_(["m1", "m3"])).order_by(rm.c.remark_id),
                 select(rm.c.remark_id).where(rm.c.customer_id == "nobody")]
        for stmt in stmts:
            with c.read_sessions() as s:
                sync = fetch_rows(s, stmt)
            assert await fetch_rows_async(c, stmt) == sync
        assert [r["remark_id"] for r in await fetch_rows_async(c, stmts[1])] == ["r1", "r3"]
        assert c.async_reader.idle == 1
    finally:
        await c.stop()
    assert c.async_reader.idle == 0


async def test_sqlite_has_no_async_reader_and_reads_in_a_thread(sqlite_url):
    c = bootstrap(CustomerSettings(database_url=sqlite_url("areader")))
    try:
        assert c.async_reader is None
        rm = c.tables.remark
        assert await fetch_rows_async(c, select(rm.c.remark_id)) == []
    finally:
        await c.stop()
