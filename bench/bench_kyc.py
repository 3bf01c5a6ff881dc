"""KYC benchmark (`python -m bench --only kyc`): the review queue endpoint at 100,000 open cases.

100,000 open cases (5,000 with --quick) plus half as many decided ones are bulk-loaded with COPY into the
PostgreSQL read model (`kyc_case`, with its indexes), then ANALYZE. Then p50/p99 latency of queue pages
through the API (in-process ASGI: JWT verification, permission and scope checks, filters, keyset cursor,
SLA/overdue computation, JSON), each next to the very same SQL statement run raw with psycopg in the same
run: the default open-states first page, a deep keyset page (from the middle of the queue), one state,
overdue only, high-risk only, and one reviewer's in-review cases.
"""

from __future__ import annotations

import asyncio
import io
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from pydantic import SecretStr
from sqlalchemy.dialects import postgresql

from services.kyc.bootstrap import bootstrap
from services.kyc.domain.case import OPEN_STATES
from services.kyc.projections.queries import QueueFilter, queue_statement
from services.kyc.settings import KycSettings
from shared.runtime.auth import mint_token
from shared.runtime.cursor import codec_for
from shared.runtime.settings import AuthSettings

from .stats import percentile, raw_query_ms

AUTH = AuthSettings(jwt_secret=SecretStr("bench-secret-bench-secret-bench-secret"))
COLUMNS = (
    "case_id",
    "customer_id",
    "application_id",
    "account_type",
    "state",
    "high_risk",
    "submission",
    "documents_total",
    "documents_pending",
    "completion_pct",
    "reviewer_id",
    "first_reviewer_id",
    "opened_at",
    "submitted_at",
    "queued_at",
    "waiting_since",
    "claimed_at",
    "second_requested_at",
    "decided_at",
    "decided_by",
    "second_reviewer_id",
    "queue_seconds_total",
    "review_seconds_total",
    "updated_at",
    "version",
)


def _rows(n_open: int, n_closed: int, now: datetime) -> io.StringIO:
    rnd = random.Random(7)
    buf = io.StringIO()

    def ts(d: datetime | None) -> str:
        return d.isoformat() if d else "\\N"

    for i in range(n_open + n_closed):
        queued = now - timedelta(seconds=rnd.randint(0, 10 * 24 * 3600))
        if i < n_open:
            state = rnd.choices(OPEN_STATES, weights=(55, 10, 25, 10))[0]
        else:
            state = rnd.choice(("approved", "rejected", "more_info_requested"))
        reviewer = f"r{rnd.randint(0, 49)}" if state == "in_review" else None
        claimed = queued + (now - queued) / 2 if state == "in_review" else None
        first = f"r{rnd.randint(0, 49)}" if state == "awaiting_second_review" else None
        second_at = queued + (now - queued) / 2 if first else None
        decided = now - (now - queued) / 3 if i >= n_open else None
        values = [
            str(uuid.UUID(int=rnd.getrandbits(128))),
            f"cust-{i:07d}",
            f"app-{i:07d}",
            "cash",
            state,
            "t" if rnd.random() < 0.08 else "f",
            "1",
            "5",
            "5" if state != "in_review" else "2",
            str(rnd.choice((40, 50, 60, 80, 100))),
            reviewer or "\\N",
            first or "\\N",
            ts(queued),
            ts(queued),
            ts(queued),
            ts(queued),
            ts(claimed),
            ts(second_at),
            ts(decided),
            "r1" if decided else "\\N",
            "\\N",
            "0",
            "0",
            ts(decided or queued),
            "1",
        ]
        buf.write("\t".join(values) + "\n")
    buf.seek(0)
    return buf


def _load(url: str, n_open: int, n_closed: int, now: datetime) -> float:
    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY kyc_case ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            data = _rows(n_open, n_closed, now)
            while chunk := data.read(1 << 20):
                copy.write(chunk)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE kyc_case")
    return time.perf_counter() - started


async def main(ctx: Any) -> list[dict]:
    n_open = 5_000 if ctx.quick else 100_000
    n_closed = n_open // 2
    reps = 40 if ctx.quick else 300
    url = ctx.pg_database("kyc")
    settings = KycSettings(database_url=url, auth=AUTH)
    container = bootstrap(settings)  # creates the read-model tables and indexes
    now = datetime.now(UTC)
    load_s = await asyncio.to_thread(_load, url, n_open, n_closed, now)
    sla = container.app.rules.sla

    # A cursor from the middle of the open queue, for the deep-page case.
    with psycopg.connect(url) as conn:
        mid = conn.execute(
            "SELECT queued_at, case_id FROM kyc_case WHERE state = ANY(%s) ORDER BY queued_at, case_id "
            "OFFSET %s LIMIT 1",
            (list(OPEN_STATES), n_open // 2),
        ).fetchone()  # set-up only, not measured
    deep_cursor = codec_for(container.settings).encode("kyc-queue", [mid[0], mid[1]])
    scenarios: list[tuple[str, dict[str, Any], QueueFilter, Any]] = [
        ("first page (open states)", {}, QueueFilter(), None),
        ("deep keyset page", {"cursor": deep_cursor}, QueueFilter(), (mid[0], mid[1])),
        ("state=pending", {"state": "pending"}, QueueFilter(states=("pending",)), None),
        ("overdue only", {"overdue": "true"}, QueueFilter(overdue=True), None),
        ("high-risk only", {"high_risk": "true"}, QueueFilter(high_risk=True), None),
        (
            "reviewer's in-review",
            {"state": "in_review", "reviewer": "r7"},
            QueueFilter(states=("in_review",), reviewer_id="r7"),
            None,
        ),
    ]
    token = mint_token(AUTH, user_id="r7", role="kyc_reviewer")
    headers = {"Authorization": f"Bearer {token}"}
    rows: list[dict] = [
        {
            "benchmark": "kyc",
            "metric": "COPY load + ANALYZE",
            "value": n_open + n_closed,
            "unit": "rows",
            "note": f"{load_s:.1f}s ({n_open:,} open, {n_closed:,} decided)",
        }
    ]
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=container.api), base_url="http://kyc"
        ) as client:
            for name, params, flt, after in scenarios:
                params = {"limit": 50, **params}
                for _ in range(5):  # warm-up (connection pool, plan cache)
                    r = await client.get("/kyc/queue", params=params, headers=headers)
                    r.raise_for_status()
                api: list[float] = []
                for _ in range(reps):
                    t = time.perf_counter()
                    r = await client.get("/kyc/queue", params=params, headers=headers)
                    api.append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200 and len(r.json()["items"]) > 0
                stmt = queue_statement(now=now, sla=sla, flt=flt, limit=50, after=after)
                sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
                raw = await asyncio.to_thread(raw_query_ms, url, sql, reps)
                rows += [
                    {
                        "benchmark": "kyc",
                        "metric": f"queue p99: {name}",
                        "value": percentile(api, 0.99),
                        "unit": "ms",
                        "note": f"API in-process, p50 {statistics.median(api):.1f} ms; raw SQL p99 "
                        f"{percentile(raw, 0.99):.2f} ms (p50 {statistics.median(raw):.2f}); "
                        f"{reps} req, {n_open:,} open cases",
                    },
                ]
    finally:
        await container.stop()
    return rows
