"""User CRM benchmark (`python -m bench --only usercrm`): the statement and the login log at volume.

- Statement: one customer with 100,000 entries over two accounts (5,000 with --quick) among 200,000 entries
  of 2,000 other customers, COPY-loaded into `uc_statement` with its indexes, ANALYZE; then p50/p99 of
  statement pages through the API (in-process ASGI: JWT, permission, data scope, filters, keyset cursor,
  JSON) for a manager who owns the customer: the first page, a deep keyset page, one account + kinds, a
  time window; each next to the same SQL statement run raw with psycopg.
- Login log: 1,000,000 customers (20,000 with --quick) with two logins each, their owners and customer
  rows; p50/p99 of a customer's login-log page through the API, next to the raw SQL.
- Ingest: 50,000 platform events (5,000 with --quick: logins, deposits, trades, charges, profile updates of
  1,000 customers) through the `whale-usercrm` consumer into PostgreSQL: events/s and process CPU per event,
  beside a raw aiokafka consume of the same records measured the same way.
"""

from __future__ import annotations

import asyncio
import io
import random
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from pydantic import SecretStr
from sqlalchemy.dialects import postgresql

from services.usercrm.api import paging
from services.usercrm.api.info import login_select
from services.usercrm.api.reports import statement_query, statement_select
from services.usercrm.bootstrap import bootstrap
from services.usercrm.settings import UsercrmSettings
from shared.events import registry
from shared.events import upstream as up
from shared.events import upstream_user as uu
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer
from shared.runtime.replay import replay_to_end
from shared.runtime.settings import AuthSettings

from .baseline import consume
from .stats import percentile, raw_query_ms

AUTH = AuthSettings(jwt_secret=SecretStr("bench-secret-bench-secret-bench-secret"))
T0 = datetime(2024, 1, 1, tzinfo=UTC)
KINDS = ("trade", "deposit", "withdrawal", "charge", "allocation")
STATEMENT_COLUMNS = ("entry_id", "customer_id", "account_id", "kind", "at", "amount", "currency", "symbol", "side",
                     "quantity", "price", "reference", "description")
N = "\\N"


def statement_rows(customer_id: str, n: int, seed: int = 7) -> Iterator[str]:
    """COPY lines of `n` statement entries of one customer over two accounts, several per second."""
    rnd = random.Random(seed)
    for i in range(n):
        kind = KINDS[rnd.randrange(5)]
        at = (T0 + timedelta(seconds=i * 300 + rnd.randint(0, 2))).isoformat()  # ties happen: same second
        trade = kind == "trade"
        yield "\t".join((f"{kind}:{customer_id}-{i:07d}", customer_id, f"{customer_id}-A{i % 2}", kind, at,
                         f"{rnd.randint(-99999, 99999)}.25", "USD", "AAPL" if trade else N, "buy" if trade else N,
                         "10" if trade else N, "150.5" if trade else N, f"{customer_id}-{i:07d}",
                         "bench entry")) + "\n"


def copy_lines(url: str, table: str, columns: tuple[str, ...], lines: Iterator[str]) -> None:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            buf = io.StringIO()
            for n, line in enumerate(lines, 1):
                buf.write(line)
                if n % 50_000 == 0:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
        conn.commit()


def load_customers(url: str, ids: list[str], manager: str, team: str) -> None:
    at = T0.isoformat()
    copy_lines(url, "uc_customer", ("customer_id", "registered_at"), (f"{c}\t{at}\n" for c in ids))
    copy_lines(url, "uc_owner", ("customer_id", "manager_id", "team_id", "active", "changed_at", "event_id"),
               (f"{c}\t{manager if i % 500 == 0 else f'M{i % 500}'}\t{team}\tt\t{at}\te{i}\n"
                for i, c in enumerate(ids)))


def load_statement(url: str, customer_id: str, n: int, others: int, per_other: int) -> float:
    """The measured customer's `n` entries plus `others` customers with `per_other` entries each."""
    started = time.perf_counter()
    copy_lines(url, "uc_statement", STATEMENT_COLUMNS, statement_rows(customer_id, n))
    copy_lines(url, "uc_statement", STATEMENT_COLUMNS, (line for o in range(others)
                                                        for line in statement_rows(f"O{o:05d}", per_other, o)))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE uc_statement")
    return time.perf_counter() - started


