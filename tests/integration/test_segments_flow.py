"""Segments through the real broker and PostgreSQL: the customer service (API + worker, with the segment
evaluator) and the assignment service (routing consumer + relay), each on its own database.

A customer registered before a segment exists enters it when the segment is defined (the evaluator's sweep:
`segment_membership_changed` published); registrations afterwards carry their segments on
`customer_registered` (`segment_ids`), so the assignment rule by segment routes the matching ones (a dynamic
segment by channel and a static list naming a customer before it registers) and not the others; editing the
segment makes its members leave; the campaigns service (its own database) previews an audience by segment
from the membership it consumed; `ops rebuild customer|assignment|campaigns --verify` give the live rows."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from services.assignment.bootstrap import bootstrap as asg_bootstrap
from services.assignment.settings import AssignmentSettings
from services.campaigns.bootstrap import bootstrap as cp_bootstrap
from services.campaigns.settings import CampaignsSettings
from services.customer.bootstrap import bootstrap
from services.customer.settings import CustomerSettings
from shared.events import registry, topics
from shared.events.upstream import CustomerRegistered
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings
from tests.conftest import ops_rebuild_verified
from tests.kafka_helpers import read_topic

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret=SecretStr("integration-secret-integration-secret"))
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def hdr(role: str, user: str = "admin-1") -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(AUTH, user_id=user, role=role)}


def reg(cid: str, minutes: int, channel: str) -> CustomerRegistered:
    return CustomerRegistered(customer_id=cid, registered_at=T0 + timedelta(minutes=minutes), channel=channel,
                              name=f"Person {cid}")


async def test_segment_membership_published_and_routed_by_rule(kafka_settings, pg_database, poll, monkeypatch):
    url, asg_url, cp_url = pg_database("segc"), pg_database("sega"), pg_database("segp")
    monkeypatch.setenv("CUSTOMER_MATCH_KEY", "segments-flow-match-key")  # the same index key in `ops rebuild`
    settings = CustomerSettings(database_url=url, kafka=kafka_settings, auth=AUTH, relay_interval_ms=20,
                                segment_eval_s=0.2)
    asg = asg_bootstrap(AssignmentSettings(database_url=asg_url, kafka=kafka_settings, auth=AUTH,
                                           reclaim_interval_s=3600, relay_interval_ms=20))
    svc = bootstrap(settings)
    cp = cp_bootstrap(CampaignsSettings(database_url=cp_url, kafka=kafka_settings, auth=AUTH, relay_interval_ms=50,
                                        scheduler_interval_s=3600))
    await ensure_topics(kafka_settings, [kafka_settings.topic(t) for t in topics.UPSTREAM_TOPICS])
    producer = EventProducer(kafka_settings, client_id="segments-test")
    await producer.start()

    async def publish(*payloads) -> None:
        await producer.publish_many([registry.envelope(p, producer="brokerage-test") for p in payloads])

    async def messages(event_type: str) -> list[dict]:
        records = await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_CUSTOMER), expect=10_000,
                                   timeout=0.5)
        return [m["payload"] for m in map(lambda r: json.loads(r.value), records) if m["event_type"] == event_type]

    admin = hdr("admin")
    try:
        async with running(asg), running(svc), running(cp):
            a = httpx.AsyncClient(transport=httpx.ASGITransport(app=asg.api), base_url="http://a", headers=admin)
            c = httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.api), base_url="http://c", headers=admin)
            await publish(reg("early-1", 0, "referral"))
            await poll(lambda: _listed(c, ["early-1"]), timeout=30, message="early-1 listed")

            # 1. segments defined: early-1 enters the dynamic one (the evaluator's sweep)
            r = await c.post("/customers/segments", json={"name": "Referred", "kind": "dynamic",
                                                          "filter": {"channel": ["referral"]}})
            assert r.status_code == 201, r.text
            referred = r.json()["segment_id"]
            r = await c.post("/customers/segments", json={"name": "VIP", "kind": "static",
                                                          "customer_ids": ["pre-1"]})
            vip = r.json()["segment_id"]

            async def early_entered():
                got = await messages("crm.customer.segment_membership_changed")
                assert [(m["segment_id"], m["customer_id"], m["member"]) for m in got] == [
                    (referred, "early-1", True)], got
                return True

            await poll(early_entered, timeout=30, message="early-1 entered the segment")

            # 2. a rule by segment; registrations afterwards are routed by it
            assert (await a.post("/teams", json={"team_id": "T-VIP", "name": "VIP desk"})).status_code == 201
            r = await a.post("/managers", json={"manager_id": "am-vip", "name": "AM", "team_id": "T-VIP",
                                                "capacity": 100})
            assert r.status_code == 201, r.text
            r = await a.put("/rules/by-segment", json={"position": 1, "manager_id": "am-vip",
                                                       "segments": [referred, vip]})
            assert r.status_code == 200, r.text
            await publish(reg("r-1", 1, "referral"), reg("r-2", 2, "organic"), reg("pre-1", 3, "organic"))

            async def routed():
                mine = (await c.get("/customers", params={"manager_id": "am-vip"})).json()["items"]
                assert sorted(i["customer_id"] for i in mine) == ["pre-1", "r-1"], mine
                return True

            await poll(routed, timeout=60, message="registrations routed by segment")
            await poll(lambda: _listed(c, ["early-1", "pre-1", "r-1", "r-2"]), timeout=30)
            why = (await a.get("/customers/r-1/assignments")).json()
            assert "by-segment" in json.dumps(why)
            assert not (await c.get("/customers", params={"manager_id": "am-vip", "q": "r-2"})).json()["items"]
            regs = {m["customer_id"]: m["segment_ids"] for m in await messages("crm.customer.customer_registered")}
            assert regs == {"early-1": [], "r-1": [referred], "r-2": [], "pre-1": [vip]}

            # 3. the segment edited: its members leave (published), the list follows
            r = await c.put(f"/customers/segments/{referred}", json={"name": "Organic", "kind": "dynamic",
                                                                     "filter": {"channel": ["organic"]}})
            assert r.status_code == 200

            async def moved():
                got = [(m["segment_id"], m["customer_id"], m["member"])
                       for m in await messages("crm.customer.segment_membership_changed")]
                assert sorted(got) == sorted([(referred, "early-1", True), (referred, "r-1", True),
                                              (vip, "pre-1", True), (referred, "early-1", False),
                                              (referred, "r-1", False), (referred, "r-2", True),
                                              (referred, "pre-1", True)]), got
                return True

            await poll(moved, timeout=30, message="membership re-evaluated after the edit")

            # 4. a campaign's audience by segment: the campaigns service's copy of the membership
            p = httpx.AsyncClient(transport=httpx.ASGITransport(app=cp.api), base_url="http://p", headers=admin)

            async def previewed(segment: str, want: list[str]):
                r = await p.post("/campaigns/audience/preview", json={"segment_id": segment})
                assert r.status_code == 200, r.text
                assert sorted(s["customer_id"] for s in r.json()["sample"]) == want, r.json()
                return True

            await poll(lambda: previewed(referred, ["pre-1", "r-2"]), timeout=30, message="campaign audience")
            await poll(lambda: previewed(vip, ["pre-1"]), timeout=30, message="static segment audience")
            r = await p.post("/campaigns/audience/preview", json={"segment_id": referred, "channels": ["referral"]})
            assert r.json()["size"] == 0  # with the other attributes
            await p.aclose()
            await a.aclose()
            await c.aclose()
    finally:
        await producer.stop()

    # replay equality of the three services (their rebuilds at once: separate processes, separate databases)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", kafka_settings.topic_prefix)  # the campaigns rebuild replays topics
    customer_report, _, campaigns_report = await asyncio.gather(
        ops_rebuild_verified("customer", url), ops_rebuild_verified("assignment", asg_url),
        ops_rebuild_verified("campaigns", cp_url))
    assert customer_report["customer_segment_membership"]["rows_after"] == 3  # r-2, pre-1 (Organic); pre-1 (VIP)
    assert campaigns_report["cp_segment_member"]["rows_after"] == 5  # each (segment, customer) ever published


async def _listed(c: httpx.AsyncClient, ids: list[str]) -> bool:
    items = (await c.get("/customers", params={"limit": 50})).json()["items"]
    assert sorted(i["customer_id"] for i in items) == ids
    return True
