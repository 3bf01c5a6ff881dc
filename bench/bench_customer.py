"""Customer service benchmarks (`python -m bench --only customer`).

1. Ingest: upstream events (registration → application → account opened → deposit → trade, 5 per customer,
   on five upstream topics) applied through the real consumer into the event store and projected into the
   read model (both PostgreSQL), per second, next to a raw aiokafka consume of the same topics in the same
   run. Timed from the consumer's first batch until the projection has applied the last stored event.
2. List: 1,000,000 customers (20,000 with --quick) bulk-loaded with COPY into the read model (10% assigned
   to 500 managers in 50 teams), indexes built after the load, ANALYZE. Then p50/p99 of list pages through
   the API (in-process ASGI: auth, filters, keyset, masking, JSON) next to the very same SQL statement run
   raw with psycopg, in the same run: a filtered first page, a deep keyset page, a manager-scoped page,
   a name-prefix search and the stage counts.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import psycopg
from pydantic import SecretStr
from sqlalchemy import Index, text

from services.customer.api.query import (
    ListFilters,
    SortKey,
    encode_cursor,
    filter_clauses,
    page_query,
    scope_clause,
)
from services.customer.bootstrap import READ_OPTIONS, bootstrap
from services.customer.settings import CustomerSettings
from shared.events import registry, topics
from shared.events.crm_customer import Stage
from shared.events.upstream import (
    AccountApplicationSubmitted,
    AccountOpened,
    CustomerRegistered,
    DepositCompleted,
    TradeExecuted,
)
from shared.runtime.auth import Perm, Principal, Scope, mint_token
from shared.runtime.cursor import codec_for
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.settings import AuthSettings

from .baseline import consume

T0 = datetime(2025, 1, 1, tzinfo=UTC)
AUTH = AuthSettings(jwt_secret=SecretStr("bench-secret-bench-secret-bench-secret"))
INGEST_TOPICS = (topics.REGISTRATION, topics.ACCOUNT, topics.FUNDING, topics.TRADING)


# ------------------------------------------------------------------------------------------- ingest
def journey(i: int) -> list[Any]:
    cid, at = f"ing-{i:07d}", T0 + timedelta(seconds=i)
    doc = {"document_id": "d", "kind": "id_front", "storage_ref": "ref", "uploaded_at": at.isoformat()}
    return [
        CustomerRegistered(customer_id=cid, registered_at=at, channel="organic", name=f"User {i}",
                           phone_dialing_code="+852", phone_number=f"9{i:07d}", email=f"u{i}@example.com"),
        AccountApplicationSubmitted(customer_id=cid, application_id=f"ap{i}", submitted_at=at + timedelta(hours=1),
                                    documents=[doc]),
        AccountOpened(customer_id=cid, account_id=f"ac{i}", opened_at=at + timedelta(hours=2)),
        DepositCompleted(customer_id=cid, account_id=f"ac{i}", transaction_id=f"tx{i}", amount=Decimal("1000.5"),
                         currency="USD", completed_at=at + timedelta(hours=3)),
        TradeExecuted(customer_id=cid, account_id=f"ac{i}", trade_id=f"tr{i}", symbol="0700", market="HK",
                      side="buy", quantity=Decimal("100"), price=Decimal("300.2"), currency="HKD",
                      executed_at=at + timedelta(hours=4)),
    ]


async def raw_consume(kafka: Any, names: list[str], n: int) -> float:
    return await consume(kafka.bootstrap_servers, names, n)


async def bench_ingest(ctx: Any) -> list[dict]:
    customers = 2_000 if ctx.quick else 20_000
    n = customers * 5
    kafka = ctx.kafka
    names = [kafka.topic(t) for t in INGEST_TOPICS]
    await ensure_topics(kafka, [kafka.topic(t) for t in topics.UPSTREAM_TOPICS] + [
        kafka.topic(topics.CRM_ASSIGNMENT), kafka.topic(topics.CRM_CUSTOMER),
        kafka.topic(topics.dead_letter_topic("customer"))])
    producer = EventProducer(kafka, client_id="bench-customer")
    await producer.start()
    try:
        for i in range(0, customers, 1000):
            envs = [registry.envelope(p, producer="bench") for j in range(i, min(i + 1000, customers))
                    for p in journey(j)]
            await producer.publish_many(envs)
    finally:
        await producer.stop()
    raw_rate = await raw_consume(kafka, names, n)

    settings = CustomerSettings(database_url=ctx.pg_database("cust"), kafka=kafka, auth=AUTH, consumer_batch_size=5000, projection_batch_size=5000)
    svc = bootstrap(settings)
    components = await svc.start_worker()
    tasks = [asyncio.create_task(c.run()) for c in components]
    upstream = svc.consumers[0]
    try:
        # the group join: timed from the first applied batch, like raw consume (a counter, no event to wait on)
        while upstream.applied_count == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        start, first = time.perf_counter(), upstream.applied_count
        while True:
            done = await asyncio.to_thread(_ingest_done, svc, n)
            if done:
                break
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - start
        await svc.stop_worker()
        await asyncio.gather(*tasks, return_exceptions=True)
        t_rebuild = time.perf_counter()
        replayed = await asyncio.to_thread(svc.rebuild_read_model)  # the store → the emptied read model
        rebuild_s = time.perf_counter() - t_rebuild
    finally:
        await svc.stop_worker()
        await asyncio.gather(*tasks, return_exceptions=True)
        await svc.stop()
    rate = (n - first) / elapsed
    note = f"{n:,} events / {customers:,} customers; event store + read model on PostgreSQL"
    return [
        {"benchmark": "customer", "metric": "ingest: upstream events → read model", "value": rate,
         "unit": "events/s", "note": note},
        {"benchmark": "customer", "metric": "ingest: raw aiokafka consume, same topics", "value": raw_rate,
         "unit": "msg/s", "note": "same records, same run"},
        {"benchmark": "customer", "metric": "ingest: fraction of raw consume rate", "value": rate / raw_rate,
         "unit": "ratio", "note": "target ≥ 0.1 (issue #13)"},
        {"benchmark": "customer", "metric": "rebuild: stored events → emptied read model", "value": replayed / rebuild_s,
         "unit": "events/s", "note": f"{replayed:,} stored events replayed through the read-model fold in one "
                                     "transaction (python -m services.customer rebuild); target ≥ 20,000"},
    ]


def _ingest_done(svc: Any, n: int) -> bool:
    """Applied and committed: the read-model rows commit with the events (one transaction per batch)."""
    return bool(svc.consumers[0].applied_count >= n)


# --------------------------------------------------------------------------------------------- list
REGIONS = ["HK"] * 30 + ["SG"] * 15 + ["CN"] * 15 + ["US"] * 10 + ["MY"] * 8 + ["GB"] * 6 + ["AU", "JP", "TW",
                                                                                              "CA", "TH", "ID"] * 2
STAGES = [Stage.registered] * 50 + [Stage.pending_account_opening] * 20 + [Stage.pending_funding] * 10 + \
    [Stage.funded] * 12 + [Stage.traded] * 8
CHANNELS = ["organic", "referral", "manager_qr", "external_channel", "campaign"]
FIRST = ["chan", "wong", "lee", "tan", "lim", "ng", "ho", "cheung", "lau", "smith", "garcia", "kumar", "sato"]
LIST_COLUMNS = ["customer_id", "registered", "registered_at", "sort_registered_at", "channel", "name",
                "phone_dialing_code", "phone_number", "email", "search_name", "search_email", "search_phone",
                "residence_country", "user_region", "active_region", "stage", "stage_rank", "stage_changed_at",
                "stage_entered_at", "account_status", "verification_status", "deposits", "withdrawals",
                "trades_count", "total_assets", "assets_sort", "assets_currency", "tags", "last_activity_at",
                "ada_currency", "ada_as_of", "ada30", "date_of_birth"]
ADA_AS_OF = date(2025, 12, 31)


DATA_VERSION = 2  # of the generated customers (2: the ADA's wealthy tail); part of a kept database's name


def _tail(rnd: random.Random) -> int:
    draw = rnd.random()
    return rnd.randint(100, 400) if draw < 0.002 else rnd.randint(10, 50) if draw < 0.022 else 1


def _customer_rows(n: int, rnd: random.Random):  # type: ignore[no-untyped-def]
    more = random.Random(18)  # the columns added later draw from their own generator: the others stay as they were
    status = {Stage.registered: ("none", "unverified"), Stage.pending_account_opening: ("applied", "pending_review"),
              Stage.pending_funding: ("opened", "verified"), Stage.funded: ("opened", "verified"),
              Stage.traded: ("opened", "verified")}
    for i in range(n):
        stage = rnd.choice(STAGES)
        reg = T0 + timedelta(seconds=i * 31 + rnd.randint(0, 30))
        region = rnd.choice(REGIONS)
        name = f"{rnd.choice(FIRST)} {rnd.choice(FIRST)}{i % 997}"
        phone = f"{rnd.randint(50000000, 99999999)}"
        funded = stage in (Stage.funded, Stage.traded)
        assets = Decimal(rnd.randint(100, 5_000_000)) / 100 if funded else None
        acct, ver = status[stage]
        yield (f"C{i:07d}", True, reg, reg, rnd.choice(CHANNELS), name, "+852", phone, f"user{i}@example.com",
               name, f"user{i}@example.com", "852" + phone, region, region,
               region if rnd.random() < 0.8 else rnd.choice(REGIONS), stage.value, list(Stage).index(stage),
               reg + timedelta(days=1), "{}", acct, ver, '{"USD": "1000"}' if funded else "{}", "{}",
               3 if stage == Stage.traded else 0, assets, assets or Decimal(0), "USD" if funded else None, "[]",
               reg + timedelta(days=rnd.randint(0, 60)),
               # ADA: funded customers' 30-day average near their assets, with a wealthy tail (about 2% ×10–50 and
               # 0.2% ×100–400 their assets: ADA up to ~20,000,000, so the high bands hold customers); date of birth
               # once verified (18–85)
               "USD" if funded else None, ADA_AS_OF if funded else None,
               (assets * Decimal(more.randint(50, 150)) / 100 * _tail(more)).quantize(Decimal("0.01")) if assets
               else Decimal(0),
               date(1940, 1, 1) + timedelta(days=more.randint(0, 67 * 365)) if ver == "verified" else None)


def load_customers(url: str, svc: Any, n: int) -> dict[str, int]:
    """COPY n rows (indexes dropped first, rebuilt after), 10% assigned; returns stage counts."""
    rnd = random.Random(7)
    t = svc.tables
    indexes: list[Index] = [*t.customer.indexes, *t.assignment.indexes]
    with svc.engine.begin() as conn:
        for ix in indexes:
            conn.execute(text(f'DROP INDEX IF EXISTS "{ix.name}"'))
    counts: dict[str, int] = {}
    pg = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(pg) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY customer ({', '.join(LIST_COLUMNS)}) FROM STDIN") as cp:
            for row in _customer_rows(n, rnd):
                counts[row[15]] = counts.get(row[15], 0) + 1
                cp.write_row(row)
        with conn.cursor() as cur, cur.copy(
                "COPY customer_assignment (customer_id, manager_id, stage_key, team_id, share, active, reason, "
                "assigned_at, changed_at, event_id) FROM STDIN") as cp:
            for i in range(0, n, 10):
                m = (i // 10) % 500
                cp.write_row((f"C{i:07d}", f"m{m:03d}", "*", f"team{m % 50:02d}", Decimal(1), True, "bench", T0, T0,
                              f"e{i}"))
        with conn.cursor() as cur:
            for stage, k in counts.items():
                cur.execute("INSERT INTO customer_stage_count (stage, n) VALUES (%s, %s)", (stage, k))
        conn.commit()
    index_and_analyze(svc.engine, pg, indexes, ["customer", "customer_assignment"])
    return counts


def index_and_analyze(engine: Any, pg: str, indexes: list[Index], tables: list[str]) -> None:
    """After a bulk COPY: create the indexes left out of it, then VACUUM ANALYZE the tables (fresh statistics,
    as a long-running database would have)."""
    with engine.begin() as conn:
        conn.execute(text("SET maintenance_work_mem = '256MB'"))
        for ix in indexes:
            ix.create(conn)
    with psycopg.connect(pg, autocommit=True) as conn:
        for table in tables:
            conn.execute(f"VACUUM ANALYZE {table}")


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


async def bench_list(ctx: Any) -> list[dict]:
    n = 20_000 if ctx.quick else 1_000_000
    reps = 60 if ctx.quick else 300
    url = ctx.pg_database("cust_list")
    with tempfile.TemporaryDirectory():  # (the event store used to live here; now in `url`)
        settings = CustomerSettings(database_url=url, kafka=ctx.kafka, auth=AUTH)
        svc = bootstrap(settings)
        t_load = time.perf_counter()
        await asyncio.to_thread(load_customers, url, svc, n)
        load_s = time.perf_counter() - t_load
        admin = Principal("bench-admin", scope=Scope.all, permissions=frozenset())
        pii_admin = Principal("bench-admin", scope=Scope.all, permissions=frozenset({Perm.CustomerPiiRead.value}))
        manager = Principal("m007", scope=Scope.own, permissions=frozenset())
        deep = await asyncio.to_thread(_deep_cursor, svc, n)
        cases = [
            ("filtered first page (stage=funded, user_region=HK)", {"stage": "funded", "user_region": "HK"},
             ListFilters(stage=[Stage.funded], user_region=["HK"]), admin, None, "admin"),
            (f"deep keyset page (row {n // 2:,}, no filter)", {"cursor": deep[0]}, ListFilters(), admin, deep[1],
             "admin"),
            ("manager's own customers, first page", {}, ListFilters(), manager, None, "manager"),
            ("name prefix search 'wong lee'", {"q": "wong lee"}, ListFilters(q="wong lee"), admin, None, "admin"),
            ("filtered first page (ADA 30 days 10,000–20,000, age 30–50)",
             {"ada30_min": "10000", "ada30_max": "20000", "age_min": 30, "age_max": 50},
             ListFilters(ada30_min=Decimal(10000), ada30_max=Decimal(20000), age_min=30, age_max=50,
                         today=datetime.now(UTC).date()), pii_admin, None, "admin"),
            ("first page by ADA 30 days (stage=traded, highest first)", {"stage": "traded", "sort": "ada30"},
             ListFilters(stage=[Stage.traded]), admin, None, "admin", "ada30"),
        ]
        tokens = {"admin": mint_token(AUTH, user_id="bench-admin", role="admin"),
                  "manager": mint_token(AUTH, user_id="m007", role="manager", team_id="team07")}
        rows: list[dict] = []
        pg = url.replace("postgresql+psycopg://", "postgresql://")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.api), base_url="http://b") as http:
            for label, params, filters, principal, after, who, *sort in cases:
                headers = {"Authorization": f"Bearer {tokens[who]}"}
                api = await _time_api(http, "/customers", {"limit": 50, **params}, headers, reps)
                sql, args = _compiled(svc, filters, principal, after, *sort)
                raw = await asyncio.to_thread(_time_raw, pg, sql, args, reps)
                rows += _rows(label, api, raw, n)
            headers = {"Authorization": f"Bearer {tokens['admin']}"}
            api = await _time_api(http, "/customers/counts", {}, headers, reps)
            raw = await asyncio.to_thread(_time_raw, pg, "SELECT stage, n FROM customer_stage_count", {}, reps)
            rows += _rows("stage counts (cards, all scope)", api, raw, n)
        await svc.stop()
    rows.append({"benchmark": "customer", "metric": "list: COPY load + index build", "value": load_s, "unit": "s",
                 "note": f"{n:,} customers (set-up, not a target)"})
    return rows


def _rows(label: str, api: list[float], raw: list[float], n: int) -> list[dict]:
    note = f"{n:,} customers; raw = same SQL via psycopg"
    return [
        {"benchmark": "customer", "metric": f"list p50 API: {label}", "value": _pct(api, 0.5), "unit": "ms",
         "note": f"raw SQL p50 {_pct(raw, 0.5):.2f} ms"},
        {"benchmark": "customer", "metric": f"list p99 API: {label}", "value": _pct(api, 0.99), "unit": "ms",
         "note": f"raw SQL p99 {_pct(raw, 0.99):.2f} ms; {note}"},
    ]


def _deep_cursor(svc: Any, n: int) -> tuple[str, tuple[Any, str]]:
    with svc.engine.connect() as conn:
        ts, cid = conn.execute(text("SELECT sort_registered_at, customer_id FROM customer ORDER BY "
                                    "sort_registered_at DESC, customer_id DESC OFFSET :o LIMIT 1"),
                               {"o": n // 2}).one()
    return encode_cursor(codec_for(svc.settings), "registered_at", "desc", ts, cid), (ts, cid)


def _compiled(svc: Any, f: ListFilters, principal: Principal, after: Any,
              sort: SortKey = "registered_at") -> tuple[str, dict]:
    t = svc.tables
    clauses = filter_clauses(t, f, pii=principal.has(Perm.CustomerPiiRead))
    scope = scope_clause(t, principal)
    if scope is not None:
        clauses.append(scope)
    stmt = page_query(t, clauses, sort, "desc", after, 51, svc.engine.dialect.name)
    compiled = stmt.compile(dialect=svc.engine.dialect, compile_kwargs={"render_postcompile": True})
    return str(compiled), dict(compiled.params)


async def _time_api(http: httpx.AsyncClient, path: str, params: dict, headers: dict, reps: int) -> list[float]:
    for _ in range(5):
        r = await http.get(path, params=params, headers=headers)
        r.raise_for_status()
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        r = await http.get(path, params=params, headers=headers)
        out.append(time.perf_counter() - start)
        if r.status_code != 200:
            raise RuntimeError(f"{path} answered {r.status_code}: {r.text[:200]}")
    return out


def _time_raw(url: str, sql: str, args: dict, reps: int) -> list[float]:
    """The statement run raw on a connection with the API reader's session settings (plans as the API's)."""
    out = []
    with psycopg.connect(url, options=READ_OPTIONS) as conn:
        for i in range(reps + 5):
            start = time.perf_counter()
            with conn.cursor() as cur:
                cur.execute(sql, args)
                cur.fetchall()
            if i >= 5:
                out.append(time.perf_counter() - start)
        conn.rollback()
    return out


async def main(ctx: Any) -> list[dict]:
    rows = await bench_ingest(ctx)
    rows += await bench_list(ctx)
    return rows


