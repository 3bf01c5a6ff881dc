"""Summary benchmark: dashboard and Today's Summary endpoint p99 at 1,000,000 customers with 90 days of
history in PostgreSQL (facts bulk-loaded with COPY), and replay throughput of the summary read models
through the real consumer next to the raw aiokafka consume rate.

    python -m bench --only summary [--quick]
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from sqlalchemy import text

from services.summary import samples as s
from services.summary.bootstrap import bootstrap
from services.summary.consumers import consumed_topics, dead_letter_topic
from services.summary.domain.clock import local_date_of, week_start
from services.summary.projections import tables as t
from services.summary.rebuild import replay
from services.summary.settings import SummarySettings
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.settings import AuthSettings

AUTH = AuthSettings(jwt_secret="bench-secret-bench-secret-bench-secret")
TZ_NAME = "Asia/Hong_Kong"
MANAGERS_PER_TEAM = 10
DAY = 86400.0


# ---------------------------------------------------------------------------------------------- data
class Generator:
    """Deterministic 90-day history: registrations spread uniformly, each later milestone with a chance
    and an exponential delay; follow-ups, tasks, next follow-ups and KYC cases along the way."""

    def __init__(self, customers: int, managers: int, now: datetime, seed: int = 42):
        self.n, self.managers, self.now = customers, managers, now
        self.start = now - timedelta(days=90)
        self.rng = random.Random(seed)
        self.facts: list[tuple] = []
        self.states: list[tuple] = []
        self.funnels: list[tuple] = []
        self.follow_ups: list[tuple] = []
        self.due: list[tuple] = []
        self.tasks: list[tuple] = []
        self.kyc: list[tuple] = []

    def _later(self, at: datetime | None, p: float, mean_days: float) -> datetime | None:
        if at is None or self.rng.random() > p:
            return None
        nxt = at + timedelta(seconds=self.rng.expovariate(1 / (mean_days * DAY)))
        return nxt if nxt <= self.now else None

    def run(self, tz: Any) -> None:
        rng = self.rng
        for i in range(self.n):
            cid = f"c{i:07d}"
            m = rng.randrange(self.managers)
            mgr, team = f"m{m:04d}", f"t{m // MANAGERS_PER_TEAM:03d}"
            reg = self.start + timedelta(seconds=rng.random() * 90 * DAY)
            applied = self._later(reg, 0.6, 1)
            opened = self._later(applied, 0.75, 2)
            rejected = None if opened or applied is None else self._later(applied, 0.3, 2)
            funded = self._later(opened, 0.6, 3)
            traded = self._later(funded, 0.6, 2)
            times = {"registered": reg, "applied": applied, "opened": opened, "funded": funded, "traded": traded}
            for kind, at in times.items():
                if at is not None:
                    sa = int((at - applied).total_seconds()) if kind == "opened" and applied else None
                    sr = int((at - reg).total_seconds()) if kind == "opened" else None
                    self.facts.append((cid, kind, "", at, mgr, team, sa, sr))
            if rejected is not None:
                self.facts.append((cid, "rejected", "app-1", rejected, mgr, team, None, None))
            stages = [("registered", reg), ("pending_account_opening", applied), ("pending_funding", opened),
                      ("funded", funded), ("traded", traded)]
            reached = [(st, at) for st, at in stages if at is not None]
            stage, stage_at = reached[-1]
            self.states.append((cid, stage, stage_at, mgr, team))
            self.funnels.append((cid, reg, week_start(local_date_of(reg, tz)), applied, opened, funded, traded,
                                 mgr, team))
            last_fu = None
            for k in range(rng.randrange(0, 3)):
                at = reg + timedelta(seconds=rng.random() * max((self.now - reg).total_seconds(), 1))
                fu_stage = [st for st, sat in reached if sat <= at][-1]
                nxt = at + timedelta(days=rng.choice((1, 2, 3))) if rng.random() < 0.5 else None
                self.follow_ups.append((f"{cid}-f{k}", cid, mgr, team, fu_stage, at, nxt, "medium", "|vip|", None))
                if last_fu is None or at > last_fu[0]:
                    last_fu = (at, nxt)
            if last_fu and last_fu[1] is not None:
                self.due.append((f"next:{cid}", cid, "next_follow_up", stage, stage, last_fu[1], mgr, team,
                                 "medium", "|vip|", last_fu[0]))
            if stage in ("pending_funding", "funded") and rng.random() < 0.2:
                due_at = stage_at + timedelta(days=2)
                self.tasks.append((f"task-{cid}", cid, stage, mgr, team, due_at, stage_at, None, None))
                self.due.append((f"task:task-{cid}", cid, "task", stage, stage, due_at, mgr, team, None, "|", None))
            if applied is not None:
                state = "approved" if opened else "rejected" if rejected else rng.choice(("pending", "in_review"))
                self.kyc.append((f"k-{cid}", cid, state, opened or rejected or applied, f"e-{cid}"))


COLUMNS = {
    t.fact: ("customer_id", "kind", "ref", "at", "manager_id", "team_id", "secs_since_applied",
             "secs_since_registered"),
    t.customer_state: ("customer_id", "stage", "stage_at", "manager_id", "team_id"),
    t.funnel: ("customer_id", "registered_at", "cohort_week", "applied_at", "opened_at", "funded_at", "traded_at",
               "manager_id", "team_id"),
    t.follow_up: ("follow_up_id", "customer_id", "manager_id", "team_id", "stage", "recorded_at",
                  "next_follow_up_at", "intent", "tags", "task_id"),
    t.due_item: ("item_id", "customer_id", "source", "node", "stage", "due_at", "manager_id", "team_id", "intent",
                 "tags", "last_follow_up_at"),
    t.task: ("task_id", "customer_id", "node", "assignee_id", "team_id", "due_at", "created_at", "closed_at",
             "outcome"),
    t.kyc_case: ("case_id", "customer_id", "state", "changed_at", "event_id"),
}

NODE_COUNTS_SQL = """
INSERT INTO sm_node_count (dimension, node, manager_id, team_id, n)
SELECT 'stage', stage, coalesce(manager_id, ''), coalesce(team_id, ''), count(*) FROM sm_customer_state
 WHERE stage IS NOT NULL GROUP BY 2, 3, 4
