"""Campaigns API in-process on SQLite (one database: event store and read models): permissions and data scope,
problem+json naming the field, create → preview → submit → peer review → edit back to review → start with the
audience frozen and distributed → scheduler close; history, keyset lists, the outbox's follow-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from devtools import seed_campaigns
from services.campaigns.bootstrap import bootstrap
from services.campaigns.outbox import CampaignOutboxMapper
from services.campaigns.projections.audience import apply_audience_facts
from services.campaigns.projections.tables import holdout
from services.campaigns.settings import CampaignsSettings
from shared.events import encode, registry
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned, ManagerChanged
from shared.events.crm_campaigns import TargetFollowUpRequested
from shared.events.crm_customer import CustomerOnboarded, RegionsChanged, StageChanged, TagsChanged
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="unit-test-secret-of-at-least-32-bytes")
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)  # manual starts happen now


def ev(payload):
    return registry.decode(encode(registry.envelope(payload, producer="test")))


def facts():
    out = []
    for i in range(1, 9):
        cid = f"C{i}"
        out.append(ev(CustomerOnboarded(customer_id=cid, registered_at=T0, channel="web" if i % 2 else "app",
                                        user_region="HK", active_region="HK")))
        out.append(ev(StageChanged(customer_id=cid, from_stage=None, to_stage="registered", changed_at=T0,
                                   cause_event_id=f"x{i}", cause_event_type="registration")))
        if i <= 6:
            out.append(ev(StageChanged(customer_id=cid, from_stage="registered", to_stage="pending_funding",
                                       changed_at=T0 + timedelta(hours=1), cause_event_id=f"y{i}",
                                       cause_event_type="account.opened")))
        if i <= 4:  # C1..C4 in Hong Kong's team, C1 C2 with M-HK-1, C3 C4 with M-HK-2
            out.append(ev(CustomerAssigned(customer_id=cid, manager_id="M-HK-1" if i <= 2 else "M-HK-2",
                                           team_id="T-HK", reason="rule", assigned_at=T0)))
        elif i <= 6:  # C5 C6 in Singapore's
            out.append(ev(CustomerAssigned(customer_id=cid, manager_id="M-SG-1", team_id="T-SG", reason="rule",
                                           assigned_at=T0)))
    # a late, older region fact changes nothing; an unassignment of a manager no longer holding C4 neither
    out.append(ev(RegionsChanged(customer_id="C1", user_region="SG", active_region="SG",
                                 changed_at=T0 - timedelta(days=1))))
    out.append(ev(CustomerUnassigned(customer_id="C4", manager_id="M-OTHER", reason="manual",
                                     unassigned_at=T0 + timedelta(hours=2))))
    # tags: the whole set, last writer by business time (the older set arriving late changes nothing)
    out.append(ev(TagsChanged(customer_id="C1", tags=["vip", "hk-desk"], changed_at=T0 + timedelta(hours=1))))
    out.append(ev(TagsChanged(customer_id="C2", tags=["vip"], changed_at=T0 + timedelta(hours=1))))
    out.append(ev(TagsChanged(customer_id="C2", tags=[], changed_at=T0 + timedelta(hours=2))))
    out.append(ev(TagsChanged(customer_id="C3", tags=["vip"], changed_at=T0 + timedelta(hours=2))))
    out.append(ev(TagsChanged(customer_id="C3", tags=["dormant"], changed_at=T0 + timedelta(hours=1))))
    out.append(ev(TagsChanged(customer_id="C7", tags=["hk-desk"], changed_at=T0)))
    for m, team in (("M-HK-1", "T-HK"), ("M-HK-2", "T-HK"), ("M-HK-3", "T-HK"), ("M-SG-1", "T-SG")):
        out.append(ev(ManagerChanged(manager_id=m, name=m, team_id=team, status="active", changed_at=T0)))
    return out


@pytest.fixture
def container(tmp_path):
    c = bootstrap(CampaignsSettings(database_url=f"sqlite:///{tmp_path}/campaigns.db", auth=AUTH))
    with c.sessions.begin() as s:
        apply_audience_facts(s, facts())
    yield c
    c.engine.dispose()
    c.app.close()


def headers(role: str, user: str, team: str | None = "T-HK") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id=team)}"}


LEAD_A = headers("team_lead", "LEAD-A")
LEAD_B = headers("team_lead", "LEAD-B")
LEAD_SG = headers("team_lead", "LEAD-SG", "T-SG")
MANAGER = headers("manager", "M-HK-1")
AUDITOR = headers("auditor", "audit-1", None)
KYC = headers("kyc_reviewer", "kyc-1", None)


def plan(**over):
    base = {"name": "Fund pending accounts", "purpose": "first deposit", "start_at": T0.isoformat(),
            "end_at": (T0 + timedelta(days=7)).isoformat(), "audience": {"stages": ["pending_funding"]},
            "distribution": "round_robin", "team_id": "T-HK", "channels": ["phone", "sms"],
            "metrics": ["funded", "net_deposits"], "attribution_window_days": 30}
    return {**base, **over}


@pytest.fixture
async def client(container):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=container.api), base_url="http://t") as c:
        yield c


async def test_permissions_and_invalid_input(client):
    assert (await client.get("/campaigns")).status_code == 401
    assert (await client.get("/campaigns", headers=KYC)).status_code == 403
    assert (await client.post("/campaigns", json=plan(), headers=AUDITOR)).status_code == 403  # read-only
    r = await client.post("/campaigns", json=plan(end_at=T0.isoformat()), headers=LEAD_A)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "end_at"
    r = await client.post("/campaigns", json=plan(distribution="team_queue", team_id=None), headers=LEAD_A)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "team_id"
    r = await client.post("/campaigns", json=plan(colour="red"), headers=LEAD_A)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "colour"
    r = await client.post("/campaigns", json=plan(audience={"stages": ["rich"]}), headers=LEAD_A)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("audience.stages")
    r = await client.post("/campaigns", json=plan(channels=[]), headers=LEAD_A)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "channels"
    assert (await client.get("/campaigns/not-a-campaign", headers=LEAD_A)).status_code == 404


async def test_audience_preview_respects_the_data_scope(client):
    body = {"stages": ["pending_funding"]}
    lead = (await client.post("/campaigns/audience/preview", json=body, headers=LEAD_A)).json()
    assert lead["size"] == 4 and [s["customer_id"] for s in lead["sample"]] == ["C1", "C2", "C3", "C4"]
    assert lead["sample"][0] == {"customer_id": "C1", "stage": "pending_funding", "user_region": "HK",
                                 "channel": "web", "manager_id": "M-HK-1", "team_id": "T-HK"}
    mine = (await client.post("/campaigns/audience/preview", json=body, headers=MANAGER)).json()
    assert mine["size"] == 2 and {s["customer_id"] for s in mine["sample"]} == {"C1", "C2"}
    everyone = (await client.post("/campaigns/audience/preview", json=body, headers=AUDITOR)).json()
    assert everyone["size"] == 6
    unassigned = (await client.post("/campaigns/audience/preview", json={"assigned": False},
                                    headers=AUDITOR)).json()
    assert unassigned["size"] == 2  # C7, C8
    listed = (await client.post("/campaigns/audience/preview", json={"customer_ids": ["C5", "C1", "NOPE"]},
                                headers=AUDITOR)).json()
    assert [s["customer_id"] for s in listed["sample"]] == ["C1", "C5"]
    web = (await client.post("/campaigns/audience/preview", json={"channels": ["web"], "team_ids": ["T-HK"]},
                             headers=AUDITOR)).json()
    assert [s["customer_id"] for s in web["sample"]] == ["C1", "C3"]
    tagged = (await client.post("/campaigns/audience/preview", json={"tags": ["vip", "hk-desk"]},
                                headers=AUDITOR)).json()
    assert [s["customer_id"] for s in tagged["sample"]] == ["C1", "C3", "C7"]
    vip_hk = (await client.post("/campaigns/audience/preview", json={"tags": ["vip"], "stages": ["pending_funding"]},
                                headers=LEAD_A)).json()
    assert [s["customer_id"] for s in vip_hk["sample"]] == ["C1", "C3"]


async def test_plan_review_start_and_close(client, container):
    r = await client.post("/campaigns", json=plan(), headers=LEAD_A)
    assert r.status_code == 201, r.text
    cid = r.json()["campaign_id"]
    assert r.json()["status"] == "draft" and r.json()["plan"]["team_id"] == "T-HK"
    # visible to the creator's team, not to another team's lead (404: existence not revealed)
    assert (await client.get(f"/campaigns/{cid}", headers=MANAGER)).status_code == 200
    assert (await client.get(f"/campaigns/{cid}", headers=LEAD_SG)).status_code == 404
    assert (await client.post(f"/campaigns/{cid}/review", json={"decision": "approve"},
                              headers=LEAD_B)).status_code == 409  # not submitted yet
    assert (await client.post(f"/campaigns/{cid}/submit", headers=LEAD_A)).json()["status"] == "in_review"
    r = await client.post(f"/campaigns/{cid}/review", json={"decision": "approve"}, headers=LEAD_A)
    assert r.status_code == 403 and r.json()["type"].endswith(":own_campaign")
    r = await client.post(f"/campaigns/{cid}/review", json={"decision": "approve"}, headers=MANAGER)
    assert r.status_code == 403 and r.json()["type"].endswith(":not_a_peer")
    r = await client.post(f"/campaigns/{cid}/review", json={"decision": "reject"}, headers=LEAD_B)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "comment"
    r = await client.post(f"/campaigns/{cid}/review", json={"decision": "approve", "comment": "fine"},
                          headers=LEAD_B)
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["reviewed_by"] == "LEAD-B"
    # any change after approval returns it to review
    r = await client.put(f"/campaigns/{cid}", json=plan(name="Fund pending accounts (HK)"), headers=LEAD_A)
    assert r.json()["status"] == "in_review"
    assert (await client.post(f"/campaigns/{cid}/start", headers=LEAD_A)).status_code == 409
    await client.post(f"/campaigns/{cid}/review", json={"decision": "approve"}, headers=LEAD_B)
    preview = (await client.get(f"/campaigns/{cid}/audience/preview", headers=MANAGER)).json()
    assert preview["size"] == 4 and {s["customer_id"] for s in preview["sample"]} == {"C1", "C2"}
    r = await client.post(f"/campaigns/{cid}/start", headers=LEAD_A)
    assert r.status_code == 200 and r.json()["status"] == "running" and r.json()["audience_size"] == 4
    again = await client.post(f"/campaigns/{cid}/start", headers=LEAD_A)  # a second start changes nothing
    assert again.status_code == 200 and again.json()["version"] == r.json()["version"]
    targets = (await client.get(f"/campaigns/{cid}/targets", params={"limit": 3}, headers=LEAD_A)).json()
    assert [(t["customer_id"], t["manager_id"]) for t in targets["items"]] == [
        ("C1", "M-HK-1"), ("C2", "M-HK-2"), ("C3", "M-HK-3")]  # round-robin over the team's active managers
    rest = (await client.get(f"/campaigns/{cid}/targets", params={"cursor": targets["next_cursor"]},
                             headers=LEAD_A)).json()
    assert [(t["customer_id"], t["manager_id"]) for t in rest["items"]] == [("C4", "M-HK-1")]
    assert rest["next_cursor"] is None
    assert (await client.put(f"/campaigns/{cid}", json=plan(), headers=LEAD_A)).status_code == 409

    # the scheduler closes it at its end time, once
    assert container.executor.run_once(T0 + timedelta(days=6)) == (0, 0)
    assert container.executor.run_once(T0 + timedelta(days=7)) == (0, 1)
    assert container.executor.run_once(T0 + timedelta(days=8)) == (0, 0)
    body = (await client.get(f"/campaigns/{cid}", headers=LEAD_A)).json()
    assert body["status"] == "closed" and body["audience_size"] == 4
    history = (await client.get(f"/campaigns/{cid}/history", headers=AUDITOR)).json()["items"]
    assert [h["event"] for h in history] == ["created", "submitted", "approved", "updated", "approved", "started",
                                             "targets_frozen", "closed"]
    assert history[0]["by"] == "LEAD-A" and history[2]["comment"] == "fine" and history[3]["status"] == "in_review"
    assert history[-1]["by"] is None and history[5]["audience_size"] == 4

    # published: one follow-up per target, the same ids however often the store is mapped again
    mapper = CampaignOutboxMapper(container.campaign_at)
    stored = container.app.history(cid)
    follow_ups = [o.payload for e in stored for o in mapper(e) if isinstance(o.payload, TargetFollowUpRequested)]
    assert [(f.customer_id, f.manager_id, f.channels) for f in follow_ups] == [
        ("C1", "M-HK-1", ["phone", "sms"]), ("C2", "M-HK-2", ["phone", "sms"]), ("C3", "M-HK-3", ["phone", "sms"]),
        ("C4", "M-HK-1", ["phone", "sms"])]
    again = [o.payload.follow_up_id for e in stored for o in mapper(e) if isinstance(o.payload, TargetFollowUpRequested)]
    assert again == [f.follow_up_id for f in follow_ups] and len(set(again)) == 4
    # the relay's mapper (the campaign brought forward version by version, older versions read again): the same
    relays = container.outbox_mapper()
    everything = [o.payload for e in stored for o in mapper(e)]
    assert [o.payload for e in stored for o in relays(e)] == everything
    assert [o.payload for e in stored for o in relays(e)] == everything


async def test_the_scheduler_starts_approved_campaigns_at_their_start_time(client, container):
    body = plan(start_at=(T0 + timedelta(days=1)).isoformat(), distribution="assigned_manager",
                audience={"customer_ids": ["C1", "C5", "C7"]})
    cid = (await client.post("/campaigns", json=body, headers=headers("admin", "admin-1", None))).json()["campaign_id"]
    await client.post(f"/campaigns/{cid}/submit", headers=headers("admin", "admin-1", None))
    await client.post(f"/campaigns/{cid}/review", json={"decision": "approve"}, headers=headers("admin", "admin-2", None))
    assert container.executor.run_once(T0) == (0, 0)
    assert container.executor.run_once(T0 + timedelta(days=1)) == (1, 0)
    assert container.executor.run_once(T0 + timedelta(days=1, hours=1)) == (0, 0)
    assert (await client.get(f"/campaigns/{cid}/targets", headers=LEAD_A)).status_code == 404  # not their team's
    targets = (await client.get(f"/campaigns/{cid}/targets", headers=AUDITOR)).json()
    assert [(t["customer_id"], t["manager_id"], t["team_id"]) for t in targets["items"]] == [
        ("C1", "M-HK-1", "T-HK"), ("C5", "M-SG-1", "T-SG"), ("C7", None, "T-HK")]  # unassigned: the team's queue


async def test_list_is_scoped_and_keyset_paged(client):
    for i in range(3):
        await client.post("/campaigns", json=plan(name=f"HK {i}"), headers=LEAD_A)
    await client.post("/campaigns", json=plan(name="SG", team_id="T-SG"), headers=LEAD_SG)
    first = (await client.get("/campaigns", params={"limit": 2}, headers=LEAD_B)).json()
    second = (await client.get("/campaigns", params={"cursor": first["next_cursor"]}, headers=LEAD_B)).json()
    names = [i["name"] for i in first["items"] + second["items"]]
    assert sorted(names) == ["HK 0", "HK 1", "HK 2"] and len(first["items"]) == 2
    assert len((await client.get("/campaigns", headers=AUDITOR)).json()["items"]) == 4
    assert (await client.get("/campaigns", params={"status": "approved"}, headers=AUDITOR)).json()["items"] == []
    r = await client.get("/campaigns", params={"cursor": "forged"}, headers=AUDITOR)
    assert r.status_code == 422


async def test_the_demo_staff_plans_a_campaign_an_hour_that_a_peer_approves(client, container):
    campaign_id = await seed_campaigns.run_one(client, 0, AUTH)
    assert campaign_id is not None
    assert await seed_campaigns.run_one(client, 0, AUTH) is None  # this hour's exists
    body = (await client.get(f"/campaigns/{campaign_id}", headers=LEAD_A)).json()
    assert body["status"] == "approved" and body["reviewed_by"] == seed_campaigns.PEER
    container.executor.run_once()  # the scheduler: its start time has come
    body = (await client.get(f"/campaigns/{campaign_id}", headers=LEAD_A)).json()
    with container.sessions() as s:  # C1..C4: pending funding, in T-HK; 10% of the audience held out
        held = s.scalar(select(func.count()).select_from(holdout).where(holdout.c.campaign_id == campaign_id))
    assert body["status"] == "running" and body["audience_size"] + held == 4 and body["plan"]["control_pct"] == 10


async def test_a_retried_create_with_its_idempotency_key_makes_one_campaign(client):
    key = {"Idempotency-Key": "create-campaign-1"}
    first = await client.post("/campaigns", json=plan(name="Once"), headers={**LEAD_A, **key})
    again = await client.post("/campaigns", json=plan(name="Once"), headers={**LEAD_A, **key})
    assert first.status_code == again.status_code == 201
    assert first.json()["campaign_id"] == again.json()["campaign_id"]
    other = await client.post("/campaigns", json=plan(name="Twice"), headers={**LEAD_A, **key})
    assert other.status_code == 422  # another body with the same key
    items = (await client.get("/campaigns", headers=LEAD_A)).json()["items"]
    assert [i["name"] for i in items] == ["Once"]
