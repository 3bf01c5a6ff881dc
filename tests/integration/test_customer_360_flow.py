"""The 360° through the real broker and PostgreSQL: the tasks, KYC, User CRM and campaigns services' events
(published here as they publish them, re-published, shuffled across their topics, with a malformed record)
→ the customer service's activity consumer → `GET /customers/{id}/360`; the malformed record is dead-lettered
with its field; `ops rebuild customer --verify` keeps the read model; a replay of the topics from offset 0 into
a new database gives the same activity rows."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from shared.events import encode, registry, topics
from shared.events.crm_assignment import CustomerAssigned
from shared.events.upstream import CustomerRegistered, RiskAssessed
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer, ensure_topics
from tests.conftest import ops_rebuild_verified
from tests.integration.test_customer_pipeline import AUTH, Service
from tests.kafka_helpers import read_topic
from tests.unit.test_customer_360 import T0, history

pytestmark = pytest.mark.asyncio


def activity_rows(svc: Service) -> dict:
    with svc.container.sessions() as s:
        return {t.name: sorted(map(tuple, s.execute(select(t)))) for t in svc.container.tables.activity.all()}


async def test_crm_events_to_the_360_dead_letters_rebuild_and_replay(kafka_settings, pg_database, poll):
    crm = [registry.envelope(p, producer="svc-test") for p in history("x1") + history("x2")]
    random.Random(5).shuffle(crm)
    await ensure_topics(kafka_settings, [kafka_settings.topic(x) for x in topics.UPSTREAM_TOPICS + (
        topics.CRM_ASSIGNMENT, topics.CRM_CUSTOMER, topics.CRM_TASKS, topics.CRM_KYC, topics.CRM_USERCRM,
        topics.CRM_CAMPAIGNS, topics.dead_letter_topic("customer"))])
    producer = EventProducer(kafka_settings, client_id="test")
    await producer.start()
    await producer.publish_many([registry.envelope(CustomerRegistered(customer_id=c, registered_at=T0,
                                                                      channel="organic", name=f"N {c}"),
                                                   producer="brokerage-test") for c in ("x1", "x2")])
    await producer.publish_many([registry.envelope(CustomerAssigned(customer_id="x1", manager_id="m-1",
                                                                    team_id="team-a", reason="rule", assigned_at=T0),
                                                   producer="t")])
    await producer.publish_many(crm)
    # the risk rating: a new upstream fact (brokerage.suitability), the later assessment published first
    await producer.publish_many([registry.envelope(RiskAssessed(
        customer_id="x1", assessment_id=aid, risk_rating=rating, assessed_at=T0 + timedelta(days=d)),
        producer="brokerage-test") for aid, rating, d in (("ra-2", "balanced", 2), ("ra-1", "aggressive", 1))])
    await producer.publish_many(crm[:5])  # re-published: same event ids
    bad = json.loads(encode(crm[0]))
    bad["payload"]["customer_id"] = None
    await producer.send_raw(kafka_settings.topic(topics.CRM_TASKS), json.dumps(bad).encode(), key=b"x1")
    await producer.stop()

    url = pg_database("c360")
    svc = await Service(kafka_settings, url).start()
    try:
        async def complete():
            r = await svc.get("/customers/x1/360")
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["follow_ups"]["count"] == 2 and body["kyc"]["status"] == "approved", body
            assert body["tickets"]["items"] and body["tickets"]["items"][0]["status"] == "resolved", body
            assert body["campaign_touches"]["count"] == 1 and body["messages"]["count"] == 1, body
            assert body["profile"]["risk"] and body["profile"]["risk"]["assessment_id"] == "ra-2", body
            return body

        body = await poll(complete, timeout=60, message="the 360 complete")
        assert body["kyc"]["completion_pct"] == 100
        assert body["campaign_touches"]["items"][0]["campaign_name"] == "Spring"
        assert {t["tag"] for t in body["tags"]} == {"VIP", "hk-desk", "warm"}
        assert [r["sources"] for r in body["remarks"]] == [["follow_up"]]
        assert body["profile"]["risk"]["rating"] == "balanced"
        listed = (await svc.get("/customers", risk_rating="balanced")).json()["items"]
        assert [i["customer_id"] for i in listed] == ["x1"]
        # scope: x1 is m-1's, x2 no one's
        assert (await svc.get("/customers/x1/360", role="manager", user="m-1", team="team-a")).status_code == 200
        assert (await svc.get("/customers/x2/360", role="manager", user="m-1", team="team-a")).status_code == 404

        # a saved segment (the risk rating's filter) counts x1 and is published on the customer topic
        headers = {"Authorization": f"Bearer {mint_token(AUTH, user_id='u-1', role='admin')}"}
        r = await svc.client.post("/customers/segments", headers=headers, json={
            "name": "Balanced", "kind": "dynamic", "filter": {"risk_rating": ["balanced"]}})
        assert r.status_code == 201 and r.json()["count"] == 1, r.text
        listed = (await svc.get("/customers", segment=r.json()["segment_id"])).json()["items"]
        assert [i["customer_id"] for i in listed] == ["x1"]

        async def segment_published():  # the relay publishes after the command's commit
            records = await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_CUSTOMER), expect=10_000,
                                       timeout=2)
            found = [json.loads(m.value) for m in records
                     if json.loads(m.value)["event_type"] == "crm.customer.segment_changed"]
            return found or None

        changed = await poll(segment_published, timeout=40, message="segment_changed published")
        assert [(m["payload"]["name"], m["payload"]["change"], m["payload"]["filter"]) for m in changed] == [
            ("Balanced", "created", {"risk_rating": ["balanced"]})]

        dlq = await read_topic(kafka_settings, kafka_settings.topic(topics.dead_letter_topic("customer")), expect=1)
        assert [json.loads(r.value)["error"]["field"] for r in dlq] == ["payload.customer_id"]

        before = activity_rows(svc)
        assert len(before["customer_follow_up"]) == 4 and len(before["customer_kyc_event"]) == 4
        await svc.stop_worker()
        verified = await ops_rebuild_verified("customer", url)
        assert verified["customer_follow_up"]["rows_after"] == 4
        assert activity_rows(svc) == before
    finally:
        await svc.stop()

    replay = await Service(kafka_settings, pg_database("c360b"), "-replay").start()
    try:
        async def same():
            assert activity_rows(replay) == before
            return True

        await poll(same, timeout=60, message="replayed activity identical")
    finally:
        await replay.stop()