UNION ALL
SELECT 'kyc', k.state, coalesce(s.manager_id, ''), coalesce(s.team_id, ''), count(*)
  FROM sm_kyc_case k LEFT JOIN sm_customer_state s USING (customer_id) GROUP BY 2, 3, 4
UNION ALL
SELECT 'task', coalesce(node, ''), coalesce(assignee_id, ''), coalesce(team_id, ''), count(*) FROM sm_task
 WHERE created_at IS NOT NULL AND closed_at IS NULL GROUP BY 2, 3, 4
"""


DAILY_COUNTS_SQL = """
INSERT INTO sm_daily_count (day, metric, manager_id, team_id, n)
WITH fx AS (
  SELECT (at AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date AS day, coalesce(manager_id, '') AS m,
         coalesce(team_id, '') AS t, v.metric, v.val
    FROM sm_fact CROSS JOIN LATERAL (VALUES
      (CASE kind WHEN 'registered' THEN 'registrations' WHEN 'funded' THEN 'fundings'
                 WHEN 'rejected' THEN 'ao_rejected' WHEN 'opened' THEN 'account_openings' END, 1::bigint),
      (CASE WHEN kind = 'opened' THEN 'ao_opened' END, 1::bigint),
      (CASE WHEN kind = 'opened' AND secs_since_applied IS NOT NULL THEN 'ao_submitted_secs' END,
       secs_since_applied),
      (CASE WHEN kind = 'opened' AND secs_since_applied IS NOT NULL THEN 'ao_submitted_n' END, 1::bigint),
      (CASE WHEN kind = 'opened' AND secs_since_registered IS NOT NULL THEN 'ao_registered_secs' END,
       secs_since_registered),
      (CASE WHEN kind = 'opened' AND secs_since_registered IS NOT NULL THEN 'ao_registered_n' END, 1::bigint)
    ) AS v(metric, val)
   WHERE v.metric IS NOT NULL
), fu AS (
  SELECT (recorded_at AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date AS day,
         CASE stage WHEN 'pending_account_opening' THEN 'pending_account_opening_follow_ups'
                    WHEN 'pending_funding' THEN 'pending_funding_follow_ups'
                    WHEN 'registered' THEN 'registration_follow_ups' ELSE 'funded_follow_ups' END AS metric,
         manager_id AS m, coalesce(team_id, '') AS t, customer_id
    FROM sm_follow_up WHERE stage IN ('pending_account_opening', 'pending_funding', 'registered', 'funded')
), du AS (
  SELECT (due_at AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date AS day, coalesce(manager_id, '') AS m,
         coalesce(team_id, '') AS t
    FROM sm_due_item
)
SELECT day, metric, m, t, sum(val) FROM fx GROUP BY 1, 2, 3, 4
UNION ALL SELECT day, metric, '*', t, sum(val) FROM fx GROUP BY 1, 2, 4
UNION ALL SELECT day, metric, '*', '*', sum(val) FROM fx GROUP BY 1, 2
UNION ALL SELECT day, metric, m, t, count(DISTINCT customer_id) FROM fu GROUP BY 1, 2, 3, 4
UNION ALL SELECT day, metric, '*', t, count(DISTINCT customer_id) FROM fu GROUP BY 1, 2, 4
UNION ALL SELECT day, metric, '*', '*', count(DISTINCT customer_id) FROM fu GROUP BY 1, 2
UNION ALL SELECT day, 'due_items', m, t, count(*) FROM du GROUP BY 1, 3, 4
UNION ALL SELECT day, 'due_items', '*', t, count(*) FROM du GROUP BY 1, 4
UNION ALL SELECT day, 'due_items', '*', '*', count(*) FROM du GROUP BY 1
"""


def _rows(g: Generator) -> Iterator[tuple[Any, list[tuple]]]:
    yield t.fact, g.facts
    yield t.customer_state, g.states
    yield t.funnel, g.funnels
    yield t.follow_up, g.follow_ups
    yield t.due_item, g.due
    yield t.task, g.tasks
    yield t.kyc_case, g.kyc


def bulk_load(url: str, g: Generator) -> dict[str, int]:
    """COPY every table with its secondary indexes dropped, then build the indexes and ANALYZE."""
    engine_url = url
    c = bootstrap(SummarySettings(database_url=engine_url, eventstore_url=engine_url, timezone=TZ_NAME))
    t.metadata.create_all(c.engine)
    indexes = [ix for table, _ in _rows(g) for ix in table.indexes]
    for ix in indexes:
        ix.drop(c.engine)
    counts = {}
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for table, rows in _rows(g):
            cols = COLUMNS[table]
            with conn.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
            counts[table.name] = len(rows)
        conn.execute(NODE_COUNTS_SQL)
        conn.execute(DAILY_COUNTS_SQL, {"tz": TZ_NAME})
        conn.commit()
    for ix in indexes:
        ix.create(c.engine)
    with c.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    c.dispose()
    return counts


# ---------------------------------------------------------------------------------------------- latency
def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def measure(client: httpx.AsyncClient, url: str, headers: dict[str, str], n: int) -> dict[str, float]:
    for _ in range(3):  # warm-up
        r = await client.get(url, headers=headers)
        r.raise_for_status()
    lat = []
    for _ in range(n):
        start = time.perf_counter()
        r = await client.get(url, headers=headers)
        lat.append((time.perf_counter() - start) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")
    return {"p50": statistics.median(lat), "p99": _p(lat, 0.99)}


async def endpoints(url: str, customers: int, managers: int, n: int) -> list[dict]:
    settings = SummarySettings(database_url=url, eventstore_url=url, timezone=TZ_NAME, auth=AUTH)
    c = bootstrap(settings)
    c.migrate()
    roles = {
        "manager": mint_token(AUTH, user_id="m0001", role="manager", team_id="t000"),
        "team_lead": mint_token(AUTH, user_id="lead0", role="team_lead", team_id="t000"),
        "all": mint_token(AUTH, user_id="admin", role="admin"),
    }
    paths = [(p, n) for p in ("/summary/today", "/dashboard/nodes", "/dashboard/shortcuts",
                              "/dashboard/account-opening", "/summary/follow-ups")]
    paths.append(("/analytics/funnel?group_by=cohort", max(n // 5, 10)))  # 90 days of registrations
    rows = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://summary",
                                 timeout=120) as client:
        await cross_check(c, client, {"Authorization": f"Bearer {roles['all']}"})
        for path, n in paths:
            for role, token in roles.items():
                res = await measure(client, path, {"Authorization": f"Bearer {token}"}, n)
                sys.stderr.write(f"bench summary: {path} ({role}) p99 {res['p99']:.1f} ms\n")
                rows.append({"benchmark": "summary", "metric": f"GET {path} p99 ({role})", "value": res["p99"],
                             "unit": "ms", "note": f"p50 {res['p50']:.1f} ms; {n} requests; {customers:,} "
                                                   f"customers, 90 days, {managers} managers"})
    c.dispose()
    return rows


async def cross_check(c: Any, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """The figures served from the daily counts equal a direct query over the facts."""
    got = (await client.get("/dashboard/account-opening", headers=headers)).json()
    sql = text("""SELECT count(*) FILTER (WHERE kind = 'opened'), count(*) FILTER (WHERE kind = 'rejected'),
                         sum(secs_since_applied), count(secs_since_applied) FROM sm_fact
                   WHERE (at AT TIME ZONE 'UTC' AT TIME ZONE :tz)::date BETWEEN :a AND :b""")
    with c.engine.connect() as conn:
        opened, rejected, secs, n = conn.execute(sql, {"tz": TZ_NAME, "a": got["from"], "b": got["to"]}).one()
    expected = (opened, rejected, round(secs / n) if n else None)
    actual = (got["opened"], got["rejected"], got["avg_seconds_submitted_to_opened"])
    if expected != actual:
        raise AssertionError(f"daily counts disagree with the facts: {actual} != {expected}")
    got = (await client.get("/dashboard/shortcuts", headers=headers)).json()
    sql = text("""SELECT count(*) FILTER (WHERE d < :day), count(*) FILTER (WHERE d = :day) FROM (
                    SELECT (due_at AT TIME ZONE 'UTC' AT TIME ZONE :tz)::date AS d FROM sm_due_item) x""")
    with c.engine.connect() as conn:
        expected = tuple(conn.execute(sql, {"tz": TZ_NAME, "day": got["date"]}).one())
    if expected != (got["follow_ups_overdue"], got["follow_ups_due_today"]):
        raise AssertionError(f"due counts disagree with the items: {got} != {expected}")


# ---------------------------------------------------------------------------------------------- replay
def journeys(customers: int, now: datetime, seed: int = 7) -> list:
    rng = random.Random(seed)
    out = []
    for i in range(customers):
        m = rng.randrange(50)
        reg = now - timedelta(days=rng.random() * 90)
        steps: dict[str, datetime | None] = {}
        at: datetime | None = reg
        for name, p in (("applied", 0.6), ("opened", 0.75), ("funded", 0.6), ("traded", 0.6)):
            at = at + timedelta(hours=rng.expovariate(1 / 24)) if at and rng.random() < p else None
            steps[name] = at if at and at <= now else None
        envs = s.journey(f"r{i:06d}", f"m{m:03d}", f"t{m // 10}", reg, **steps)
        if rng.random() < 0.5:
            envs.append(s.follow_up(f"rf{i}", f"r{i:06d}", f"m{m:03d}", reg + timedelta(hours=1),
                                    next_at=reg + timedelta(days=1), intent="high", tags=["vip"]))
        out += envs
    return out


async def replay_rate(ctx: Any, customers: int) -> list[dict]:
    kafka = ctx.kafka
    url = ctx.pg_database("summary_replay")
    settings = SummarySettings(database_url=url, eventstore_url=url, timezone=TZ_NAME, kafka=kafka,
                               consumer_batch_size=1000)
    c = bootstrap(settings)
    c.migrate()
    await ensure_topics(kafka, [*consumed_topics(settings), dead_letter_topic(settings)])
    envs = journeys(customers, datetime.now(UTC))
    producer = EventProducer(kafka, client_id="bench-summary")
    await producer.start()
    try:
        for i in range(0, len(envs), 5000):
            await producer.publish_many(envs[i : i + 5000])
    finally:
        await producer.stop()
    stats = await replay(c, timeout_s=1800)
    c.dispose()
    base = float(ctx.baseline.get("consume_rate") or 0)
    note = (f"{stats.applied:,} events ({customers:,} customers): {stats.applying_s:.1f} s applying, "
            f"{stats.elapsed_s:.1f} s with the group join; PostgreSQL")
    if base:
        note += f"; {stats.rate / base:.1%} of raw consume {base:,.0f} msg/s"
    return [{"benchmark": "summary", "metric": "replay into read models", "value": stats.rate,
             "unit": "events/s", "note": note}]


# ---------------------------------------------------------------------------------------------- main
async def main(ctx: Any) -> list[dict]:
    customers = 20_000 if ctx.quick else 1_000_000
    managers = 50 if ctx.quick else 500
    requests = 50 if ctx.quick else 100
    url = ctx.pg_database("summary")
    from zoneinfo import ZoneInfo

    gen = Generator(customers, managers, datetime.now(UTC).replace(tzinfo=None))
    started = time.perf_counter()
    await asyncio.to_thread(gen.run, ZoneInfo(TZ_NAME))
    counts = await asyncio.to_thread(bulk_load, url, gen)
    sys.stderr.write(f"bench summary: loaded {counts}\n")
    load_s = time.perf_counter() - started
    total_rows = sum(counts.values())
    del gen
    rows = [{"benchmark": "summary", "metric": "bulk load (generate + COPY + indexes)", "value": load_s,
             "unit": "s", "note": f"{total_rows:,} rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())}]
    rows += await endpoints(url, customers, managers, requests)
    rows += await replay_rate(ctx, 1_000 if ctx.quick else 10_000)
    return rows
