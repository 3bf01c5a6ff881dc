"""Captured calls and SMS on SQLite (no broker): matched by customer id or by the keyed hash of the phone
number (the phone map from crm.customer.customer_registered), recorded as follow-ups (source, duration), kept
once per call / message id, the SMS's later delivery state, and the end-of-day reconciliation of the unmatched
ones (counts, reasons, scope; never the number)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from services.tasks.bootstrap import bootstrap
from services.tasks.projections.tables import captures, follow_ups
from services.tasks.settings import TasksSettings
from shared.events import registry
from shared.events.crm_customer import CustomerOnboarded
from shared.events.upstream_capture import CallCaptured, SmsCaptured
from shared.runtime.phones import phone_hash
from shared.runtime.settings import BrokerageSettings
from tests.unit.test_tasks_api import AUTH, bearer

pytestmark = pytest.mark.asyncio
T0 = datetime(2026, 3, 2, 2, tzinfo=UTC)  # 10:00 in Hong Kong
KEY = "unit-phone-key"


def ev(payload):
    return registry.decode(registry.envelope(payload, producer="test").model_dump(mode="json"))


def call(call_id: str, **kw):
    base = dict(call_id=call_id, staff_id="m1", direction="outbound", started_at=T0, duration_s=95, outcome="answered",
                recording_ref="rec-1")
    return CallCaptured(**(base | kw))


@pytest.fixture()
async def world(sqlite_url):
    c = bootstrap(TasksSettings(database_url=sqlite_url("cap"), auth=AUTH,
                                brokerage=BrokerageSettings(timezone="Asia/Hong_Kong", phone_hash_key=KEY)))
    c.migrate()
    offsets = {"n": 0}

    def feed(*payloads):
        events = [ev(p) for p in payloads]
        offsets["n"] += len(events)
        for h in c.pipeline.handlers:
            h.apply("t", 0, events, offsets["n"])

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://t") as http:
        yield c, feed, http
    await c.stop()


def rows(c, table):
    with c.sessions() as s:
        return [dict(r) for r in s.execute(select(table).order_by(*table.primary_key.columns)).mappings()]


async def test_calls_and_sms_become_follow_ups_once_and_the_rest_is_reconciled(world):
    c, feed, http = world
    feed(CustomerOnboarded(customer_id="c1", registered_at=T0 - timedelta(days=1), channel="organic",
                           phone_hash=phone_hash(KEY, "91234567", "+852")),
         CustomerOnboarded(customer_id="c2", registered_at=T0 - timedelta(days=1), channel="organic",
                           phone_hash=phone_hash(KEY, "+852 5555 0000")),
         CustomerOnboarded(customer_id="c3", registered_at=T0 - timedelta(days=1), channel="organic",
                           phone_hash=phone_hash(KEY, "+852 5555 0000")))  # the same number as c2
    feed(call("k1", customer_phone="+852 9123-4567"),  # by the number, written another way
         call("k2", customer_id="c2", outcome="no_answer", duration_s=0),
         call("k3", customer_phone="+44 20 7946 0000"),  # nobody's number
         call("k4", customer_phone="+852 5555 0000"),  # two customers' number
         call("k5", customer_id="ghost"),
         SmsCaptured(message_id="s1", staff_id="m2", customer_id="c1", status="sent", sent_at=T0 + timedelta(hours=1)),
         SmsCaptured(message_id="s2", staff_id="m1", customer_id="c1", status="failed", sent_at=T0))
    feed(call("k1", customer_phone="+85291234567"),  # the same call again
         SmsCaptured(message_id="s1", staff_id="m2", customer_id="c1", status="delivered", sent_at=T0 + timedelta(hours=1),
                     delivered_at=T0 + timedelta(hours=1, seconds=3)))

    fu = rows(c, follow_ups)
    got = sorted((r["customer_id"], r["manager_id"], r["contact_methods"], r["source"], r["duration_s"]) for r in fu)
    assert got == [("c1", "m1", ["phone"], "call", 95), ("c1", "m2", ["sms"], "sms", None),
                   ("c2", "m1", ["phone"], "call", 0)]
    caps = {r["capture_id"]: r for r in rows(c, captures)}
    assert len(caps) == 7
    assert caps["s1"]["outcome"] == "delivered" and caps["s2"]["follow_up_id"] is None
    assert {k: caps[k]["reason"] for k in ("k3", "k4", "k5")} == {"k3": "unknown_phone", "k4": "ambiguous_phone",
                                                                   "k5": "unknown_customer"}

    admin = bearer("boss", role="admin")
    r = await http.get("/tasks/captures/unmatched", params={"date": "2026-03-02"}, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["captured"], body["matched"], body["unmatched"]) == (7, 4, 3)
    assert body["unmatched_by_reason"] == {"unknown_phone": 1, "ambiguous_phone": 1, "unknown_customer": 1}
    assert [i["capture_id"] for i in body["items"]] == sorted(["k3", "k4", "k5"], key=lambda k: caps[k]["capture_key"])
    assert "phone" not in r.text.replace("unknown_phone", "").replace("ambiguous_phone", "").replace(
        "invalid_phone", "").replace('"phone"', "")
    other_day = (await http.get("/tasks/captures/unmatched", params={"date": "2026-03-01"}, headers=admin)).json()
    assert other_day["captured"] == 0
    mine = (await http.get("/tasks/captures/unmatched", params={"date": "2026-03-02"}, headers=bearer("m2"))).json()
    assert (mine["captured"], mine["unmatched"]) == (1, 0)
    bad = await http.get("/tasks/captures/unmatched", params={"date": "yesterday"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.date"
    assert (await http.get("/tasks/captures/unmatched", params={"date": "2026-03-02"})).status_code == 401
    # the follow-up history shows the captured records like the typed ones
    hist = (await http.get("/customers/c1/follow-ups", headers=admin)).json()["items"]
    assert sorted((i["contact_methods"][0], i["source"], i["duration_s"]) for i in hist) == [
        ("phone", "call", 95), ("sms", "sms", None)]