def load_logins(url: str, customers: int) -> tuple[float, list[str]]:
    started = time.perf_counter()
    ids = [f"U{i:07d}" for i in range(customers)]
    load_customers(url, ids, "M-BENCH", "T-BENCH")
    rnd = random.Random(3)

    def lines() -> Iterator[str]:
        for i, c in enumerate(ids):
            for j in range(2):
                at = (T0 + timedelta(seconds=i * 7 + j * 86400)).isoformat()
                yield f"L{i:07d}-{j}\t{c}\t{at}\t203.0.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}\tHK\tweb\tt\n"

    copy_lines(url, "uc_login", ("login_id", "customer_id", "at", "ip", "country", "source", "success"), lines())
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("uc_login", "uc_customer", "uc_owner"):
            conn.execute(f"ANALYZE {table}")
    return time.perf_counter() - started, ids


def _sql(stmt: Any) -> str:
    return str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


async def _measure(client: httpx.AsyncClient, path: str, params: dict[str, Any], headers: dict[str, str],
                   reps: int) -> list[float]:
    for _ in range(5):  # warm-up (connection pool, plan cache)
        (await client.get(path, params=params, headers=headers)).raise_for_status()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        r = await client.get(path, params=params, headers=headers)
        out.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200 and r.json()["items"], r.text
    return out


def _row(metric: str, api: list[float], raw: list[float], note: str) -> dict[str, Any]:
    return {"benchmark": "usercrm", "metric": metric, "value": round(percentile(api, 0.99), 2), "unit": "ms",
            "note": f"API in-process, p50 {statistics.median(api):.1f} ms; raw SQL p99 {percentile(raw, 0.99):.2f} ms "
                    f"(p50 {statistics.median(raw):.2f}); {note}"}


def platform_event(i: int) -> Any:
    cid, at, kind = f"C{i % 1000:04d}", T0 + timedelta(seconds=i), i % 5
    if kind == 0:
        return uu.LoginRecorded(customer_id=cid, login_id=f"L{i}", at=at, ip="203.0.113.9", source="app")
    if kind == 1:
        return up.DepositCompleted(customer_id=cid, account_id=f"{cid}-A", transaction_id=f"D{i}", amount="100",
                                   currency="USD", completed_at=at)
    if kind == 2:
        return up.TradeExecuted(customer_id=cid, account_id=f"{cid}-A", trade_id=f"T{i}", symbol="AAPL", market="US",
                                side="buy", quantity="1", price="150", currency="USD", executed_at=at)
    if kind == 3:
        return uu.ChargeApplied(customer_id=cid, account_id=f"{cid}-A", charge_id=f"CH{i}", kind="commission",
                                amount="1", currency="USD", charged_at=at)
    return uu.GeneralUpdated(customer_id=cid, updated_at=at, general=uu.GeneralInfo(time_zone="Asia/Hong_Kong"))


async def ingest(ctx: Any, n: int) -> list[dict]:
    kafka = ctx.kafka
    c = bootstrap(UsercrmSettings(database_url=ctx.pg_database("usercrm_ingest"),
                                  kafka=kafka, auth=AUTH))
    await c.ensure_topics()
    producer = EventProducer(kafka, client_id="bench-platform")
    await producer.start()
    try:
        envelopes = [registry.envelope(platform_event(i), producer="bench") for i in range(n)]
        for i in range(0, n, 2000):
            await producer.publish_many(envelopes[i:i + 2000])
    finally:
        await producer.stop()
    names = sorted({producer.topic_for(e) for e in envelopes})
    cpu, wall = time.process_time(), time.perf_counter()
    raw_rate = await consume(kafka.bootstrap_servers, names, n)
    raw_cpu_us = (time.process_time() - cpu) / n * 1e6
    cpu, wall = time.process_time(), time.perf_counter()
    await c.producer.start()
    applied = await replay_to_end(c.info_consumer(), c.info_handler.positions, settings=kafka)
    cpu_us, rate = (time.process_time() - cpu) / n * 1e6, n / (time.perf_counter() - wall)
    await c.stop()
    return [{"benchmark": "usercrm", "metric": "info consumer ingest", "value": round(rate), "unit": "events/s",
             "note": f"{applied:,} events into PostgreSQL, {cpu_us:.0f} us CPU/event (process, incl. group join); "
                     f"raw aiokafka consume of the same records {raw_rate:,.0f}/s, {raw_cpu_us:.0f} us CPU/event; "
                     f"baseline consume {ctx.baseline.get('consume_rate', 0):,.0f} msg/s"}]


