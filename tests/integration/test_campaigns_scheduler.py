"""The campaigns scheduler with several replicas on one PostgreSQL database: only the replica holding the
`campaigns-scheduler` advisory lock runs it (another takes over when it stops), and even executors racing on
the same due campaign start and close it once — the decision is taken on the aggregate and saved with
optimistic concurrency."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from services.campaigns.bootstrap import bootstrap
from services.campaigns.execution import Scheduler
from services.campaigns.projections.audience import apply_audience_facts
from services.campaigns.settings import CampaignsSettings
from shared.events import encode, registry
from shared.events.crm_assignment import CustomerAssigned
from shared.events.crm_customer import CustomerOnboarded
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="integration-secret-of-at-least-32-bytes")
NOW = datetime.now(UTC).replace(microsecond=0)


def fact(payload):
    return registry.decode(encode(registry.envelope(payload, producer="test")))


def replicas(pg_database, n: int):
    url = pg_database("campaigns_replicas")
    cs = [bootstrap(CampaignsSettings(database_url=url, auth=AUTH)) for _ in range(n)]
    with cs[0].sessions.begin() as s:
        apply_audience_facts(s, [fact(CustomerOnboarded(customer_id=f"C{i}", registered_at=NOW, channel="web"))
                                 for i in range(40)]
                             + [fact(CustomerAssigned(customer_id=f"C{i}", manager_id="M-1", team_id="T-HK",
                                                      reason="rule", assigned_at=NOW)) for i in range(40)])
    return cs


def approved(c, *, start: datetime, end: datetime) -> str:
    plan = {"name": "Race", "purpose": None, "start_at": start.isoformat(), "end_at": end.isoformat(),
            "audience": {"channels": ["web"]}, "distribution": "assigned_manager", "team_id": None,
            "channels": ["phone"], "metrics": ["funded"], "attribution_window_days": 7}
    scope = {"scope": "all", "user_id": "admin-1", "teams": [], "team": None}
    campaign = c.app.create(plan=plan, by="admin-1", level=3, scope=scope, at=NOW)
    cid = str(campaign.id)
    c.app.submit(cid, by="admin-1", at=NOW)
    c.app.review(cid, by="admin-2", level=3, approve=True, comment=None, at=NOW)
    return cid


def close_all(cs) -> None:
    for c in cs:
        c.engine.dispose()
        c.app.close()


async def test_racing_executors_start_and_close_a_campaign_once(pg_database):
    cs = replicas(pg_database, 4)
    try:
        cid = approved(cs[0], start=NOW - timedelta(minutes=1), end=NOW + timedelta(hours=1))
        with ThreadPoolExecutor(4) as pool:
            started = list(pool.map(lambda c: c.executor.run_once(NOW)[0], cs))
            closed = list(pool.map(lambda c: c.executor.run_once(NOW + timedelta(hours=2))[1], cs))
        assert sum(started) == 1 and sum(closed) == 1
        events = cs[1].app.history(cid)
        kinds = [type(e).__name__ for e in events]
        assert kinds == ["Created", "Submitted", "Approved", "Started", "TargetsFrozen", "Closed"]
        assert len(events[4].targets) == 40
    finally:
        close_all(cs)


async def test_only_the_leader_schedules_and_another_takes_over(pg_database, poll):
    cs = replicas(pg_database, 2)
    calls = [0, 0]
    for i, c in enumerate(cs):
        original = c.executor.run_once

        def counted(now=None, i=i, original=original):
            calls[i] += 1
            return original(now)

        c.executor.run_once = counted  # type: ignore[method-assign]
    schedulers = [Scheduler(c.executor, interval_s=0.05) for c in cs]
    tasks = [asyncio.create_task(s.run()) for s in schedulers]
    try:
        await poll(lambda: max(calls) > 5, timeout=20, message="a replica leads")
        leader = 0 if calls[0] > 5 else 1
        follower = 1 - leader
        assert calls[follower] == 0, calls
        cid = approved(cs[follower], start=NOW - timedelta(minutes=1), end=NOW + timedelta(hours=1))
        await poll(lambda: cs[follower].app.get_campaign(cid).status == "running", timeout=20,
                   message="the leader starts what another replica stored")
        await schedulers[leader].stop()
        await tasks[leader]
        before = calls[follower]
        await poll(lambda: calls[follower] > before, timeout=20, message="the other replica takes over")
    finally:
        for s in schedulers:
            await s.stop()
        await asyncio.gather(*tasks)
        close_all(cs)
