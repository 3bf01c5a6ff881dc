"""The drawer's one call, `GET /customers/{id}/360` (`python -m bench --only customer360`).

Set-up (PostgreSQL): the customer read model with n customers (1,000,000; 20,000 with --quick;
`WHALE_BENCH_360_N` overrides) loaded by COPY as the customer benchmark does; the service-history tables
with 8 rows per customer (2 follow-ups, 2 ticket changes, 2 KYC changes, 1 message request, 1 campaign
touch) by COPY, indexes built after the load; and, for a sample of customers (1,000), the real facts
(registration → application → account → deposit → trade) folded through the service's consumer into the
event store, which the profile part of the call reads (the aggregate, as `GET /customers/{id}` does).

Measured on the sample, in-process ASGI (auth, scope check, aggregate load, section queries, folding, JSON):
p50/p99 of the 360 beside `GET /customers/{id}` (the detail alone, what the drawer called first before)
and beside the raw SQL of the 360's section queries run with psycopg in the same run (the baseline). Besides the wall times: the CPU time per call of this process (in-process ASGI:
the API and the client) and of the PostgreSQL backends serving it (from /proc, when the server is local).

`WHALE_BENCH_360_DB=NAME` keeps the seeded database (NAME_<n>) after the run and reuses it next time (seeding
1,000,000 customers takes minutes); without it the database is made and dropped per run.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from datetime import timedelta
from typing import Any

import httpx
import psycopg
from sqlalchemy import text

from services.customer.bootstrap import bootstrap
from services.customer.consumers import UpstreamHandler
from services.customer.settings import CustomerSettings
from shared.events import registry
from shared.runtime.auth import mint_token

from .bench_customer import AUTH, T0, index_and_analyze, journey, load_customers
from .stats import percentile

SAMPLE = 1_000
TARGET_P99_MS = 20.0  # issue 18: the drawer's one call p99 at 1,000,000 customers
KEEP_ENV = "WHALE_BENCH_360_DB"
SECTION_SQL = [
    "SELECT * FROM customer_follow_up WHERE customer_id = '{c}'",
    "SELECT * FROM customer_ticket_event WHERE customer_id = '{c}'",
    "SELECT * FROM customer_kyc_event WHERE customer_id = '{c}'",
    "SELECT * FROM customer_request_event WHERE customer_id = '{c}'",
    "SELECT * FROM customer_remark WHERE customer_id = '{c}'",
    "SELECT * FROM customer_campaign_touch WHERE customer_id = '{c}'",
]


def load_activity(url: str, svc: Any, n: int) -> int:
    """COPY 8 history rows per customer (indexes dropped first, rebuilt after); returns the rows written."""
    a = svc.tables.activity
    indexes = [ix for t in a.all() for ix in t.indexes]
    with svc.engine.begin() as conn:
        for ix in indexes:
            conn.execute(text(f'DROP INDEX IF EXISTS "{ix.name}"'))
    pg = url.replace("postgresql+psycopg://", "postgresql://")
    rows = 0
    with psycopg.connect(pg) as conn:
        with conn.cursor() as cur:
            with cur.copy("COPY customer_follow_up (follow_up_id, customer_id, manager_id, contact_methods, tags, "
                          "remarks, recorded_at, event_id) FROM STDIN") as cp:
                for i in range(n):
                    for k in range(2):
                        cp.write_row((f"F{i}-{k}", f"C{i:07d}", f"m{i % 500:03d}", '["phone"]', '["warm"]',
                                      "called back" if k else None, T0 + timedelta(days=k), f"ef{i}-{k}"))
            with cur.copy("COPY customer_ticket_event (event_id, customer_id, ticket_id, change, category, priority, "
                          "status, actor_id, at) FROM STDIN") as cp:
                for i in range(n):
                    cp.write_row((f"et{i}-0", f"C{i:07d}", f"K{i}", "opened", "account_security", "normal", "open",
                                  "s-1", T0))
                    cp.write_row((f"et{i}-1", f"C{i:07d}", f"K{i}", "status_changed", None, None, "resolved",
                                  "s-1", T0 + timedelta(days=1)))
            with cur.copy("COPY customer_kyc_event (event_id, customer_id, case_id, application_id, kind, state, "
                          "completion_pct, high_risk, at) FROM STDIN") as cp:
                for i in range(n):
                    cp.write_row((f"ek{i}-0", f"C{i:07d}", f"KC{i}", f"ap{i}", "state", "pending", 40, False, T0))
                    cp.write_row((f"ek{i}-1", f"C{i:07d}", f"KC{i}", f"ap{i}", "decision", "approved", 100, False,
                                  T0 + timedelta(days=1)))
            with cur.copy("COPY customer_request_event (event_id, customer_id, request_id, action, state, at) "
                          "FROM STDIN") as cp:
                for i in range(n):
                    cp.write_row((f"er{i}", f"C{i:07d}", f"R{i}", "send_message", "completed", T0))
            with cur.copy("COPY customer_campaign_touch (event_id, customer_id, campaign_id, follow_up_id, "
                          "manager_id, channels, requested_at, due_at) FROM STDIN") as cp:
                for i in range(n):
                    cp.write_row((f"ec{i}", f"C{i:07d}", f"cp{i % 20}", f"CF{i}", f"m{i % 500:03d}", '["phone"]', T0,
                                  T0 + timedelta(days=30)))
            for k in range(20):
                cur.execute("INSERT INTO customer_campaign_name (campaign_id, name, at, event_id) "
                            "VALUES (%s, %s, %s, %s)", (f"cp{k}", f"Campaign {k}", T0, f"en{k}"))
            rows = 8 * n + 20
        conn.commit()
    index_and_analyze(svc.engine, pg, indexes, [t.name for t in a.all()])
    return rows


def fold_sample(svc: Any, ids: list[str]) -> None:
    """The real facts of the sampled customers through the consumer's handler into the event store."""
    handler = UpstreamHandler(svc.app, "bench", ["bench"], svc.cache)
    offset = 0
    for start in range(0, len(ids), 100):
        events = []
        for cid in ids[start:start + 100]:
            i = int(cid[1:])
            for p in journey(i):
                payload = p.model_copy(update={"customer_id": cid})
                events.append(registry.decode(registry.envelope(payload, producer="bench").model_dump(mode="json")))
        offset += len(events)
        handler.apply("bench", 0, events, offset)


