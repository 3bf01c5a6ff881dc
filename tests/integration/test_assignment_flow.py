"""Assignment service through the real broker, with its event store and read model on real PostgreSQL:

registration in (crm.customer.customer_registered) -> rule / referral-code routing -> customer_assigned out
on crm.assignment.events (with manager_id and team_id) -> read back from the API; a follow-up on
crm.tasks.events resets the protection clock; reclaim with a fake clock publishes reason=reclaimed;
resignation hands customers over; poison events are dead-lettered while the consumer keeps going."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr
from sqlalchemy import delete, select

from services.assignment.bootstrap import bootstrap
from services.assignment.domain.clock import FakeClock
from services.assignment.domain.model import Manager
from services.assignment.projections import tables as t
from services.assignment.settings import AssignmentSettings
from shared.events import registry, topics
from shared.events.crm_customer import CustomerOnboarded, SegmentMembershipChanged
from shared.events.crm_tasks import FollowUpRecorded
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer
from shared.runtime.settings import AuthSettings
from tests.conftest import ops_rebuild_verified

pytestmark = pytest.mark.asyncio
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Running:
    """The service's worker components running in this event loop, plus an in-process API client."""

    def __init__(self, container, components):
        self.c, self.components, self.tasks = container, components, []

    async def __aenter__(self):
        await self.c.ensure_topics()
        await self.c.start_producer()
        self.tasks = [asyncio.create_task(comp.run()) for comp in self.components]
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.c.api), base_url="http://t")
        return self

    async def __aexit__(self, *exc):
        await self.http.aclose()
        for comp in self.components:
            await comp.stop()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.c.stop()

    def headers(self, role, user="admin-1", **kw):
        return {"Authorization": "Bearer " + mint_token(self.c.settings.auth, user_id=user, role=role, **kw)}


def make_service(kafka_settings, pg_database, clock):
    settings = AssignmentSettings(
        database_url=pg_database("asg"), kafka=kafka_settings,
        auth=AuthSettings(jwt_secret=SecretStr("integration-secret-integration-secret")),
        reclaim_interval_s=3600, handover_wait_s=15, relay_interval_ms=20, consumer_retries=2)
    return bootstrap(settings, clock=clock)


class TopicReader:
    def __init__(self, kafka_settings, topic):
        self.consumer = AIOKafkaConsumer(kafka_settings.topic(topic), bootstrap_servers=kafka_settings.bootstrap_servers,
                                         group_id=None, auto_offset_reset="earliest", enable_auto_commit=False)
        self.records: list[dict] = []

    async def __aenter__(self):
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc):
        await self.consumer.stop()

    async def read(self) -> list[dict]:
        batch = await self.consumer.getmany(timeout_ms=100, max_records=5000)
        for recs in batch.values():
            self.records.extend(json.loads(r.value) for r in recs)
        return self.records

    def of(self, event_type, **match):
        return [r for r in self.records if r["event_type"] == event_type
                and all(r["payload"].get(k) == v for k, v in match.items())]


def membership(cid, segment_id, member, hours):
    return registry.envelope(SegmentMembershipChanged(segment_id=segment_id, customer_id=cid, member=member,
                                                      as_of=T0 + timedelta(hours=hours)), producer="test")


def registered(cid, **kw):
    return registry.envelope(CustomerOnboarded(customer_id=cid, registered_at=T0, channel=kw.pop("channel", "organic"),
                                               **kw), producer="customer-test", correlation_id=f"corr-{cid}")


