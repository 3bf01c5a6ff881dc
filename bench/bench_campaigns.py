"""Campaigns benchmark (`python -m bench --only campaigns`): starting a campaign of 100,000 targets.

100,000 customers (5,000 with --quick) in one team of 20 managers are loaded into the audience tables of a
PostgreSQL database; a campaign over all of them (least-loaded distribution) is created and approved. Measured:
the start (audience resolved from the read model, distributed, frozen: the Started event and 100 chunks of
targets stored with their rows in one transaction, after the outbox guard validated every follow-up request),
wall and CPU time of this process; then the outbox relay publishing the 100,000 follow-up requests to Kafka
until its recorded position reaches the store's last event, events/s next to the raw aiokafka produce rate
measured in the same run. (The managers' task lists are the tasks service's: out of scope here.)

Evaluation: a 1,000,000-customer base (20,000 with --quick) COPYed into the audience and evaluation-fact tables
(every customer opened before the campaign; in the window 10% fund, 3% trade, 20% deposit, 2% withdraw; half
hold an account with a snapshot before and after the start) and a started campaign of the first 100,000 of them (2,000
with --quick; its targets COPYed, the rest is its control group). Measured: the indicators recomputed
(`Evaluator.run_due`, as the scheduler does it daily: the targets by manager, team and segment, the control
group of 900,000), wall and CPU time of this process; then the report API (indicators, reports by manager and
by team, comparison) in-process, p50 / p99 over 200 requests each, with the load average.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from pydantic import SecretStr

from services.campaigns.bootstrap import bootstrap
from services.campaigns.domain.campaign import follow_up_id
from services.campaigns.projections.tables import campaign, customer, manager, owner
from services.campaigns.settings import CampaignsSettings
from shared.runtime.auth import mint_token
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings

from .stats import percentile

AUTH = AuthSettings(jwt_secret=SecretStr("bench-secret-bench-secret-bench-secret"))
CHUNK = 5000


def _load(c: Any, n: int) -> None:
    managers = [f"M-{i:02d}" for i in range(20)]
    with c.sessions.begin() as s:
        s.execute(manager.insert(), [{"manager_id": m, "team_id": "T-1", "status": "active", "key": "k"}
                                     for m in managers])
        for start in range(0, n, CHUNK):
            ids = [f"C{i:07d}" for i in range(start, min(n, start + CHUNK))]
            s.execute(customer.insert(), [{"customer_id": cid, "channel": "web", "stage": "pending_funding",
                                           "stage_rank": 2} for cid in ids])
            s.execute(owner.insert(), [{"customer_id": cid, "manager_id": managers[i % 20], "team_id": "T-1"}
                                       for i, cid in enumerate(ids)])


def _approved(c: Any, now: datetime) -> str:
    plan = {"name": "Bench", "purpose": None, "start_at": now.isoformat(), "end_at": (now + timedelta(days=1)).isoformat(),
            "audience": {"stages": ["pending_funding"]}, "distribution": "least_loaded", "team_id": "T-1",
            "channels": ["phone"], "metrics": ["funded"], "attribution_window_days": 7}
    campaign = c.app.create(plan=plan, by="admin-1", level=3, at=now,
                            scope={"scope": "all", "user_id": "admin-1", "teams": [], "team": None})
    cid = str(campaign.id)
    c.app.submit(cid, by="admin-1", at=now)
    c.app.review(cid, by="admin-2", level=3, approve=True, comment=None, at=now)
    return cid


def _load_base(c: Any, url: str, cid: str, n: int, targets: int, start: datetime) -> None:
    """The base's audience rows and facts, and the campaign's targets, by COPY; the campaign marked started."""
    day = timedelta(days=1)
    managers = [f"M-{i:02d}" for i in range(20)]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn, conn.cursor() as cur:
        with cur.copy("COPY cp_customer (customer_id, channel, stage, stage_rank) FROM STDIN") as cp:
            for i in range(n):
                cp.write_row((f"C{i:07d}", "web", "pending_funding", 2))
        with cur.copy("COPY cp_owner (customer_id, manager_id, team_id) FROM STDIN") as cp:
            for i in range(n):
                cp.write_row((f"C{i:07d}", managers[i % 20], f"T-{i % 20 // 10}"))
        with cur.copy("COPY cp_milestone (customer_id, kind, at) FROM STDIN") as cp:
            for i in range(n):
                cp.write_row((f"C{i:07d}", "account_opened", start - 30 * day))
                if i % 10 == 0:
                    cp.write_row((f"C{i:07d}", "funded", start + day))
                if i % 30 == 0:
                    cp.write_row((f"C{i:07d}", "first_trade", start + 2 * day))
        with cur.copy("COPY cp_funds (customer_id, transaction_id, amount, currency, occurred_at) FROM STDIN") as cp:
            for i in range(0, n, 5):
                cp.write_row((f"C{i:07d}", f"d{i}", 1000, "HKD", start + day))
                if i % 50 == 0:
                    cp.write_row((f"C{i:07d}", f"w{i}", -100, "HKD", start + 3 * day))
        with cur.copy("COPY cp_asset (customer_id, account_id, as_of, total_assets, currency) FROM STDIN") as cp:
            for i in range(0, n, 2):
                cp.write_row((f"C{i:07d}", f"A{i}", start - day, 5000, "HKD"))
                cp.write_row((f"C{i:07d}", f"A{i}", start + 3 * day, 5000 + (i % 7) * 100, "HKD"))
        with cur.copy("COPY cp_target (campaign_id, customer_id, follow_up_id, manager_id, team_id) FROM STDIN") as cp:
            for i in range(targets):
                cp.write_row((cid, f"C{i:07d}", follow_up_id(cid, f"C{i:07d}"), managers[i % 20], f"T-{i % 20 // 10}"))
        conn.commit()
        conn.autocommit = True
        for t in ("cp_customer", "cp_owner", "cp_milestone", "cp_funds", "cp_asset", "cp_target"):
            cur.execute(f"ANALYZE {t}")
    with c.sessions.begin() as s:
        s.execute(campaign.update().where(campaign.c.campaign_id == cid).values(
            status="running", started_at=start, audience_size=targets))


async def _evaluation(ctx: Any) -> list[dict]:
    n, targets = (20_000, 2_000) if ctx.quick else (1_000_000, 100_000)
    url = ctx.pg_database("campaigns_eval")
    c = bootstrap(CampaignsSettings(database_url=url, auth=AUTH, scheduler_interval_s=3600))
    start = datetime.now(UTC) - timedelta(days=10)
    cid = await asyncio.to_thread(_approved, c, start)
    wall = time.perf_counter()
    await asyncio.to_thread(_load_base, c, url, cid, n, targets, start)
    load_s = time.perf_counter() - wall
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    done = await asyncio.to_thread(c.evaluator.run_due)
    eval_s, eval_cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert done == 1
    auth = {"Authorization": f"Bearer {mint_token(AUTH, user_id='admin-1', role='admin', team_id=None)}"}
    paths = [f"/campaigns/{cid}/indicators", "/campaigns/reports?dimension=manager",
             "/campaigns/reports?dimension=team", f"/campaigns/compare?ids={cid}"]
    samples: list[float] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://bench") as api:
        for path in paths:
            for i in range(220):
                t = time.perf_counter()
                r = await api.get(path, headers=auth)
                assert r.status_code == 200, (path, r.text)
                if i >= 20:  # warm-up
                    samples.append((time.perf_counter() - t) * 1000)
    body = r.json()[0]
    c.engine.dispose()
    c.app.close()
    return [
        {"benchmark": "campaigns", "metric": f"indicators of a {n:,}-customer base ({targets:,} targets, control "
                                             f"{n - targets:,})", "value": round(eval_s, 2), "unit": "s",
         "note": f"CPU {eval_cpu:.2f} s (this process; PostgreSQL's own apart); load average {load:.1f}; "
                 f"converted {body['converted']:,}; base loaded in {load_s:.0f} s"},
        {"benchmark": "campaigns", "metric": "report API p99 (indicators, reports, compare)",
         "value": round(percentile(samples, 0.99), 2), "unit": "ms",
         "note": f"p50 {percentile(samples, 0.5):.2f} ms over {len(samples)} requests; load average "
                 f"{os.getloadavg()[0]:.1f}"},
    ]


async def main(ctx: Any) -> list[dict]:
    rows = await _start(ctx)
    return rows + await _evaluation(ctx)


async def _start(ctx: Any) -> list[dict]:
    n = 5_000 if ctx.quick else 100_000
    c = bootstrap(CampaignsSettings(database_url=ctx.pg_database("campaigns"), kafka=ctx.kafka, auth=AUTH,
                                    scheduler_interval_s=3600))
    await asyncio.to_thread(_load, c, n)
    now = datetime.now(UTC)
    cid = await asyncio.to_thread(_approved, c, now)
    wall, cpu = time.perf_counter(), time.process_time()
    campaign, _ = await asyncio.to_thread(c.executor.start, cid, by="admin-1", at=now)
    start_s, start_cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert campaign.audience_size == n
    last = c.app.process_recorder.max_notification_id()
    wall, cpu = time.perf_counter(), time.process_time()
    deadline = time.monotonic() + 900
    async with running(c):
        while True:  # the relay's recorded position, under a deadline
            if await asyncio.to_thread(c.relay.position) >= last:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the relay did not publish every follow-up in time")
            await asyncio.sleep(0.05)
    publish_s, publish_cpu = time.perf_counter() - wall, time.process_time() - cpu
    raw = ctx.baseline.get("produce_rate")
    note = f"raw aiokafka produce {raw:,.0f}/s in this run" if isinstance(raw, int | float) else ""
    return [
        {"benchmark": "campaigns", "metric": f"start {n:,} targets (freeze + store)", "value": round(start_s, 2),
         "unit": "s", "note": f"CPU {start_cpu:.2f} s"},
        {"benchmark": "campaigns", "metric": f"publish {n:,} follow-up requests", "value": round(n / publish_s),
         "unit": "events/s", "note": f"{publish_s:.1f} s, CPU {publish_cpu:.2f} s; {note}".strip("; ")},
    ]