def _seeded(url: str, n: int) -> bool:
    """The kept database holds a finished seed of n customers (the marker is written last)."""
    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            row = conn.execute("SELECT n FROM bench_360_seeded").fetchone()
    except psycopg.Error:
        return False
    return row is not None and int(row[0]) == n


def _mark_seeded(url: str, n: int) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_360_seeded (n bigint NOT NULL)")
        conn.execute("DELETE FROM bench_360_seeded")
        conn.execute("INSERT INTO bench_360_seeded (n) VALUES (%s)", (n,))


def _backend_cpu_s(pg: str, db: str) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each PostgreSQL backend connected to `db`, read from
    /proc (empty when the server is not on this machine)."""
    with psycopg.connect(pg, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                                           "AND pid <> pg_backend_pid()", (db,))]
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


async def _time(http: httpx.AsyncClient, paths: list[str], headers: dict) -> tuple[list[float], float]:
    """Each call's wall time (ms) and the CPU time of this process over the timed calls (s)."""
    for p in paths[:20]:
        (await http.get(p, headers=headers)).raise_for_status()
    out = []
    cpu = time.process_time()
    for p in paths:
        t = time.perf_counter()
        r = await http.get(p, headers=headers)
        out.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{p} answered {r.status_code}: {r.text[:200]}")
    return out, time.process_time() - cpu


def _raw_sections(pg: str, ids: list[str]) -> list[float]:
    """The 360's section queries for each customer on one connection: the summed time per customer (ms)."""
    out = []
    with psycopg.connect(pg, autocommit=True) as conn:
        for c in ids:
            t = time.perf_counter()
            for q in SECTION_SQL:
                conn.execute(q.format(c=c)).fetchall()
            out.append((time.perf_counter() - t) * 1000)
    return out


