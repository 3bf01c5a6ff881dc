"""Captured calls and SMS through the real broker and PostgreSQL: the customer's phone hash from
crm.customer.customer_registered, calls on brokerage.telephony and SMS on brokerage.sms (re-published, one
malformed) → follow-ups recorded and published as crm.tasks.follow_up_recorded (what resets the protection
period and counts in Today's Summary, as for a typed follow-up), unmatched ones in the reconciliation, the
malformed one dead-lettered with its field, `ops rebuild tasks --verify` equal."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.events import encode, topics
from shared.events.crm_customer import CustomerOnboarded
from shared.events.upstream_capture import CallCaptured, SmsCaptured
from shared.runtime.phones import phone_hash
from shared.runtime.settings import BrokerageSettings
from tests.conftest import ops_rebuild_verified
from tests.integration.test_tasks_flow import (  # noqa: F401 - fixtures
    T0,
    api,
    assigned,
    customer_id,
    env,
    producer,
    read_topic,
    service,
    token,
)

pytestmark = pytest.mark.asyncio
KEY = BrokerageSettings().phone_hash_key.get_secret_value()


async def test_calls_and_sms_to_follow_ups_reconciliation_dead_letters_and_rebuild(service, producer, api,  # noqa: F811
                                                                                  poll, kafka_settings):
    from shared.runtime.kafka import ensure_topics

    await ensure_topics(kafka_settings, [kafka_settings.topic(t) for t in topics.CAPTURE_TOPICS])
    cid = customer_id()
    await producer.publish_many([
        env(CustomerOnboarded(customer_id=cid, registered_at=T0, channel="app", name="Alice Example",
                              phone_hash=phone_hash(KEY, "91234567", "+852"))),
        assigned(cid, "m1")])

    async def phone_known():
        r = await api.get(f"/customers/{cid}/follow-ups", headers=token("m1"))
        return r.status_code == 200

    await poll(phone_known, timeout=40, message="the customer's card")
    call = env(CallCaptured(call_id=f"call-{cid}", staff_id="m1", customer_phone="+852 9123 4567",
                            direction="outbound", started_at=T0 + timedelta(hours=1), duration_s=185,
                            outcome="answered", recording_ref="rec/1"))
    stranger = env(CallCaptured(call_id=f"call-x-{cid}", staff_id="m1", customer_phone="+44 20 7946 0000",
                                direction="inbound", started_at=T0 + timedelta(hours=2), duration_s=20,
                                outcome="answered"))
    sms = env(SmsCaptured(message_id=f"sms-{cid}", staff_id="m1", customer_id=cid, status="sent",
                          sent_at=T0 + timedelta(hours=3)))
    await producer.publish_many([call, stranger, sms])
    await producer.publish_many([call])  # re-published: the same event
    await producer.publish_many([env(CallCaptured(**call.payload))])  # the same call under a new event id
    bad = json.loads(encode(call))
    bad["payload"]["duration_s"] = -5
    await producer.send_raw(kafka_settings.topic(topics.TELEPHONY), json.dumps(bad).encode(), key=b"bad")

    async def recorded():
        items = (await api.get(f"/customers/{cid}/follow-ups", headers=token("m1"))).json()["items"]
        return items if len(items) == 2 else None

    items = await poll(recorded, timeout=60, message="two captured follow-ups")
    assert sorted((i["contact_methods"], i["source"], i["duration_s"], i["manager_id"]) for i in items) == [
        (["phone"], "call", 185, "m1"), (["sms"], "sms", None, "m1")]

    published = await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_TASKS),
                                 lambda rs: len([r for r in rs if r["event_type"] == "crm.tasks.follow_up_recorded"
                                                 and r["payload"]["customer_id"] == cid]) >= 2, poll)
    mine = [r["payload"] for r in published if r["event_type"] == "crm.tasks.follow_up_recorded"
            and r["payload"]["customer_id"] == cid]
    assert sorted((p["source"], p["contact_methods"][0]) for p in mine) == [("call", "phone"), ("sms", "sms")]
    assert all("phone_hash" not in json.dumps(p) and "9123" not in json.dumps(p) for p in mine)

    day = (T0 + timedelta(hours=2)).date().isoformat()

    async def reconciled():  # the captures are keyed by call / message id: other partitions, other batches
        r = (await api.get("/tasks/captures/unmatched", params={"date": day},
                           headers=token("boss", role="admin"))).json()
        return r if r["captured"] == 3 else None

    rec = await poll(reconciled, timeout=60, message="three captures")
    assert (rec["matched"], rec["unmatched"]) == (2, 1) and rec["unmatched_by_reason"] == {"unknown_phone": 1}
    assert [i["capture_id"] for i in rec["items"]] == [f"call-x-{cid}"]

    dlq = await read_topic(kafka_settings, kafka_settings.topic(topics.dead_letter_topic("tasks")),
                           lambda rs: len(rs) >= 1, poll)
    assert [d["error"]["field"] for d in dlq] == ["payload.duration_s"]

    verified = await ops_rebuild_verified("tasks", service.settings.database_url)
    assert verified["captures"]["rows_after"] == 3 and verified["follow_ups"]["rows_after"] == 2
