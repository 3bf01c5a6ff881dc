"""The customer list filtered by ADA band and by age (`python -m bench --only customer_filters`), issue #18's
target: p99 through the API within 2 ms of the same SQL's p99 run raw, at 1,000,000 customers.

Set-up: the customer benchmark's read model (`load_customers`: COPY, indexes built after the load, one
`index_and_analyze`), 1,000,000 customers (20,000 with --quick; `WHALE_BENCH_FILTERS_N` overrides), with their
30-day ADA and dates of birth. `WHALE_BENCH_FILTERS_DB=<name>` keeps the loaded database (`<name>_<n>_v<data version>`) and
reuses it on the next run (its customer indexes are brought to the service's declared set first).

Each case: first pages (50 rows, newest first) through the API in-process — the service's ASGI app called
directly, as a server would (auth, filter parsing with the configured bands, scope, keyset query, masking, JSON;
no HTTP client library in the timing) — beside the raw SQL: the very statement and parameters the API sent to
the driver, captured from psycopg (its sync or async cursor) during a call, run with psycopg on a connection
with the API reader's session settings. The two are interleaved, one API call and one raw run per round
(`time_pair`), so that both meet the same moments of the shared machine. Also per call: the statements the API
sends, the CPU time of this process in the API's calls (for raw, the psycopg client's) and of the PostgreSQL
backends serving each side (/proc, when the server runs on this machine).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import psycopg
from sqlalchemy import text

from services.customer.bootstrap import READ_OPTIONS, bootstrap
from services.customer.settings import CustomerSettings
from shared.runtime.auth import mint_token

from .bench_console import _loaded
from .bench_customer import AUTH, DATA_VERSION, _pct, load_customers
from .bench_pipeline import cpu_seconds

KEEP_ENV = "WHALE_BENCH_FILTERS_DB"  # a database name prefix: the loaded customers are kept and reused
TARGET_MS = 2.0  # issue #18: API p99 ≤ raw SQL p99 + 2 ms

# query parameters of each case (the API's); the raw statement is the one the API sends for them
CASES: list[tuple[str, dict[str, Any]]] = [
    ("ADA band 10,000–100,000", {"ada_band": ["10000-100000"]}),
    ("ADA band ≥ 1,000,000 (rare)", {"ada_band": ["1000000-"]}),
    ("ADA bands 100,000– (two bands)", {"ada_band": ["100000-1000000", "1000000-"]}),
    ("age 30–50", {"age_min": 30, "age_max": 50}),
    ("age ≥ 80 (rare)", {"age_min": 80}),
    ("ADA band 10,000–100,000 and age 30–50", {"ada_band": ["10000-100000"], "age_min": 30, "age_max": 50}),
    ("ADA 30 days 10,000–20,000 and age 30–50 (min/max)",
     {"ada30_min": "10000", "ada30_max": "20000", "age_min": 30, "age_max": 50}),
]


async def asgi_get(app: Any, path: str, params: dict[str, Any], headers: dict[str, str]) -> tuple[int, bytes]:
    """GET through the ASGI app itself, as a server calls it: (status, body)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": urlencode(params, doseq=True).encode(),
             "headers": [(b"host", b"bench"), *((k.lower().encode(), v.encode()) for k, v in headers.items())],
             "client": ("127.0.0.1", 50000), "server": ("bench", 80)}
    request = [{"type": "http.request", "body": b"", "more_body": False}]
    status, body = 0, []

    async def receive() -> dict[str, Any]:
        if request:
            return request.pop()
        await asyncio.Event().wait()  # (no disconnect while the answer is written)
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(body)


def _backends(pg: str, database: str) -> list[int]:
    with psycopg.connect(pg, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' "
            "AND pid <> pg_backend_pid()", (database,))]


def _cpu(pids: list[int]) -> float | None:
    """CPU seconds so far of the PostgreSQL backends (None: the server is not on this machine)."""
    try:
        return sum(cpu_seconds(p) for p in pids)
    except OSError:
        return None