async def main(ctx: Any) -> list[dict]:
    n = 5_000 if ctx.quick else 100_000
    others, per_other = (200, 100) if ctx.quick else (2_000, 100)
    customers = 20_000 if ctx.quick else 1_000_000
    reps = 40 if ctx.quick else 300
    ingest_rows = await ingest(ctx, 5_000 if ctx.quick else 50_000)
    url = ctx.pg_database("usercrm")
    container = bootstrap(UsercrmSettings(database_url=url, auth=AUTH))
    load_s = await asyncio.to_thread(load_statement, url, "C-BENCH", n, others, per_other)
    login_s, ids = await asyncio.to_thread(load_logins, url, customers)
    await asyncio.to_thread(load_customers, url, ["C-BENCH"], "M-BENCH", "T-BENCH")
    rows: list[dict] = [
        *ingest_rows,
        {"benchmark": "usercrm", "metric": "statement COPY load + ANALYZE", "value": n + others * per_other,
         "unit": "rows", "note": f"{load_s:.1f}s ({n:,} of the measured customer)"},
        {"benchmark": "usercrm", "metric": "login log COPY load + ANALYZE", "value": customers * 2, "unit": "rows",
         "note": f"{login_s:.1f}s ({customers:,} customers, their owners)"},
    ]
    headers = {"Authorization": f"Bearer {mint_token(AUTH, user_id='M-BENCH', role='manager')}"}
    with psycopg.connect(url) as conn:  # set-up only: a cursor from the middle of the statement
        mid = conn.execute("SELECT at, entry_id FROM uc_statement WHERE customer_id = 'C-BENCH' "
                           "ORDER BY at DESC, entry_id DESC OFFSET %s LIMIT 1", (n // 2,)).fetchone()
    paging.configure(container.settings)  # the API's cursor codec (create_api does it when the API is built)
    deep = paging.encode(mid[0], mid[1])
    window = (T0 + timedelta(seconds=n * 100), T0 + timedelta(seconds=n * 200))
    scenarios = [
        ("first page", {}, (None, None, None, None, None), None),
        ("deep keyset page", {"cursor": deep}, (None, None, None, None, None), (mid[0], mid[1])),
        ("one account, trades+charges", {"account_id": "C-BENCH-A1", "kind": ["trade", "charge"]},
         ("C-BENCH-A1", ["trade", "charge"], None, None, None), None),
        ("time window", {"since": window[0].isoformat(), "until": window[1].isoformat()},
         (None, None, window[0], window[1], None), None),
    ]
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=container.api), base_url="http://uc") as client:
            for name, params, flt, after in scenarios:
                api = await _measure(client, "/usercrm/customers/C-BENCH/statement", {"limit": 100, **params},
                                     headers, reps)
                stmt = statement_select(statement_query("C-BENCH", *flt), after, 101)
                raw = await asyncio.to_thread(raw_query_ms, url, _sql(stmt), reps)
                rows.append(_row(f"statement page p99: {name}", api, raw,
                                 f"{reps} req, 100 rows/page, {n:,} entries of the customer"))
            target = ids[len(ids) // 2 // 500 * 500]  # a customer of M-BENCH
            api = await _measure(client, f"/usercrm/customers/{target}/info/logs", {"limit": 50}, headers, reps)
            raw = await asyncio.to_thread(raw_query_ms, url, _sql(login_select(target, None, None, None, None, 50)), reps)
            rows.append(_row("login log page p99", api, raw, f"{reps} req, {customers:,} customers' login logs"))
    finally:
        await container.stop()
    return rows
