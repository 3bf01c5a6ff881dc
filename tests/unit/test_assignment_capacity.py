"""Load against capacity: the pure totals, `GET /teams/capacity`, `GET /teams/{id}/capacity` and the managers'
idle / utilisation (in-process API on SQLite, data scope, 404 outside it, 422 on a bad reclaim policy), and a
hand-over that never exceeds the target's capacity when it filled up meanwhile, nor an unmerge its owner's."""

from __future__ import annotations

import pytest

from services.assignment.domain.capacity import manager_capacity, team_totals
from tests.unit import test_assignment_api as api
from tests.unit import test_assignment_commands as base
from tests.unit.test_assignment_api import token
from tests.unit.test_assignment_commands import ADMIN, add_customers, load, setup_org, slots

svc, client, clock = api.svc, api.client, base.clock  # fixtures


def test_totals_count_active_capacity_and_leave_resigned_managers_out():
    rows = [{"load": 3, "capacity": 4, "status": "active"}, {"load": 5, "capacity": 4, "status": "active"},
            {"load": 2, "capacity": 10, "status": "absent"}, {"load": 0, "capacity": 9, "status": "resigned"}]
    assert team_totals(rows) == {"managers": 3, "active_managers": 2, "load": 10, "capacity": 8, "idle": 1,
                                 "utilisation": 1.0}
    assert manager_capacity(5, 4, "active") == {"idle": 0, "utilisation": 1.25}  # capacity lowered under load
    assert manager_capacity(1, 4, "absent") == {"idle": 0, "utilisation": 0.25}
    assert manager_capacity(0, 0, "active") == {"idle": 0, "utilisation": None}
    assert team_totals([])["utilisation"] is None


@pytest.mark.asyncio
async def test_capacity_views_follow_assignments_and_data_scope(svc, client):
    admin = await api.org(svc, client)  # m1 in T1, m2 in T2, capacity 3 each
    r = await client.post("/assignments/bulk", json={"customer_ids": ["c0", "c1"], "manager_id": "m1"},
                          headers=admin)
    assert r.json()["counts"]["assigned"] == 2
    r = await client.get("/teams/T1/capacity", headers=admin)
    assert r.status_code == 200
    body = r.json()
    assert body["totals"] == {"managers": 1, "active_managers": 1, "load": 2, "capacity": 3, "idle": 1,
                              "utilisation": 0.6667}
    assert [(m["manager_id"], m["load"], m["idle"]) for m in body["managers"]] == [("m1", 2, 1)]
    r = await client.get("/teams/capacity", headers=admin)
    assert [(x["team_id"], x["name"], x["load"], x["idle"]) for x in r.json()["items"]] == [
        ("T1", "desk T1", 2, 1), ("T2", "desk T2", 0, 3)]
    r = await client.get("/managers/m1", headers=admin)
    assert (r.json()["idle"], r.json()["utilisation"]) == (1, 0.6667)
    lead = token(svc, "team_lead", "lead-2", team_id="T2")
    assert [x["team_id"] for x in (await client.get("/teams/capacity", headers=lead)).json()["items"]] == ["T2"]
    assert (await client.get("/teams/T1/capacity", headers=lead)).status_code == 404
    assert (await client.get("/teams/T9/capacity", headers=admin)).status_code == 404
    assert (await client.get("/teams/capacity")).status_code == 401
    r = await client.patch("/teams/T1", json={"reclaim_policy": "elsewhere"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reclaim_policy"
    r = await client.patch("/teams/T1", json={"reclaim_policy": "reroute"}, headers=admin)
    assert r.status_code == 200 and r.json()["reclaim_policy"] == "reroute"
    assert (await client.get("/teams/T1", headers=admin)).json()["reclaim_policy"] == "reroute"


def test_a_handover_never_exceeds_the_capacity_the_target_has_left_when_it_runs(tmp_path, clock, monkeypatch):
    c = base.bootstrap(base.settings_for(tmp_path), clock=clock)
    try:
        setup_org(c)  # m3 (T2): capacity 2
        add_customers(c, ["a", "b", "x"])
        c.assigner.assign(ADMIN, ["a", "b"], "m1")
        listed = c.directory.holdings
        monkeypatch.setattr(c.directory, "holdings", lambda *a, **k: [])  # the read model lags at resign time
        c.assigner.handover_wait_s = 0
        assert c.assigner.resign(ADMIN, "m1", "manager", "m3")["pending"] == 2  # m3 could take both then
        c.assigner.assign(ADMIN, ["x"], "m3")  # ... but now has room for one only
        monkeypatch.setattr(c.directory, "holdings", listed)
        assert c.assigner.sweep_handovers() == 2
        held = slots(c)
        assert sorted(held.values()) == ["m3", "m3"] and ("x", "*") in held  # one handed over, one to the pool
        assert (load(c, "m3"), load(c, "m1")) == (2, 0)
    finally:
        c.engine.dispose()
        c.app.close()


def test_an_unmerge_never_gives_an_owner_back_beyond_their_capacity(tmp_path, clock):
    from shared.events.crm_customer import CustomerUnmerged
    from tests.unit.test_assignment_merge import ev, merged
    from tests.unit.test_assignment_owner_change import route

    c = base.bootstrap(base.settings_for(tmp_path), clock=clock)
    try:
        setup_org(c)  # m3: capacity 2
        add_customers(c, ["old", "new", "b", "d"])
        c.assigner.assign(ADMIN, ["old"], "m1")
        c.assigner.assign(ADMIN, ["new"], "m3")
        route(c, merged(at=clock.now()))  # the survivor keeps m1; m3 released
        c.assigner.assign(ADMIN, ["b", "d"], "m3")  # m3 full again
        clock.advance(hours=1)
        route(c, ev(CustomerUnmerged(survivor_id="old", merged_id="new", unmerged_at=clock.now())))
        assert ("new", "*") not in slots(c)  # m3 cannot take it back: it waits in the pool
        assert load(c, "m3") == 2
    finally:
        c.engine.dispose()
        c.app.close()
