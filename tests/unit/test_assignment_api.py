"""Assignment API in-process (SQLite, no broker): permissions, data scope, problem+json, why-answers."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from services.assignment.bootstrap import bootstrap
from services.assignment.consumers import apply_customer_events
from services.assignment.domain.clock import FakeClock
from services.assignment.settings import AssignmentSettings
from shared.events import registry
from shared.events.crm_customer import CustomerOnboarded
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture()
def svc(tmp_path):
    auth = AuthSettings(jwt_secret=SecretStr("unit-test-secret-unit-test-secret"))
    c = bootstrap(AssignmentSettings(database_url=f"sqlite:///{tmp_path / 'rm.db'}",
                                     auth=auth,
                                     handover_wait_s=2.0), clock=FakeClock(T0))
    with c.sessions.begin() as s:
        apply_customer_events(s, [registry.decode(registry.envelope(
            CustomerOnboarded(customer_id=f"c{i}", registered_at=T0, channel="organic"), producer="test"
        ).model_dump(mode="json")) for i in range(6)])
    yield c
    c.engine.dispose()
    c.app.close()


def token(svc, role, user="u1", **kw):
    return {"Authorization": "Bearer " + mint_token(svc.settings.auth, user_id=user, role=role, **kw)}


@pytest.fixture()
async def client(svc):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.api), base_url="http://t") as cl:
        yield cl


async def org(svc, client):
    admin = token(svc, "admin", "admin-1")
    for team in ("T1", "T2"):
        r = await client.post("/teams", json={"team_id": team, "name": f"desk {team}", "protection_days": 5},
                              headers=admin)
        assert r.status_code == 201, r.text
    for mid, team in (("m1", "T1"), ("m2", "T2")):
        r = await client.post("/managers", json={"manager_id": mid, "name": f"AM {mid}", "team_id": team,
                                                 "regions": ["HK"], "languages": ["zh-HK"], "capacity": 3},
                              headers=admin)
        assert r.status_code == 201, r.text
    return admin


async def test_auth_and_permissions(svc, client):
    assert (await client.get("/managers")).status_code == 401
    r = await client.post("/assignments", json={"customer_id": "c1", "manager_id": "m1"},
                          headers=token(svc, "manager", "m1", team_id="T1"))
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.post("/ops/reclaim", headers=token(svc, "admin"))
    assert r.status_code == 403
    r = await client.post("/ops/reclaim", headers=token(svc, "operator"))
    assert r.status_code == 200 and r.json() == {"reclaimed": 0, "handed_over": 0}


async def test_invalid_payloads_are_422_naming_the_field(svc, client):
    admin = token(svc, "admin")
    r = await client.post("/managers", json={"manager_id": "m1", "name": "x", "capacity": -1}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "capacity"
    r = await client.post("/assignments/bulk", json={"customer_ids": [], "manager_id": "m1"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer_ids"
    r = await client.post("/assignments", json={"customer_id": "c1", "manager_id": "m1", "share": "1.5"},
                          headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "share"
    r = await client.put("/rules/r1", json={"position": 1, "strategy": "random", "team_id": "T1"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "strategy"


async def test_assign_read_why_and_scope(svc, client):
    admin = await org(svc, client)
    r = await client.post("/assignments", json={"customer_id": "c1", "manager_id": "m9"}, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "manager_id" and r.json()["code"] == "unknown_manager"
    r = await client.post("/assignments", json={"customer_id": "nope", "manager_id": "m1"}, headers=admin)
    assert r.status_code == 404 and r.json()["code"] == "unknown_customer"
    r = await client.post("/assignments", json={"customer_id": "c1", "manager_id": "m1", "stage": "funded",
                                                "share": "0.5"}, headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "assigned"
    r = await client.get("/customers/c1/assignments", headers=token(svc, "team_lead", "lead-1", team_id="T1"))
    assert r.status_code == 200
    [slot] = r.json()["slots"]
    assert (slot["manager_id"], slot["team_id"], slot["stage"], slot["share"], slot["reason"]) == (
        "m1", "T1", "funded", "0.5", "manual")
    assert slot["protection_expires_at"].startswith("2026-03-07T09:00")
    # another team's lead neither sees it nor may take it
    lead2 = token(svc, "team_lead", "lead-2", team_id="T2")
    assert (await client.get("/customers/c1/assignments", headers=lead2)).status_code == 404
    assert (await client.get("/customers/c1/assignment-history", headers=lead2)).status_code == 404
    r = await client.post("/assignments", json={"customer_id": "c1", "manager_id": "m2", "stage": "funded"},
                          headers=lead2)
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"
    r = await client.post("/assignments", json={"customer_id": "c2", "manager_id": "m1"}, headers=lead2)
    assert r.status_code == 403  # m1 is not in lead-2's team
    # own scope: a manager sees their own customers only
    r = await client.get("/assignments", headers=token(svc, "manager", "m2", team_id="T2"))
    assert r.status_code == 200 and r.json()["items"] == []
    r = await client.get("/assignments", headers=token(svc, "manager", "m1", team_id="T1"))
    assert [i["customer_id"] for i in r.json()["items"]] == ["c1"]
    # back to the pool: the team that held it still sees its history, the other team still does not
    r = await client.post("/assignments/unassign", json={"customer_id": "c1", "stage": "funded"}, headers=admin)
    assert r.status_code == 200 and r.json()["unassigned"] == [{"stage": "funded", "manager_id": "m1"}]
    lead1 = token(svc, "team_lead", "lead-1", team_id="T1")
    r = await client.get("/customers/c1/assignment-history", headers=lead1)
    assert [(h["action"], h["reason"]) for h in r.json()["items"]] == [("assigned", "manual"), ("unassigned", "manual")]
    assert (await client.get("/customers/c1/assignment-history", headers=lead2)).status_code == 404
    r = await client.get("/customers/c1/assignments", headers=lead1)
    assert r.json() == {"customer_id": "c1", "in_pool": True, "slots": []}
    r = await client.post("/assignments/unassign", json={"customer_id": "c1"}, headers=admin)
    assert r.status_code == 404


async def test_bulk_over_capacity_rules_and_resign(svc, client):
    admin = await org(svc, client)
    r = await client.post("/assignments/bulk", json={"customer_ids": ["c0", "c1", "c2", "c3", "zz"],
                                                     "manager_id": "m1"}, headers=admin)
    body = r.json()
    assert r.status_code == 200 and body["counts"] == {"assigned": 3, "rejected": 2}
    assert [x["code"] for x in body["results"] if x["status"] == "rejected"] == ["over_capacity", "unknown_customer"]
    r = await client.put("/rules/hk", json={"position": 5, "team_id": "T1", "regions": ["HK"]}, headers=admin)
    assert r.status_code == 200 and r.json()["version"] == 1
    r = await client.put("/rules/hk", json={"position": 5, "team_id": "T2", "regions": ["HK"]}, headers=admin)
    assert r.json()["version"] == 2
    r = await client.put("/rules/hk", json={"position": 5, "team_id": "T2"},
                         headers=token(svc, "team_lead", "lead-2", team_id="T2"))
    assert r.status_code == 403
    r = await client.post("/managers/m1/resign", json={"handover": "manager", "to_manager_id": "m2"}, headers=admin)
    assert r.status_code == 200 and r.json()["handed_over"] == 3 and r.json()["pending"] == 0
    r = await client.post("/assignments", json={"customer_id": "c5", "manager_id": "m1"}, headers=admin)
    assert r.status_code == 409 and r.json()["code"] == "manager_resigned"
    r = await client.patch("/teams/T2", json={"leader_id": "lead-2", "protection_days": 9}, headers=admin)
    assert r.status_code == 200 and r.json()["protection_days"] == 9
    r = await client.patch("/teams/T2", json={"protection_days": 0}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "protection_days"
    r = await client.get("/teams", params={"leader_id": "lead-2"}, headers=admin)
    assert [x["team_id"] for x in r.json()["items"]] == ["T2"]
    r = await client.get("/teams/T2", headers=token(svc, "team_lead", "lead-1", team_id="T1"))
    assert r.status_code == 404
    r = await client.get("/rules/hk/versions", headers=admin)
    assert [v["definition"]["team_id"] for v in r.json()["items"]] == ["T1", "T2"]
    r = await client.get("/managers", params={"limit": 1}, headers=admin)
    assert len(r.json()["items"]) == 1 and r.json()["next_cursor"]
    r2 = await client.get("/managers", params={"limit": 1, "cursor": r.json()["next_cursor"]}, headers=admin)
    assert r2.json()["items"][0]["manager_id"] == "m2" and r2.json()["items"][0]["load"] == 3
    r = await client.get("/customers/c0/assignment-history", headers=admin)
    assert [(h["action"], h["manager_id"], h["reason"]) for h in r.json()["items"]] == [
        ("assigned", "m1", "bulk"), ("assigned", "m2", "handover")]
