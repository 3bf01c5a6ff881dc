"""Campaigns through the real broker and PostgreSQL: crm.customer / crm.assignment facts → the audience read model
(duplicates applied once, poison records dead-lettered with their reason while the consumer keeps going) →
create, preview, submit and peer review through the API → the scheduler starts the campaign (audience frozen,
least-loaded distribution) → crm.campaigns.events carries one follow-up request per target, with the ids the
stored events determine → the scheduler closes it at its end time → `ops rebuild campaigns --verify` replays the
store and the topics into read models identical to the live ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from ops.kafka_ops import read_dead_letters, read_topic
from services.campaigns.bootstrap import bootstrap
from services.campaigns.domain.campaign import follow_up_id
from services.campaigns.projections.tables import campaign, customer, manager, owner, target
from services.campaigns.settings import CampaignsSettings
from shared.events import encode, registry, topics
from shared.events.crm_assignment import CustomerAssigned, ManagerChanged
from shared.events.crm_customer import CustomerOnboarded, StageChanged
from shared.runtime.auth import mint_token
from shared.runtime.eventstore import deterministic_event_id
from shared.runtime.kafka import EventProducer
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings
from tests.conftest import ops_rebuild_verified

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="integration-secret-of-at-least-32-bytes")
NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(days=2)
CUSTOMERS = 30


def facts() -> list:
    out = []
    for m in ("M-1", "M-2", "M-3"):
        out.append(registry.envelope(ManagerChanged(manager_id=m, name=m, team_id="T-HK", status="active",
                                                    changed_at=T0), producer="whale-crm/assignment"))
    out.append(registry.envelope(ManagerChanged(manager_id="M-X", name="M-X", team_id="T-HK", status="resigned",
                                                changed_at=T0), producer="whale-crm/assignment"))
    for i in range(CUSTOMERS):
        cid = f"C{i:03d}"
        out.append(registry.envelope(CustomerOnboarded(customer_id=cid, registered_at=T0, channel="web",
                                                       user_region="HK", active_region="HK"),
                                     producer="whale-crm/customer"))
        stage = "pending_funding" if i % 3 else "registered"
        out.append(registry.envelope(StageChanged(customer_id=cid, from_stage=None, to_stage=stage, changed_at=T0,
                                                  cause_event_id=f"e{i}", cause_event_type="x"),
                                     producer="whale-crm/customer"))
        # M-1 holds 10 customers already, M-2 and M-3 none: least-loaded gives M-2 and M-3 the first ones
        out.append(registry.envelope(CustomerAssigned(customer_id=cid, manager_id="M-1" if i < 10 else "M-2",
                                                      team_id="T-HK", reason="rule", assigned_at=T0),
                                     producer="whale-crm/assignment"))
    return out


def headers(user: str, role: str = "team_lead") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id='T-HK')}"}


def live_rows(c) -> dict[str, list[dict]]:
    with c.sessions() as s:
        return {t.name: [dict(r) for r in s.execute(select(t).order_by(*t.primary_key.columns)).mappings()]
                for t in (campaign, target, customer, owner, manager)}


async def test_creation_review_start_autoclose_and_replay(kafka_settings, pg_database, poll, monkeypatch):
    settings = CampaignsSettings(database_url=pg_database("campaigns"), kafka=kafka_settings, auth=AUTH,
                                 relay_interval_ms=50, scheduler_interval_s=0.2)
    c = bootstrap(settings)
    clock = [NOW]
    c.executor.clock = lambda: clock[0]  # the scheduler's time, moved by hand
    producer = EventProducer(kafka_settings, client_id="crm-sim")
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://campaigns")
    lead_a, lead_b = headers("LEAD-A"), headers("LEAD-B")
    sent = facts()
    async with running(c):
        await producer.start()
        try:
            by_topic: dict[str, list] = {}
            for env in sent + sent[:5]:  # the first five again: re-publication, one effect
                by_topic.setdefault(registry.latest(env.event_type).topic, []).append(env)
            for topic, envs in by_topic.items():
                await producer.publish_many(envs, topic=kafka_settings.topic(topic))
            poison = json.loads(encode(sent[4]))
            poison["payload"]["user_region"] = "Hong Kong"  # not a country code
            await producer.send_raw(kafka_settings.topic(topics.CRM_CUSTOMER), json.dumps(poison).encode(), key=b"C0")
            await producer.send_raw(kafka_settings.topic(topics.CRM_ASSIGNMENT), b"\x00not json", key=b"C1")
            late = registry.envelope(CustomerOnboarded(customer_id="C999", registered_at=T0, channel="web"),
                                     producer="whale-crm/customer")
            await producer.publish_many([late], topic=kafka_settings.topic(topics.CRM_CUSTOMER))
        finally:
            await producer.stop()

        audience = {"stages": ["pending_funding"], "channels": ["web"]}
        expected = sorted(f"C{i:03d}" for i in range(CUSTOMERS) if i % 3)

        async def previewed():
            r = (await api.post("/campaigns/audience/preview", json=audience, headers=lead_a)).json()
            return r if r["size"] == len(expected) and live_rows(c)["cp_customer"][-1]["customer_id"] == "C999" else None

        preview = await poll(previewed, timeout=60, message="the audience facts consumed")
        assert [s["customer_id"] for s in preview["sample"]] == expected[:20]
        letters = await poll(lambda: _letters(kafka_settings), timeout=30, message="two dead letters")
        assert sorted(r["reason"] for r in letters) == ["invalid_json", "invalid_payload"]

        plan = {"name": "First deposit", "purpose": "fund the pending", "start_at": (NOW - timedelta(minutes=5)).isoformat(),
                "end_at": (NOW + timedelta(days=3)).isoformat(), "audience": audience, "distribution": "least_loaded",
                "team_id": "T-HK", "channels": ["phone", "in_app"], "metrics": ["funded"], "attribution_window_days": 14}
        r = await api.post("/campaigns", json=plan, headers=lead_a)
        assert r.status_code == 201, r.text
        cid = r.json()["campaign_id"]
        assert (await api.post(f"/campaigns/{cid}/submit", headers=lead_a)).status_code == 200
        assert (await api.post(f"/campaigns/{cid}/review", json={"decision": "approve"}, headers=lead_a)).status_code == 403
        r = await api.post(f"/campaigns/{cid}/review", json={"decision": "approve", "comment": "go"}, headers=lead_b)
        assert r.status_code == 200 and r.json()["status"] == "approved"

        async def status(wanted: str):
            body = (await api.get(f"/campaigns/{cid}", headers=lead_a)).json()
            return body if body["status"] == wanted else None

        started = await poll(lambda: status("running"), timeout=30, message="the scheduler started it")
        assert started["audience_size"] == len(expected) and started["started_at"] is not None

        follow_ups = await poll(lambda: _follow_ups(kafka_settings, len(expected)), timeout=60,
                                message="one follow-up per target published")
        assert sorted(f["payload"]["customer_id"] for f in follow_ups) == expected
        assert {f["payload"]["follow_up_id"] for f in follow_ups} == {follow_up_id(cid, x) for x in expected}
        owners = {f["payload"]["customer_id"]: f["payload"]["manager_id"] for f in follow_ups}
        loads = {m: sum(1 for v in owners.values() if v == m) for m in ("M-1", "M-2", "M-3")}
        # before: M-1 10, M-2 20, M-3 0 → 20 targets fill M-3 to 15 while M-1 takes 5 alternately: 15/20/15
        assert loads == {"M-1": 5, "M-2": 0, "M-3": 15}
        assert all(f["payload"]["channels"] == ["phone", "in_app"] for f in follow_ups)
        ids = [f["event_id"] for f in follow_ups]
        assert len(set(ids)) == len(ids)
        stored = [e for e in c.app.history(cid) if type(e).__name__ == "TargetsFrozen"]
        assert set(ids) == {str(deterministic_event_id(e.originator_id, e.originator_version, i))
                            for e in stored for i in range(len(e.targets))}

        clock[0] = NOW + timedelta(days=3, seconds=1)  # past its end: the scheduler closes it
        closed = await poll(lambda: status("closed"), timeout=30, message="the scheduler closed it")
        assert closed["audience_size"] == len(expected)
        kinds = await poll(lambda: _campaign_events(kafka_settings, cid, "crm.campaigns.campaign_closed"),
                           timeout=30, message="campaign_closed published")
        assert kinds == ["crm.campaigns.campaign_created", "crm.campaigns.campaign_submitted",
                         "crm.campaigns.campaign_approved", "crm.campaigns.campaign_started",
                         "crm.campaigns.targets_frozen", "crm.campaigns.campaign_closed"]
        history = (await api.get(f"/campaigns/{cid}/history", headers=lead_b)).json()["items"]
        assert [h["event"] for h in history] == ["created", "submitted", "approved", "started", "targets_frozen",
                                                 "closed"]
        assert history[3]["by"] is None and history[-1]["by"] is None  # the scheduler's
        before = live_rows(c)
    await api.aclose()

    assert len(before["cp_target"]) == len(expected)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_settings.bootstrap_servers)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", kafka_settings.topic_prefix)
    tables = await ops_rebuild_verified("campaigns", settings.database_url)
    assert {"cp_campaign", "cp_target", "cp_customer", "cp_owner", "cp_manager"} <= set(tables)
    assert tables["cp_target"]["rows_after"] == len(expected)
    assert tables["cp_customer"]["rows_after"] == CUSTOMERS + 1


async def _letters(kafka_settings) -> list[dict] | None:
    letters = [d.summary() for d in await read_dead_letters(kafka_settings, "campaigns")]
    return letters if len(letters) >= 2 else None


async def _campaign_records(kafka_settings) -> list[dict]:
    return [json.loads(r.value) for r in await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_CAMPAIGNS))]


async def _follow_ups(kafka_settings, n: int) -> list[dict] | None:
    found = [r for r in await _campaign_records(kafka_settings)
             if r["event_type"] == "crm.campaigns.target_follow_up_requested"]
    return found if len(found) >= n else None


async def _campaign_events(kafka_settings, cid: str, last: str) -> list[str] | None:
    kinds = [r["event_type"] for r in await _campaign_records(kafka_settings)
             if r["payload"].get("campaign_id") == cid and r["event_type"] != "crm.campaigns.target_follow_up_requested"]
    return kinds if kinds and kinds[-1] == last else None
