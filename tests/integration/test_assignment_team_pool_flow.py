"""Step-by-step allocation through the real broker, on real PostgreSQL: a registration on crm.customer.events
matching a rule with `allocation: team_pool` is queued in the team's pool (crm.assignment.customer_queued, no
customer_assigned: nobody owns it, so no task can go to a manager); the lead sees it in GET /teams/{id}/pool and
distributes it (customer_assigned reason team_pool); a second queued customer passes its SLA due time and the
scheduler publishes pool_sla_breached once (two runs); `ops rebuild assignment --verify` passes."""

from __future__ import annotations

import asyncio

import pytest

from shared.events import topics
from shared.runtime.kafka import EventProducer
from tests.conftest import ops_rebuild_verified
from tests.integration.test_assignment_flow import T0, Running, TopicReader, make_service, registered

pytestmark = pytest.mark.asyncio


async def test_registration_queued_in_team_pool_distributed_by_the_lead_and_sla_breached_once(
        kafka_settings, pg_database, poll):
    from services.assignment.domain.clock import FakeClock

    clock = FakeClock(T0)
    svc = make_service(kafka_settings, pg_database, clock)
    async with Running(svc, [*svc.consumers, svc.relay]) as run, \
            TopicReader(kafka_settings, topics.CRM_ASSIGNMENT) as out:
        admin = run.headers("admin")
        r = await run.http.post("/teams", json={"team_id": "T-HK", "name": "HK", "leader_id": "lead-hk",
                                                "pool_sla_minutes": 30}, headers=admin)
        assert r.status_code == 201 and r.json()["pool_sla_minutes"] == 30
        for mid in ("m1", "m2"):
            r = await run.http.post("/managers", json={"manager_id": mid, "name": mid, "team_id": "T-HK",
                                                       "capacity": 5}, headers=admin)
            assert r.status_code == 201
        r = await run.http.put("/rules/hk-pool", json={"position": 0, "team_id": "T-HK", "allocation": "team_pool",
                                                       "regions": ["HK"]}, headers=admin)
        assert r.status_code == 200 and r.json()["allocation"] == "team_pool"
        producer = EventProducer(kafka_settings, client_id="asg-team-pool-it")
        await producer.start()
        try:
            await producer.publish_many([registered("hk1", active_region="HK"), registered("hk2", active_region="HK")])
        finally:
            await producer.stop()

        async def queued():
            await out.read()
            got = out.of("crm.assignment.customer_queued", team_id="T-HK")
            return got if len(got) == 2 else None
        q = {e["payload"]["customer_id"]: e["payload"] for e in await poll(queued, timeout=30,
                                                                           message="registrations queued")}
        assert q["hk1"]["rule_id"] == "hk-pool" and q["hk1"]["sla_due_at"].startswith("2026-03-02T09:30")
        assert out.of("crm.assignment.customer_assigned") == []  # no owner yet

        lead = run.headers("team_lead", "lead-hk", team_id="T-HK")

        async def listed():
            r = await run.http.get("/teams/T-HK/pool", headers=lead)
            return r.json() if r.status_code == 200 and len(r.json()["items"]) == 2 else None
        pool = await poll(listed, timeout=15, message="the pool lists both")
        assert {i["customer_id"] for i in pool["items"]} == {"hk1", "hk2"} and pool["summary"]["breached"] == 0
        r = await run.http.post("/teams/T-HK/pool/distribute", json={"customer_ids": ["hk1"], "manager_id": "m2"},
                                headers=lead)
        assert r.status_code == 200 and r.json()["counts"] == {"assigned": 1}, r.text

        async def assigned():
            await out.read()
            return out.of("crm.assignment.customer_assigned", customer_id="hk1") or None
        [a] = await poll(assigned, timeout=30, message="distribution published")
        assert (a["payload"]["manager_id"], a["payload"]["team_id"], a["payload"]["reason"]) == ("m2", "T-HK",
                                                                                                   "team_pool")

        clock.advance(minutes=31)
        assert await asyncio.to_thread(svc.pool_sla.run_once) == 1  # hk2 only: hk1 left the pool
        assert await asyncio.to_thread(svc.pool_sla.run_once) == 0  # once

        async def breached():
            await out.read()
            return out.of("crm.assignment.pool_sla_breached") or None
        [b] = await poll(breached, timeout=30, message="SLA breach published")
        assert b["payload"]["customer_id"] == "hk2" and b["payload"]["team_id"] == "T-HK"
        await asyncio.sleep(0.5)
        await out.read()
        assert len(out.of("crm.assignment.pool_sla_breached")) == 1
        r = await run.http.get("/teams/T-HK/pool", headers=lead)
        [entry] = r.json()["items"]
        assert entry["customer_id"] == "hk2" and entry["breached"] is True and entry["breached_at"] is not None

    tables = await ops_rebuild_verified("assignment", svc.settings.database_url)
    assert tables["asg_team_pool"]["rows_after"] == 1
