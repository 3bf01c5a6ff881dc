"""Reclaim re-routing through the real broker, on real PostgreSQL: registrations on crm.customer.events are
routed by the rules; once their protection period expires (fake clock) the reclaim follows each losing team's
`reclaim_policy`: `reroute` → routed again to another manager of the team (never the loser), only the loser
eligible → back to the loser (`fallback_to_previous`), `pool` → queued in the losing team's pool; published on crm.assignment.events
(reason `reroute`), a second run routes nothing twice, and `ops rebuild assignment --verify` passes."""

from __future__ import annotations

import asyncio

import pytest

from shared.events import topics
from shared.runtime.kafka import EventProducer
from tests.conftest import ops_rebuild_verified
from tests.integration.test_assignment_flow import T0, Running, TopicReader, make_service, registered

pytestmark = pytest.mark.asyncio


async def test_reclaimed_customers_are_rerouted_fall_back_or_wait_by_team_policy(kafka_settings, pg_database, poll):
    from services.assignment.domain.clock import FakeClock

    clock = FakeClock(T0)
    svc = make_service(kafka_settings, pg_database, clock)
    async with Running(svc, [*svc.consumers, svc.relay]) as run, \
            TopicReader(kafka_settings, topics.CRM_ASSIGNMENT) as out:
        admin = run.headers("admin")
        teams = (("HK", "reroute", ("m1", "m2")), ("SG", "reroute", ("m3",)), ("JP", "pool", ("m4", "m5")))
        for i, (region, policy, members) in enumerate(teams):
            r = await run.http.post("/teams", json={"team_id": f"T-{region}", "name": region, "protection_days": 3,
                                                    "reclaim_policy": policy}, headers=admin)
            assert r.status_code == 201 and r.json()["reclaim_policy"] == policy
            for mid in members:
                r = await run.http.post("/managers", json={"manager_id": mid, "name": mid, "team_id": f"T-{region}",
                                                           "capacity": 10}, headers=admin)
                assert r.status_code == 201
            r = await run.http.put(f"/rules/r-{region}", json={"position": i, "team_id": f"T-{region}",
                                                                "regions": [region]}, headers=admin)
            assert r.status_code == 200, r.text
        producer = EventProducer(kafka_settings, client_id="asg-reroute-it")
        await producer.start()
        try:
            await producer.publish_many([registered("hk1", active_region="HK"), registered("sg1", active_region="SG"),
                                         registered("jp1", active_region="JP")])
        finally:
            await producer.stop()

        async def routed():
            await out.read()
            got = {e["payload"]["customer_id"]: e["payload"]["manager_id"]
                   for e in out.of("crm.assignment.customer_assigned", reason="rule")}
            return got if len(got) == 3 else None
        first = await poll(routed, timeout=30, message="registrations routed by the rules")
        assert first["sg1"] == "m3" and first["hk1"] in ("m1", "m2") and first["jp1"] in ("m4", "m5")

        clock.advance(days=3, seconds=svc.settings.reclaim_grace_s + 1)
        assert await asyncio.to_thread(svc.reclaimer.run_once) == 3

        async def rerouted():
            await out.read()
            done = out.of("crm.assignment.customer_assigned", reason="reroute")
            return done if len(done) == 2 and out.of("crm.assignment.customer_unassigned", customer_id="jp1") else None
        done = {e["payload"]["customer_id"]: e["payload"] for e in await poll(rerouted, timeout=30,
                                                                              message="reroutes published")}
        loser = first["hk1"]
        assert done["hk1"]["manager_id"] == ({"m1", "m2"} - {loser}).pop()  # another manager of the team
        assert done["hk1"]["rule_inputs"]["excluded_manager"] == loser
        assert done["hk1"]["rule_inputs"]["fallback_to_previous"] is False
        assert done["hk1"]["rule_id"] == "r-HK" and done["hk1"]["team_id"] == "T-HK"
        assert done["sg1"]["manager_id"] == "m3" and done["sg1"]["rule_inputs"]["fallback_to_previous"] is True
        assert [e["payload"]["reason"] for e in out.of("crm.assignment.customer_unassigned")] == ["reclaimed"] * 3

        r = await run.http.get("/customers/jp1/assignments", headers=admin)
        assert r.status_code == 200 and r.json()["in_pool"] is True  # pool policy: no owner ...

        async def queued():
            await out.read()
            return out.of("crm.assignment.customer_queued", customer_id="jp1")
        [q] = await poll(queued, timeout=30, message="jp1 queued in its team's pool")  # ... in the losing team's pool
        assert q["payload"]["team_id"] == "T-JP" and q["payload"]["rule_inputs"]["reclaimed_from"] == first["jp1"]
        r = await run.http.get("/teams/T-JP/pool", headers=admin)
        assert [x["customer_id"] for x in r.json()["items"]] == ["jp1"]
        r = await run.http.get("/customers/hk1/assignments", headers=admin)
        [slot] = r.json()["slots"]
        assert slot["reason"] == "reroute" and slot["inputs"]["excluded_manager"] == loser

        # a second run (another replica, a re-delivered tick) finds nothing due and routes nothing twice
        assert await asyncio.to_thread(svc.reclaimer.run_once) == 0
        await asyncio.sleep(0.5)
        await out.read()
        assert len(out.of("crm.assignment.customer_assigned", reason="reroute")) == 2
        loads = {m["manager_id"]: m["load"] for m in (await run.http.get("/managers", headers=admin)).json()["items"]}
        assert loads[loser] == 0 and loads["m3"] == 1 and sum(loads.values()) == 2

    tables = await ops_rebuild_verified("assignment", svc.settings.database_url)
    assert tables["asg_assignment"]["rows_after"] == 2
