"""Daily asset series (`python -m bench --only asset_series`): what 1,000,000 customers × 365 days take on
PostgreSQL, and what one day of snapshots costs the fold.

1. Size: N funded customers (5,000; 1,000 with --quick), 1–2 accounts each, a snapshot per account on every
   weekday of 365 days (the platform's end of day; weekends carried forward) whose value moves on 90% of them.
   The rows are made by the service's own functions (`domain/daily.py`: an account row per snapshot day, a
   customer change point per day its total changes), loaded with COPY, indexed (primary keys), VACUUM
   ANALYZE; then rows and `pg_total_relation_size` per table (heap + indexes + TOAST), per funded customer,
   extrapolated linearly to 1,000,000 funded customers × 365 days and to the list benchmark's book (20% of
   1,000,000 customers funded: no snapshots, no rows, for the others).
2. Fold: the next day's snapshots of K of them (2,000; 500 with --quick) through `apply_snapshots` in one
   transaction (the SQL the events' transaction runs): wall and CPU time of this process per snapshot.

`python -m bench.bench_asset_series --plans N` instead seeds the list benchmark's N customers (with ADA and
dates of birth) and prints the query plans of the list's ADA and age filters (a focused check: the 1,000,000
run is the customer benchmark's).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from services.customer.bootstrap import bootstrap
from services.customer.domain.daily import AccountDay, change_points
from services.customer.projections.asset_series import apply_snapshots
from services.customer.settings import CustomerSettings
from shared.runtime.settings import AuthSettings

AUTH = AuthSettings(jwt_secret="bench-secret-bench-secret-bench-secret")
FIRST_DAY = date(2025, 1, 1)
DAYS = 365
MOVES = 0.9
BOOK_FUNDED = 0.20  # funded + traded share of the list benchmark's stage mix
TABLES = ("customer_account_asset_day", "customer_asset_day")  # customer_asset_account: 1–2 rows per customer


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _series(cid: str, rnd: random.Random) -> tuple[list[AccountDay], list[Any]]:
    accounts = [f"{cid}-A{k}" for k in range(rnd.choice((1, 1, 2)))]
    values = {a: Decimal(rnd.randint(1_000, 2_000_000)) for a in accounts}
    rows = []
    for d in range(DAYS):
        day = FIRST_DAY + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        at = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
        for a in accounts:
            if rnd.random() < MOVES:
                values[a] = (values[a] * Decimal(rnd.randint(970, 1030)) / 1000).quantize(Decimal("0.01"))
            rows.append(AccountDay(a, day, "USD", values[a], at, f"{rnd.getrandbits(128):032x}"))
    return rows, change_points({}, None, rows, FIRST_DAY)


def seed(url: str, n: int) -> dict[str, int]:
    rnd = random.Random(365)
    counts = dict.fromkeys(TABLES, 0)
    accounts: set[tuple[str, str]] = set()
    pg = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(pg, autocommit=True) as conn:  # keys built after the load
        for table in TABLES:
            conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{table}_pkey"')
    # one connection per COPY: a connection runs one COPY at a time
    with psycopg.connect(pg) as ca, psycopg.connect(pg) as cc:
        with ca.cursor() as a_cur, a_cur.copy(
                "COPY customer_account_asset_day (customer_id, account_id, day, currency, total, as_of, fact_id) "
                "FROM STDIN") as acp, cc.cursor() as c_cur, c_cur.copy(
                "COPY customer_asset_day (customer_id, day, currency, total, cum) FROM STDIN") as ccp:
            for i in range(n):
                cid = f"C{i:07d}"
                rows, points = _series(cid, rnd)
                for r in rows:
                    acp.write_row((cid, r.account_id, r.day, r.currency, r.total, r.as_of, r.fact_id))
                for p in points:
                    ccp.write_row((cid, p.day, p.currency, p.total, p.cum))
                counts[TABLES[0]] += len(rows)
                counts[TABLES[1]] += len(points)
                accounts.update((cid, r.account_id) for r in rows)
    with psycopg.connect(pg) as conn, conn.cursor() as cur, cur.copy(
            "COPY customer_asset_account (customer_id, account_id) FROM STDIN") as cp:
        for pair in sorted(accounts):
            cp.write_row(pair)
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("ALTER TABLE customer_account_asset_day ADD PRIMARY KEY (customer_id, account_id, day)")
        conn.execute("ALTER TABLE customer_asset_day ADD PRIMARY KEY (customer_id, day)")
    with psycopg.connect(pg, autocommit=True) as conn:
        for table in TABLES:
            conn.execute(f'VACUUM ANALYZE "{table}"')
    return counts


def sizes(url: str) -> dict[str, dict[str, int]]:
    pg = url.replace("postgresql+psycopg://", "postgresql://")
    out = {}
    with psycopg.connect(pg) as conn:
        for table in TABLES:
            total, heap, index = conn.execute(
                "SELECT pg_total_relation_size(%s), pg_relation_size(%s), pg_indexes_size(%s)",
                (table, table, table)).fetchone()
            rows = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            out[table] = {"rows": rows, "bytes": total, "heap": heap, "indexes": index}
    return out


def fold_next_day(svc: Any, k: int) -> tuple[float, float, int]:
    """One more weekday of snapshots for K customers through the fold: (wall s, CPU s, snapshots)."""
    rnd = random.Random(1)
    day = FIRST_DAY + timedelta(days=DAYS)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    at = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    t = svc.tables
    with svc.engine.begin() as conn:  # the customer rows the ADA update writes to
        conn.execute(t.customer.insert(), [
            {"customer_id": f"C{i:07d}", "registered": True, "sort_registered_at": at, "stage": "funded",
             "stage_rank": 3, "stage_entered_at": {}, "account_status": "opened", "verification_status": "verified",
             "deposits": {}, "withdrawals": {}, "trades_count": 0, "assets_sort": 0, "tags": [],
             "last_activity_at": at} for i in range(k)])
    snaps = [(f"C{i:07d}", AccountDay(f"C{i:07d}-A0", day, "USD", Decimal(rnd.randint(1_000, 2_000_000)), at,
                                      f"{rnd.getrandbits(128):032x}")) for i in range(k)]
    wall, cpu = time.perf_counter(), _cpu()
    with svc.sessions.begin() as s:
        apply_snapshots(s, t, snaps)
    return time.perf_counter() - wall, _cpu() - cpu, len(snaps)


async def main(ctx: Any) -> list[dict]:
    n, k = (1_000, 500) if ctx.quick else (5_000, 2_000)
    url = ctx.pg_database("asset_series")
    svc = bootstrap(CustomerSettings(database_url=url, kafka=ctx.kafka, auth=AUTH))
    load = os.getloadavg()[0]
    started = time.perf_counter()
    counts = seed(url, n)
    seed_s = time.perf_counter() - started
    measured = sizes(url)
    wall, cpu, snaps = fold_next_day(svc, k)
    svc.engine.dispose()
    svc.app.close()
    rows: list[dict] = []
    per = 1_000_000 / n  # the tables grow linearly in customers (each row is one customer's)
    for table in TABLES:
        m = measured[table]
        assert m["rows"] == counts[table]
        rows += [
            {"benchmark": "asset_series", "metric": f"{table}: rows per funded customer-year",
             "value": m["rows"] / n, "unit": "rows",
             "note": f"{m['rows']:,} rows for {n:,} customers × {DAYS} days (weekday snapshots, 1–2 accounts)"},
            {"benchmark": "asset_series", "metric": f"{table}: bytes per row (heap + indexes)",
             "value": m["bytes"] / max(m["rows"], 1), "unit": "B",
             "note": f"pg_total_relation_size {m['bytes']:,} B (heap {m['heap']:,}, indexes {m['indexes']:,})"},
            {"benchmark": "asset_series", "metric": f"{table}: 1,000,000 funded customers × 365 days",
             "value": m["bytes"] * per / 1e9, "unit": "GB",
             "note": f"{m['rows'] * per:,.0f} rows; the list benchmark's book (20% funded): "
                     f"{m['bytes'] * per * BOOK_FUNDED / 1e9:,.1f} GB"},
        ]
    total = sum(m["bytes"] for m in measured.values())
    rows += [
        {"benchmark": "asset_series", "metric": "both tables: 1,000,000 funded customers × 365 days",
         "value": total * per / 1e9, "unit": "GB",
         "note": f"20% funded: {total * per * BOOK_FUNDED / 1e9:,.1f} GB; seeding took {seed_s:.0f} s (set-up)"},
        {"benchmark": "asset_series", "metric": "fold: one day's snapshots, CPU per snapshot",
         "value": cpu / snaps * 1000, "unit": "ms",
         "note": f"{snaps:,} customers in one transaction: {wall:.2f} s wall, {cpu:.2f} s CPU of this process "
                 f"(the database's own CPU not included); load average {load:.1f}"},
    ]
    return rows


def plans(n: int) -> None:
    """The list's ADA and age filters on the list benchmark's N customers: EXPLAIN ANALYZE of each first page."""
    from bench.bench_customer import _compiled, load_customers
    from bench.context import BenchContext
    from services.customer.api.query import ListFilters
    from shared.events.crm_customer import Stage
    from shared.runtime.auth import Perm, Principal, Scope

    ctx = BenchContext(quick=True)
    try:
        url = ctx.pg_database("asset_plans")
        svc = bootstrap(CustomerSettings(database_url=url, kafka=ctx.kafka, auth=AUTH))
        started = time.perf_counter()
        load_customers(url, svc, n)
        sys.stdout.write(f"loaded {n:,} customers in {time.perf_counter() - started:.0f} s; "
                         f"load average {os.getloadavg()[0]:.1f}\n")
        admin = Principal("a", scope=Scope.all, permissions=frozenset({Perm.CustomerPiiRead.value}))
        manager = Principal("m007", scope=Scope.own, permissions=frozenset({Perm.CustomerPiiRead.value}))
        today = datetime.now(UTC).date()
        cases = [
            ("ADA 10k–20k + age 30–50, by registration", ListFilters(ada30_min=Decimal(10000), ada30_max=Decimal(20000),
                                                                     age_min=30, age_max=50, today=today),
             admin, "registered_at"),
            ("ADA ≥ 40,000, by registration", ListFilters(ada30_min=Decimal(40000)), admin, "registered_at"),
            ("age 60–70, by registration", ListFilters(age_min=60, age_max=70, today=today), admin, "registered_at"),
            ("stage=traded by ADA", ListFilters(stage=[Stage.traded]), admin, "ada30"),
            ("ADA ≥ 10,000 by ADA", ListFilters(ada30_min=Decimal(10000)), admin, "ada30"),
            ("manager's own by ADA", ListFilters(), manager, "ada30"),
        ]
        pg = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(pg) as conn:
            for label, f, who, sort in cases:
                sql, args = _compiled(svc, f, who, None, sort)
                conn.execute(sql, args).fetchall()  # warm
                plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, args).fetchall()
                sys.stdout.write(f"\n== {label}\n" + "\n".join(r[0] for r in plan) + "\n")
        svc.engine.dispose()
        svc.app.close()
    finally:
        ctx.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plans", type=int, default=200_000, help="customers to seed for the plan check")
    plans(parser.parse_args().plans)