async def test_registration_to_assignment_follow_up_reclaim_and_resignation(kafka_settings, pg_database, poll):
    clock = FakeClock(T0)
    svc = make_service(kafka_settings, pg_database, clock)
    async with Running(svc, [*svc.consumers, svc.relay]) as run, \
            TopicReader(kafka_settings, topics.CRM_ASSIGNMENT) as out:
        admin = run.headers("admin")
        for team, days in (("T-HK", 7), ("T-SG", 3)):
            r = await run.http.post("/teams", json={"team_id": team, "name": team, "protection_days": days},
                                    headers=admin)
            assert r.status_code == 201, r.text
        for mid, team, code in (("am-1", "T-HK", "QR-AM1"), ("am-2", "T-HK", None), ("am-3", "T-SG", None)):
            r = await run.http.post("/managers", json={"manager_id": mid, "name": f"AM {mid}", "team_id": team,
                                                       "capacity": 50, "referral_code": code}, headers=admin)
            assert r.status_code == 201, r.text
        r = await run.http.put("/rules/hk-zh", json={"position": 10, "team_id": "T-HK", "regions": ["HK"],
                                                     "languages": ["zh"]}, headers=admin)
        assert r.status_code == 200 and r.json()["version"] == 1
        r = await run.http.put("/rules/sg", json={"position": 20, "manager_id": "am-3", "regions": ["SG"]},
                               headers=admin)
        assert r.status_code == 200

        producer = EventProducer(kafka_settings, client_id="asg-it")
        await producer.start()
        try:
            customer_topic = kafka_settings.topic(topics.CRM_CUSTOMER)
            await producer.publish_many([
                registered("c-ref", referral_code="QR-AM1", active_region="SG"),
                registered("c-hk1", active_region="HK", language="zh-HK"),
                registered("c-hk2", user_region="HK", language="zh"),
                registered("c-sg", active_region="SG", language="en"),
                registered("c-none", active_region="US"),
            ])
            await producer.send_raw(customer_topic, b"{not json", key=b"c-bad")
            await producer.publish(registered("c-hk1", active_region="HK", language="zh-HK"))  # new id, same customer
            # saved segments now (re-routing matches them): c-hk1 left VIP after entering it, the older fact
            # delivered last; c-sg entered GOLD
            await producer.publish_many([membership("c-hk1", "VIP", False, 2), membership("c-hk1", "VIP", True, 1),
                                         membership("c-sg", "GOLD", True, 1)])

            def segments_known():
                facts = svc.reclaimer.directory.routing_facts(["c-hk1", "c-sg"])
                return [facts.get(c, {}).get("segments") for c in ("c-hk1", "c-sg")] == [[], ["GOLD"]]
            await poll(segments_known, timeout=30, message="the segment memberships in the directory")

            async def assigned_out():
                await out.read()
                return len(out.of("crm.assignment.customer_assigned")) >= 4
            await poll(assigned_out, timeout=30, message="4 customer_assigned events")
            got = {r["payload"]["customer_id"]: r["payload"] for r in out.of("crm.assignment.customer_assigned")}
            assert got["c-ref"]["manager_id"] == "am-1" and got["c-ref"]["reason"] == "referral_code"
            # round-robin inside T-HK (the two registrations may be consumed in either order: partitions)
            holder, other = got["c-hk1"]["manager_id"], got["c-hk2"]["manager_id"]
            assert {holder, other} == {"am-1", "am-2"}
            assert got["c-hk1"]["team_id"] == "T-HK" and got["c-hk1"]["rule_id"] == "hk-zh"
            assert got["c-hk1"]["rule_version"] == 1 and got["c-hk1"]["rule_inputs"]["language"] == "zh-HK"
            assert got["c-sg"]["manager_id"] == "am-3" and got["c-sg"]["team_id"] == "T-SG"
            assert "c-none" not in got
            record = out.of("crm.assignment.customer_assigned", customer_id="c-hk1")[0]
            assert record["partition_key"] == "c-hk1" and record["producer"] == "whale-crm/assignment"
            assert record["correlation_id"] == "corr-c-hk1" and record["causation_id"]  # from the registration

            # "why is this customer with this manager?" from the API (read model on PostgreSQL)
            async def why():
                r = await run.http.get("/customers/c-hk1/assignments", headers=run.headers("auditor"))
                return r.json() if r.status_code == 200 and r.json()["slots"] else None
            body = await poll(why, timeout=15, message="assignment visible in the API")
            [slot] = body["slots"]
            assert (slot["manager_id"], slot["reason"], slot["rule_id"], slot["rule_version"]) == (
                holder, "rule", "hk-zh", 1)
            assert slot["rule"]["definition"]["regions"] == ["HK"]
            assert slot["inputs"]["region"] == "HK" and slot["inputs"]["matched"] == "rule hk-zh v1"
            r = await run.http.get("/assignments", params={"manager_id": "am-1"}, headers=admin)
            assert sorted(i["customer_id"] for i in r.json()["items"]) == sorted(
                ["c-ref", "c-hk1" if holder == "am-1" else "c-hk2"])

            # A follow-up by the holder resets the clock; nobody follows up c-hk2 or c-sg.
            now = clock.advance(days=6)
            await producer.publish(registry.envelope(FollowUpRecorded(
                follow_up_id=uuid.uuid4().hex, customer_id="c-hk1", manager_id=holder, recorded_at=now),
                producer="tasks-test"))

            async def reset():
                r = await run.http.get("/customers/c-hk1/assignments", headers=admin)
                return r.json()["slots"][0]["last_follow_up_at"] is not None
            await poll(reset, timeout=15, message="follow-up applied")
            clock.advance(days=1, minutes=6)  # day 7 + grace: c-hk2 (T-HK, 7 days), c-ref, c-sg (3 days) expired
            r = await run.http.post("/ops/reclaim", headers=run.headers("operator", "sre-1"))
            assert r.status_code == 200 and r.json()["reclaimed"] == 3

            async def reclaimed_out():
                await out.read()
                return len(out.of("crm.assignment.customer_unassigned", reason="reclaimed")) == 3
            await poll(reclaimed_out, timeout=20, message="3 reclaims published")
            assert {r["payload"]["customer_id"] for r in out.of("crm.assignment.customer_unassigned",
                                                                reason="reclaimed")} == {"c-ref", "c-hk2", "c-sg"}
            # a second run (another replica, or a retry) reclaims nothing more
            r = await run.http.post("/ops/reclaim", headers=run.headers("operator", "sre-1"))
            assert r.json()["reclaimed"] == 0

            # Resignation: c-hk1's manager hands it over to the other one.
            r = await run.http.post(f"/managers/{holder}/resign", json={"handover": "manager",
                                                                         "to_manager_id": other},
                                    headers={**admin, "x-correlation-id": "corr-resign-1"})
            assert r.status_code == 200 and r.json()["handed_over"] == 1 and r.json()["pending"] == 0

            async def handed_over():
                await out.read()
                return out.of("crm.assignment.customer_assigned", customer_id="c-hk1", reason="handover")
            [moved] = await poll(handed_over, timeout=20, message="hand-over published")
            assert moved["payload"]["manager_id"] == other and moved["payload"]["previous_manager_id"] == holder
            assert moved["correlation_id"] == "corr-resign-1"
            assert out.of("crm.assignment.customer_unassigned", customer_id="c-hk1", reason="manager_resigned")

            async def resigned():  # keyed by the manager: another partition, maybe not fetched yet
                await out.read()
                return out.of("crm.assignment.manager_changed", manager_id=holder, status="resigned")
            await poll(resigned, timeout=20, message="resignation published")

            # the poison record went to the dead-letter topic; each consumer group dead-letters it once
            async with TopicReader(kafka_settings, topics.dead_letter_topic("assignment")) as dlq:
                async def dead():
                    return len(await dlq.read()) >= 2
                await poll(dead, timeout=15, message="poison dead-lettered")
                assert {d["error"]["field"] for d in dlq.records} == {"$"}
        finally:
            await producer.stop()
        # exactly one assignment per routed registration, even with the repeated c-hk1 registration
        await out.read()
        rule_based = [r for r in out.of("crm.assignment.customer_assigned") if r["payload"]["reason"] != "handover"]
        assert len(rule_based) == 4
        assert len({r["event_id"] for r in out.records}) == len(out.records)

        # Replay: the read model rebuilt from the event store (the tables it feeds, `rebuild_read_model`) and
        # from the start of crm.customer.events (the customer table, under a new consumer group) ends up with
        # identical rows. The event store and the read model share one database: the replay empties them there.
        for consumer in svc.consumers:  # the rebuilding process takes over
            await consumer.stop()
        expected = dump(svc)
        with svc.sessions.begin() as s:
            s.execute(delete(t.customers))
            s.execute(delete(t.customer_segments))
            for table in (t.consumer_position, t.processed_event):
                s.execute(delete(table).where(table.c.consumer == "assignment-customers"))
        assert await asyncio.to_thread(svc.rebuild_read_model) > 0
        fresh = bootstrap(svc.settings.model_copy(update={"consumer_group_suffix": "-replay"}), clock=clock)
        async with Running(fresh, [fresh.consumers[0]]):
            def identical() -> bool:
                got = dump(fresh)
                assert [k for k in expected if got[k] != expected[k]] == []
                return True
            await poll(identical, timeout=30, message="replayed read model identical")
        assert expected["asg_customer"] and expected["asg_history"] and len(expected["asg_customer_segment"]) == 2


