"""Campaigns benchmark (`python -m bench --only campaigns`): starting a campaign of 100,000 targets.

100,000 customers (5,000 with --quick) in one team of 20 managers are loaded into the audience tables of a
PostgreSQL database; a campaign over all of them (least-loaded distribution) is created and approved. Measured:
the start (audience resolved from the read model, distributed, frozen: the Started event and 100 chunks of
targets stored with their rows in one transaction, after the outbox guard validated every follow-up request),
wall and CPU time of this process; then the outbox relay publishing the 100,000 follow-up requests to Kafka
until its recorded position reaches the store's last event, events/s next to the raw aiokafka produce rate
measured in the same run. (The managers' task lists are the tasks service's: out of scope here.)
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from services.campaigns.bootstrap import bootstrap
from services.campaigns.projections.tables import customer, manager, owner
from services.campaigns.settings import CampaignsSettings
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings

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


async def main(ctx: Any) -> list[dict]:
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