async def capture(app: Any, params: dict[str, Any], headers: dict[str, str]) -> tuple[tuple[str, Any], float]:
    """(the statement the API sent to the driver and its parameters, statements per call), after a warm-up."""
    sent: list[tuple[str, Any]] = []
    original, original_async = psycopg.Cursor.execute, psycopg.AsyncCursor.execute

    def spy(cur: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        sent.append((query, params))
        return original(cur, query, params, **kw)

    async def spy_async(cur: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        sent.append((query, params))
        return await original_async(cur, query, params, **kw)

    for _ in range(5):
        status, body = await asgi_get(app, "/customers", params, headers)
        if status != 200:
            raise RuntimeError(f"/customers answered {status}: {body[:200]!r}")
    psycopg.Cursor.execute, psycopg.AsyncCursor.execute = spy, spy_async  # type: ignore[method-assign]
    try:
        for _ in range(3):
            await asgi_get(app, "/customers", params, headers)
    finally:
        psycopg.Cursor.execute, psycopg.AsyncCursor.execute = original, original_async  # type: ignore[method-assign]
    return sent[-1], len(sent) / 3


class Timed:
    """One side's wall seconds per call and CPU seconds of this process in its calls."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu = 0.0

    def cpu_ms(self) -> float:
        return self.cpu * 1000 / len(self.wall)


async def time_pair(app: Any, params: dict[str, Any], headers: dict[str, str], reps: int, pg: str, url: str,
                    database: str, sql: str, args: Any) -> tuple[Timed, Timed, float | None, float | None]:
    """The API's calls and the raw statement's runs interleaved — one of each per round, which goes first
    alternating — so both meet the same moments of a shared machine (run one after the other, a burst of
    another process's work lands on one side only). The raw statement runs on one connection with the API
    reader's session settings (autocommit, planned for its values; psycopg prepares it from the 5th run, as on
    the API's connections). Returns (API, raw, API backends' CPU ms per call, raw backend's CPU ms per run;
    None when the server is not on this machine)."""
    api, raw = Timed(), Timed()
    with psycopg.connect(url, options=READ_OPTIONS, autocommit=True) as conn:
        for _ in range(5):
            conn.execute(sql, args).fetchall()
        raw_pid = conn.info.backend_pid
        api_pids = [p for p in await asyncio.to_thread(_backends, pg, database) if p != raw_pid]

        async def call_api() -> None:
            c0, start = time.process_time(), time.perf_counter()
            status, body = await asgi_get(app, "/customers", params, headers)
            api.wall.append(time.perf_counter() - start)
            api.cpu += time.process_time() - c0
            if status != 200:
                raise RuntimeError(f"/customers answered {status}: {body[:200]!r}")

        def run_raw() -> None:
            c0, start = time.process_time(), time.perf_counter()
            conn.execute(sql, args).fetchall()
            raw.wall.append(time.perf_counter() - start)
            raw.cpu += time.process_time() - c0

        a0, r0 = _cpu(api_pids), _cpu([raw_pid])
        for i in range(reps):
            if i % 2:
                run_raw()
                await call_api()
            else:
                await call_api()
                run_raw()
        a1, r1 = _cpu(api_pids), _cpu([raw_pid])
    api_db = None if a0 is None or a1 is None else (a1 - a0) * 1000 / reps
    raw_db = None if r0 is None or r1 is None else (r1 - r0) * 1000 / reps
    return api, raw, api_db, raw_db


def _sync_indexes(svc: Any) -> None:
    """A kept database: the customer table's indexes as the service declares them now (dropped, created)."""
    declared = {ix.name: ix for ix in svc.tables.customer.indexes}
    with svc.engine.begin() as conn:
        present = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'customer' "
                                        "AND indexname LIKE 'ix\\_%'")).scalars())
        for name in present - declared.keys():
            conn.execute(text(f'DROP INDEX "{name}"'))
        for name in declared.keys() - present:
            declared[name].create(conn)
        if present != declared.keys():
            conn.execute(text("ANALYZE customer"))