def dump(container) -> dict:
    with container.sessions() as s:
        return {tbl.name: sorted(tuple(str(v) for v in row) for row in s.execute(select(tbl)))
                for tbl in (t.customers, t.customer_segments, t.assignments, t.history, t.managers, t.teams, t.rules,
                            t.rule_versions)}


async def test_expiry_is_computed_from_the_team_protection_days(kafka_settings, pg_database, poll):
    """Single assignment through the API: protection_expires_at on the published event = now + team days."""
    clock = FakeClock(T0)
    svc = make_service(kafka_settings, pg_database, clock)
    async with Running(svc, [*svc.consumers, svc.relay]) as run, \
            TopicReader(kafka_settings, topics.CRM_ASSIGNMENT) as out:
        admin = run.headers("admin")
        await run.http.post("/teams", json={"team_id": "T", "name": "T", "protection_days": 2}, headers=admin)
        await run.http.post("/managers", json={"manager_id": "m", "name": "M", "team_id": "T", "capacity": 1},
                            headers=admin)
        producer = EventProducer(kafka_settings, client_id="asg-it2")
        await producer.start()
        try:
            await producer.publish_many([registered("x1"), registered("x2")])
        finally:
            await producer.stop()

        async def known():
            r = await run.http.post("/assignments", json={"customer_id": "x1", "manager_id": "m"}, headers=admin)
            return r if r.status_code == 200 else None
        await poll(known, timeout=20, message="customer known to the service")
        r = await run.http.post("/assignments", json={"customer_id": "x2", "manager_id": "m"}, headers=admin)
        assert r.status_code == 409 and r.json()["code"] == "over_capacity"

        async def published():
            await out.read()
            return out.of("crm.assignment.customer_assigned", customer_id="x1")
        [ev] = await poll(published, timeout=20, message="assignment published")
        assert ev["payload"]["protection_expires_at"].startswith((T0 + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
        assert ev["payload"]["team_id"] == "T" and ev["payload"]["assigned_by"] == "admin-1"

    # `ops rebuild assignment --verify`: the store replayed through the fold into the emptied tables gives
    # the rows the events' transactions wrote (the event store shares the database; its tables are left out)
    tables = await ops_rebuild_verified("assignment", svc.settings.database_url)
    assert tables["asg_assignment"]["rows_after"] == 1


async def test_two_scheduler_replicas_on_postgresql_never_reclaim_twice(kafka_settings, pg_database):
    """Two replicas (own connections, same event store and read model) reclaim concurrently."""
    from services.assignment.consumers import apply_customer_events
    from services.assignment.domain.scope import Actor

    clock = FakeClock(T0)
    one = make_service(kafka_settings, pg_database, clock)
    two = bootstrap(one.settings, clock=clock)
    try:
        admin = Actor("admin-1", "all")
        one.admin.create_team(admin, team_id="T", name="T", leader_id=None, protection_days=1, at=T0)
        for m in ("m1", "m2"):
            one.admin.create_manager(admin, manager_id=m, name=m, position=None, team_id="T", regions=[],
                                     languages=[], capacity=1000, referral_code=None, at=T0)
        ids = [f"r{i:03d}" for i in range(300)]
        with one.sessions.begin() as s:
            apply_customer_events(s, [registry.decode(registered(c).model_dump(mode="json")) for c in ids])
        one.assigner.assign(admin, ids[:150], "m1")
        one.assigner.assign(admin, ids[150:], "m2")
        clock.advance(days=2)
        counts = await asyncio.gather(asyncio.to_thread(one.reclaimer.run_once),
                                      asyncio.to_thread(two.reclaimer.run_once))
        assert sum(counts) == 300
        unassigned = []
        for n in one.app.process_recorder.select_notifications(start=1, limit=10_000):
            e = one.app.mapper.to_domain_event(n)
            if type(e).__qualname__ == "CustomerAssignment.Unassigned":
                unassigned.append(e.customer_id)
        assert sorted(unassigned) == ids  # each exactly once
        assert [one.app.load(Manager.create_id(m)).load for m in ("m1", "m2")] == [0, 0]
    finally:
        await one.stop()
        await two.stop()