async def main(ctx: Any) -> list[dict]:
    n = int(os.environ.get("WHALE_BENCH_360_N") or (20_000 if ctx.quick else 1_000_000))
    kept = os.environ.get(KEEP_ENV, "").strip()
    if kept:
        url, reused = ctx.kept_database(f"{kept}_{n}", lambda u: _seeded(u, n))
    else:
        url, reused = ctx.pg_database("cust_360"), False
    svc = bootstrap(CustomerSettings(database_url=url, kafka=ctx.kafka, auth=AUTH))
    ids = sorted(random.Random(3).sample([f"C{i:07d}" for i in range(n)], min(SAMPLE, n)))
    t0 = time.perf_counter()
    history_rows = 8 * n + 20
    if not reused:
        await asyncio.to_thread(load_customers, url, svc, n)
        history_rows = await asyncio.to_thread(load_activity, url, svc, n)
        await asyncio.to_thread(fold_sample, svc, ids)
        if kept:
            await asyncio.to_thread(_mark_seeded, url, n)
    seed_s = time.perf_counter() - t0
    headers = {"Authorization": f"Bearer {mint_token(AUTH, user_id='bench-admin', role='admin')}"}
    order = random.Random(5).sample(ids, len(ids))
    pg = url.replace("postgresql+psycopg://", "postgresql://")
    server, db = pg.rsplit("/", 1)[0] + "/postgres", pg.rsplit("/", 1)[1].split("?")[0]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.api), base_url="http://b") as http:
        await _time(http, [f"/customers/{c}/360" for c in order[:50]], headers)  # the pool's connections open
        before = await asyncio.to_thread(_backend_cpu_s, server, db)
        one, one_cpu = await _time(http, [f"/customers/{c}/360" for c in order], headers)
        after = await asyncio.to_thread(_backend_cpu_s, server, db)
        detail, detail_cpu = await _time(http, [f"/customers/{c}" for c in order], headers)
    pg_cpu = sum(v - before.get(pid, 0.0) for pid, v in after.items())
    raw = await asyncio.to_thread(_raw_sections, pg, order)
    await svc.stop()
    load = os.getloadavg()
    seeded = f"reused the kept database {kept}_{n}" if reused else f"seeded in {seed_s:.0f} s"
    note = (f"{n:,} customers in the read model, {history_rows:,} history rows, {len(ids):,} sampled customers "
            f"with their facts in the event store; {seeded}; load average {load[0]:.1f} {load[1]:.1f}")
    p99 = percentile(one, 0.99)
    per = 1000 / len(order)
    pg_note = (f"PostgreSQL backends' CPU {pg_cpu * per:.2f} ms per call" if after
               else "PostgreSQL backends' CPU: not measured (server not local)")
    return [
        {"benchmark": "customer360", "metric": "GET /customers/{id}/360 p50", "value": percentile(one, 0.5),
         "unit": "ms", "note": f"detail alone p50 {percentile(detail, 0.5):.2f} ms"},
        {"benchmark": "customer360", "metric": "GET /customers/{id}/360 p99", "value": p99,
         "unit": "ms", "note": f"TARGET p99 <= {TARGET_P99_MS:.0f} ms: {'MET' if p99 <= TARGET_P99_MS else 'NOT MET'}"
                              f" ({p99:.2f} ms); detail alone p99 {percentile(detail, 0.99):.2f} ms; "
                              f"raw SQL baseline p99 {percentile(raw, 0.99):.2f} ms; {note}"},
        {"benchmark": "customer360", "metric": "GET /customers/{id}/360 CPU per call (API process)",
         "value": one_cpu * per, "unit": "ms",
         "note": f"process_time over {len(order):,} calls; detail alone {detail_cpu * per:.2f} ms; {pg_note}"},
        {"benchmark": "customer360", "metric": "360 section queries, raw SQL p50 (sum of 6)",
         "value": percentile(raw, 0.5), "unit": "ms", "note": "psycopg, one connection, the same customers"},
        {"benchmark": "customer360", "metric": "360 section queries, raw SQL p99 (sum of 6)",
         "value": percentile(raw, 0.99), "unit": "ms", "note": "psycopg, one connection, the same customers"},
    ]
