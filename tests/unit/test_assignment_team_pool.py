"""Step-by-step allocation: a rule with `allocation: team_pool` queues a registered customer in its team's pool
(`customer_queued`, SLA due time from the team's setting or the service default); the lead distributes to a
manager of the team (`customer_assigned` reason `team_pool`, capacity and status as a manual assignment); any
other assignment or a merge takes it out of the queue; the SLA breach is published once; replay gives the same
rows (local SQLite, no network)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.assignment.domain.errors import Invalid
from services.assignment.domain.rules import CustomerFacts, Rule, TeamView
from services.assignment.domain.rules import route as decide
from services.assignment.domain.scope import Actor
from services.assignment.projections import tables as t
from services.assignment.scheduler import POOL_BREACHED, POOL_WAITING
from shared.events.crm_assignment import CustomerAssigned, CustomerQueued, PoolSlaBreached
from tests.unit import test_assignment_commands as cmd
from tests.unit.test_assignment_commands import (
    ADMIN,
    T0,
    add_customers,
    load,
    published,
    registered,
    setup_org,
    slots,
)
from tests.unit.test_assignment_merge import merged
from tests.unit.test_assignment_owner_change import route

clock = pytest.fixture(cmd.clock.__wrapped__, name="clock")
svc = pytest.fixture(cmd.svc.__wrapped__, name="svc")
LEAD1 = Actor("lead-1", "team", ("T1",))


def pool(svc):
    with svc.sessions() as s:
        return {r.customer_id: dict(r._mapping) for r in s.execute(select(t.team_pool))}


def pool_rule(svc, team="T1", **kw):
    svc.admin.save_rule(ADMIN, "hk-pool", {"position": 1, "team_id": team, "allocation": "team_pool",
                                           "regions": ["HK"], **kw}, T0)


def test_the_rule_engine_queues_in_the_team_pool_and_skips_an_unknown_team():
    facts = CustomerFacts("c1", channel="organic", user_region="HK")
    rules = [Rule("gone", 1, 0, team_id="TX", allocation="team_pool"),
             Rule("p", 2, 1, team_id="T1", allocation="team_pool", regions=("hk",))]
    d = decide(facts, rules, {"T1": TeamView("T1", ("m1",))}, {})
    assert (d.manager_id, d.team_id, d.reason, d.rule_id, d.rule_version) == (None, "T1", "team_pool", "p", 2)
    assert d.inputs["skipped"] == ["rule gone v1: unknown team"] and d.inputs["allocation"] == "team_pool"


def test_rules_allocating_to_a_pool_need_a_team(svc):
    setup_org(svc)
    with pytest.raises(Invalid) as e:
        svc.admin.save_rule(ADMIN, "r", {"position": 1, "manager_id": "m1", "allocation": "team_pool"}, T0)
    assert e.value.field == "allocation"
    with pytest.raises(Invalid) as e:
        svc.admin.save_rule(ADMIN, "r", {"position": 1, "team_id": "T1", "allocation": "sideways"}, T0)
    assert e.value.field == "allocation"


def test_registration_is_queued_then_the_lead_distributes_it(svc, clock):
    setup_org(svc)
    svc.admin.edit_team(ADMIN, "T1", {"pool_sla_minutes": 30}, T0)
    pool_rule(svc)
    add_customers(svc, ["c1", "c2", "c3"], user_region="HK")
    route(svc, *(registered(c, user_region="HK") for c in ("c1", "c2", "c3")))
    assert slots(svc) == {} and load(svc, "m1") == 0  # nobody owns them yet
    queued = [e for e in published(svc) if isinstance(e, CustomerQueued)]
    assert [(q.customer_id, q.team_id, q.rule_id, q.sla_due_at - q.queued_at) for q in queued] == [
        (c, "T1", "hk-pool", timedelta(minutes=30)) for c in ("c1", "c2", "c3")]
    assert set(pool(svc)) == {"c1", "c2", "c3"}
    # a re-delivered (or second) registration does not queue it again
    n = len(published(svc))
    route(svc, registered("c1", user_region="HK"))
    assert len(published(svc)) == n
    # the lead distributes: only to their team's managers, only customers queued in their pool
    with pytest.raises(Invalid) as e:  # m3 is in T2
        svc.assigner.assign(ADMIN, ["c1"], "m3", reason="team_pool", from_pool="T1")
    assert e.value.code == "not_in_team"
    clock.advance(minutes=10)
    out = svc.assigner.assign(LEAD1, ["c1", "c2", "nope"], "m1", reason="team_pool", from_pool="T1")
    assert [(r.customer_id, r.status, r.code) for r in out] == [
        ("c1", "assigned", None), ("c2", "assigned", None), ("nope", "rejected", "unknown_customer")]
    again = svc.assigner.assign(LEAD1, ["c1"], "m2", reason="team_pool", from_pool="T1")
    assert (again[0].status, again[0].code) == ("rejected", "not_queued")
    assigned = [e for e in published(svc) if isinstance(e, CustomerAssigned)]
    assert [(a.customer_id, a.manager_id, a.team_id, a.reason) for a in assigned] == [
        ("c1", "m1", "T1", "team_pool"), ("c2", "m1", "T1", "team_pool")]
    assert assigned[0].rule_inputs["rule_id"] == "hk-pool" and load(svc, "m1") == 2
    assert set(pool(svc)) == {"c3"}
    # a manual assignment by other means takes the customer out of the queue too
    svc.assigner.assign(ADMIN, ["c3"], "m3")
    assert pool(svc) == {} and slots(svc)[("c3", "*")] == "m3"


def test_distribution_honours_capacity_and_manager_status(svc):
    setup_org(svc)
    pool_rule(svc, team="T2")
    add_customers(svc, ["a", "b", "c"], user_region="HK")
    route(svc, *(registered(c, user_region="HK") for c in ("a", "b", "c")))
    out = svc.assigner.assign(Actor("lead-2", "team", ("T2",)), ["a", "b", "c"], "m3", reason="team_pool",
                              from_pool="T2")
    assert [(r.status, r.code) for r in out] == [("assigned", None), ("assigned", None),
                                                 ("rejected", "over_capacity")]  # m3 holds 2 at most
    assert set(pool(svc)) == {"c"}
    with pytest.raises(Exception) as e:  # another team's pool is outside lead-1's scope
        svc.assigner.assign(LEAD1, ["c"], "m3", reason="team_pool", from_pool="T2")
    assert e.value.status == 403


def test_sla_breach_is_recorded_once_and_the_gauges_follow(svc, clock):
    setup_org(svc)
    pool_rule(svc)  # T1 has no SLA of its own: the service default (240 minutes)
    add_customers(svc, ["c1", "c2"], user_region="HK")
    route(svc, registered("c1", user_region="HK"))
    clock.advance(minutes=100)
    route(svc, registered("c2", user_region="HK"))
    assert svc.pool_sla.run_once(clock.now()) == 0
    assert POOL_WAITING.labels("T1")._value.get() == 2 and POOL_BREACHED.labels("T1")._value.get() == 0
    clock.advance(minutes=141)  # c1 waited 241 minutes, c2 141
    assert svc.pool_sla.run_once(clock.now()) == 1
    assert svc.pool_sla.run_once(clock.now()) == 0  # once
    asyncio.run(svc.scheduler.tick())  # the worker's scheduler runs the same pass: still once
    [b] = [e for e in published(svc) if isinstance(e, PoolSlaBreached)]
    assert (b.customer_id, b.team_id, b.sla_due_at) == ("c1", "T1", T0 + timedelta(minutes=240))
    assert pool(svc)["c1"]["breached_at"] is not None and pool(svc)["c2"]["breached_at"] is None
    assert POOL_BREACHED.labels("T1")._value.get() == 1
    svc.assigner.assign(LEAD1, ["c1", "c2"], "m2", reason="team_pool", from_pool="T1")
    svc.pool_sla.run_once(clock.now())
    assert POOL_WAITING.labels("T1")._value.get() == 0  # an emptied pool reads 0


def test_a_merge_takes_the_customer_out_of_the_pool(svc, clock):
    setup_org(svc)
    pool_rule(svc)
    add_customers(svc, ["old", "new"], user_region="HK")
    route(svc, registered("new", user_region="HK"))
    assert set(pool(svc)) == {"new"}
    route(svc, merged(at=clock.now()))
    assert pool(svc) == {}


def test_rebuilding_gives_the_same_pool_rows(svc, clock):
    setup_org(svc)
    pool_rule(svc)
    add_customers(svc, [f"c{i}" for i in range(6)], user_region="HK")
    route(svc, *(registered(f"c{i}", user_region="HK") for i in range(6)))
    svc.assigner.assign(LEAD1, ["c0", "c1"], "m1", reason="team_pool", from_pool="T1")
    clock.advance(hours=5)
    svc.pool_sla.run_once(clock.now())

    def dump():
        with svc.sessions() as s:
            return {tbl.name: sorted(tuple(str(v) for v in r) for r in s.execute(select(tbl)))
                    for tbl in (t.team_pool, t.assignments, t.history, t.teams)}

    before = dump()
    assert len(before["asg_team_pool"]) == 4
    assert svc.rebuild_read_model() > 0
    assert dump() == before


@pytest.mark.asyncio
async def test_pool_api_scope_paging_and_distribution(svc, clock):
    import httpx
    from pydantic import SecretStr

    from shared.runtime.auth import mint_token
    from shared.runtime.settings import AuthSettings

    svc.settings.auth = AuthSettings(jwt_secret=SecretStr("unit-test-secret-unit-test-secret"))

    def tok(role, user, **kw):
        return {"Authorization": "Bearer " + mint_token(svc.settings.auth, user_id=user, role=role, **kw)}

    setup_org(svc)
    pool_rule(svc)
    add_customers(svc, ["c1", "c2", "c3"], user_region="HK")
    for c in ("c1", "c2", "c3"):
        route(svc, registered(c, user_region="HK"))
        clock.advance(minutes=1)
    clock.advance(minutes=237)  # c1 waited 240 minutes: at its due time
    lead1, lead2 = tok("team_lead", "lead-1", team_id="T1"), tok("team_lead", "lead-2", team_id="T2")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.create_api()), base_url="http://t") as cl:
        assert (await cl.get("/teams/T1/pool")).status_code == 401
        assert (await cl.get("/teams/T1/pool", headers=lead2)).status_code == 404  # another team's pool
        r = await cl.get("/teams/T1/pool", params={"limit": 2}, headers=lead1)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["summary"] == {"waiting": 3, "breached": 1, "oldest_wait_s": 240 * 60}
        assert body["pool_sla_minutes"] == 240
        assert [(i["customer_id"], i["waiting_s"], i["breached"]) for i in body["items"]] == [
            ("c1", 240 * 60, True), ("c2", 239 * 60, False)]
        r = await cl.get("/teams/T1/pool", params={"cursor": body["next_cursor"]}, headers=lead1)
        assert [i["customer_id"] for i in r.json()["items"]] == ["c3"] and r.json()["next_cursor"] is None
        r = await cl.get("/teams/T1/pool", params={"cursor": "forged"}, headers=lead1)
        assert r.status_code == 422
        r = await cl.post("/teams/T1/pool/distribute", json={"customer_ids": [], "manager_id": "m1"}, headers=lead1)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer_ids"
        r = await cl.post("/teams/T2/pool/distribute", json={"customer_ids": ["c1"], "manager_id": "m3"},
                          headers=lead1)
        assert r.status_code == 404
        r = await cl.post("/teams/T1/pool/distribute", json={"customer_ids": ["c1"], "manager_id": "m3"},
                          headers=tok("admin", "admin-1"))
        assert r.status_code == 422 and r.json()["code"] == "not_in_team"
        r = await cl.post("/teams/T1/pool/distribute", json={"customer_ids": ["c1", "c2"], "manager_id": "m2"},
                          headers=lead1)
        assert r.status_code == 200, r.text
        assert r.json()["counts"] == {"assigned": 2} and r.json()["team_id"] == "T1"
        r = await cl.get("/teams/T1/pool", headers=lead1)
        assert [i["customer_id"] for i in r.json()["items"]] == ["c3"]
        r = await cl.patch("/teams/T1", json={"pool_sla_minutes": 15}, headers=tok("admin", "admin-1"))
        assert r.status_code == 200 and r.json()["pool_sla_minutes"] == 15
        r = await cl.put("/rules/x", json={"position": 2, "team_id": "T1", "allocation": "nope"},
                         headers=tok("admin", "admin-1"))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "allocation"


def test_tasks_and_summary_take_nothing_from_a_queued_customer():
    """A queued customer has no owner: the tasks engine opens nothing for customer_queued / pool_sla_breached (no
    task for a manager who does not exist) and Today's Summary counts neither (it counts customer_assigned)."""
    from decimal import Decimal

    from services.summary.projections.ingest import collect
    from services.tasks.consumers import engine_relevant
    from services.tasks.domain.nodes import Policy
    from shared.events import registry

    events = [registry.decode(registry.envelope(p, producer="assignment").model_dump(mode="json")) for p in (
        CustomerQueued(customer_id="c1", team_id="T1", rule_id="r", rule_version=1, queued_at=T0,
                       sla_due_at=T0 + timedelta(minutes=30)),
        PoolSlaBreached(customer_id="c1", team_id="T1", queued_at=T0, sla_due_at=T0 + timedelta(minutes=30),
                        breached_at=T0 + timedelta(minutes=31)))]
    policy = Policy(large_withdrawal_thresholds={"USD": Decimal("10000")})
    assert [engine_relevant(e, policy) for e in events] == [False, False]
    batch = collect(events)
    assert (batch.history, batch.customers, batch.ignored) == ([], set(), 2)