def _ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


async def main(ctx: Any) -> list[dict]:
    n = int(os.environ.get("WHALE_BENCH_FILTERS_N") or (20_000 if ctx.quick else 1_000_000))
    reps = 60 if ctx.quick else 1000
    kept = os.environ.get(KEEP_ENV, "").strip()
    if kept:
        url, reused = ctx.kept_database(f"{kept}_{n}_v{DATA_VERSION}", lambda u: _loaded(u, n))
    else:
        url, reused = ctx.pg_database("cust_filters"), False
    svc = bootstrap(CustomerSettings(database_url=url, kafka=ctx.kafka, auth=AUTH))
    t_load = time.perf_counter()
    if reused:
        await asyncio.to_thread(_sync_indexes, svc)
    else:
        await asyncio.to_thread(load_customers, url, svc, n)
    load_s = time.perf_counter() - t_load
    headers = {"Authorization": f"Bearer {mint_token(AUTH, user_id='bench-admin', role='admin')}"}
    pg = url.replace("postgresql+psycopg://", "postgresql://")
    database = pg.rsplit("/", 1)[1].split("?")[0]
    server = pg.rsplit("/", 1)[0] + "/postgres"
    rows: list[dict] = []
    started = datetime.now(UTC)
    summary = []
    for label, params in CASES:
        query = {"limit": 50, **params}
        (sql, args), statements = await capture(svc.api, query, headers)
        timed_api, timed_raw, api_db, raw_db = await time_pair(svc.api, query, headers, reps, server, pg, database,
                                                               sql, args)
        api, raw, api_cpu, raw_cpu = timed_api.wall, timed_raw.wall, timed_api.cpu_ms(), timed_raw.cpu_ms()
        gap = _pct(api, 0.99) - _pct(raw, 0.99)
        verdict = "met" if gap <= TARGET_MS else "NOT met"
        summary.append(f"  {label}: API p99 {_pct(api, 0.99):.2f} ms − raw p99 {_pct(raw, 0.99):.2f} ms = "
                       f"{gap:+.2f} ms (target ≤ {TARGET_MS:g}: {verdict})")
        rows += [
            {"metric": f"list p99 API − raw SQL p99: {label}", "value": gap, "unit": "ms",
             "note": f"target ≤ {TARGET_MS:g} ms (issue #18): {verdict}; API p99 {_pct(api, 0.99):.2f} ms, raw SQL p99 "
                     f"{_pct(raw, 0.99):.2f} ms (the API's own statement via psycopg); {n:,} customers"},
            {"metric": f"list p50 API: {label}", "value": _pct(api, 0.5), "unit": "ms",
             "note": f"raw SQL p50 {_pct(raw, 0.5):.2f} ms"},
            {"metric": f"list CPU per call, API process: {label}", "value": api_cpu, "unit": "ms",
             "note": f"raw psycopg client {raw_cpu:.3f} ms; PostgreSQL backend per call: API {_ms(api_db)} ms, "
                     f"raw {_ms(raw_db)} ms; statements per API call {statements:g}"},
        ]
    for r in rows:
        r["benchmark"] = "customer_filters"
    load = os.getloadavg()
    rows.append({"benchmark": "customer_filters", "metric": "COPY load + index build" if not reused else
                 "kept database reused (index check)", "value": load_s, "unit": "s",
                 "note": f"{n:,} customers (set-up, not a target); measured from {started:%H:%M} UTC, load average "
                         f"{load[0]:.1f} / {load[1]:.1f} at the end"})
    sys.stdout.write("customer_filters — issue #18 target: list p99 through the API ≤ raw SQL p99 + 2 ms\n"
                     + "\n".join(summary) + "\n")
    await svc.stop()
    return rows
