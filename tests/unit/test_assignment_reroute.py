"""Reclaim re-routing: the rule engine's `reroute` (the losing manager excluded unless nobody else is
eligible) and the reclaimer following each team's `reclaim_policy` on a local SQLite store (no network):
reason `reroute`, the decision's inputs, loads and capacity, no double routing on a re-run, `pool` queueing in
the losing team's pool, replay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.assignment.consumers import apply_customer_events
from services.assignment.domain.errors import Invalid
from services.assignment.domain.rules import CustomerFacts, Rule, TeamView, reroute
from services.assignment.projections import tables as t
from shared.events import registry
from shared.events.crm_customer import SegmentMembershipChanged
from tests.unit import test_assignment_commands as base
from tests.unit.test_assignment_commands import ADMIN, T0, add_customers, load, published, slots
from tests.unit.test_assignment_rules import cand

clock, svc = base.clock, base.svc  # the fixtures: a fake clock, a service on a local SQLite store


def team_rule() -> Rule:
    return Rule.from_dict({"rule_id": "r", "version": 1, "position": 1, "team_id": "T1"})


TEAMS = {"T1": TeamView("T1", ("m1", "m2"), None)}


def test_reroute_never_picks_the_manager_who_lost_the_customer():
    d = reroute(CustomerFacts("c1"), [team_rule()], TEAMS, {"m1": cand("m1"), "m2": cand("m2")}, "m1")
    assert (d.manager_id, d.reason, d.rule_id) == ("m2", "reroute", "r")
    assert d.inputs["excluded_manager"] == "m1" and d.inputs["fallback_to_previous"] is False


def test_reroute_falls_back_to_the_loser_only_when_nobody_else_is_eligible():
    for other in (cand("m2", status="absent"), cand("m2", capacity=3, load=3), None):
        d = reroute(CustomerFacts("c1"), [team_rule()], TEAMS, {"m1": cand("m1"), "m2": other}, "m1")
        assert (d.manager_id, d.reason) == ("m1", "reroute")
        assert d.inputs["fallback_to_previous"] is True
    d = reroute(CustomerFacts("c1"), [team_rule()], TEAMS,
                {"m1": cand("m1", status="absent"), "m2": cand("m2", status="absent")}, "m1")
    assert (d.manager_id, d.reason) == (None, "pool")
    assert d.inputs["excluded_manager"] == "m1" and d.inputs["fallback_to_previous"] is False


def test_a_referral_code_of_the_loser_does_not_bring_the_customer_back():
    d = reroute(CustomerFacts("c1", referral_code="QR"), [team_rule()], TEAMS, {"m1": cand("m1"), "m2": cand("m2")},
                "m1", referral_manager_id="m1")
    assert d.manager_id == "m2" and "referral_code manager m1: excluded" in d.inputs["skipped"]


def org(svc, *, policy: str | None, m2: dict | None = None):
    svc.admin.create_team(ADMIN, team_id="T1", name="HK desk", leader_id=None, protection_days=7, at=T0,
                          reclaim_policy=policy)
    for mid in ("m1", "m2"):
        svc.admin.create_manager(ADMIN, manager_id=mid, name=f"Manager {mid}", position="AM", team_id="T1",
                                 regions=["HK"], languages=["zh"], capacity=(m2 or {}).get("capacity", 10)
                                 if mid == "m2" else 10, referral_code=None, at=T0)
    if m2 and "status" in m2:
        svc.admin.edit_manager(ADMIN, "m2", {"status": m2["status"]}, T0)
    svc.admin.save_rule(ADMIN, "r", {"position": 1, "team_id": "T1"}, T0)
    add_customers(svc, ["c1", "c2"])
    svc.assigner.assign(ADMIN, ["c1", "c2"], "m1")


def expire(svc, clock) -> int:
    clock.advance(days=7, seconds=svc.settings.reclaim_grace_s + 1)
    return svc.reclaimer.run_once()


def why(svc, customer_id: str) -> dict:
    with svc.sessions() as s:
        return dict(s.execute(select(t.assignments).where(t.assignments.c.customer_id == customer_id))
                    .mappings().one())


def kinds(svc) -> list[tuple[str, str, str]]:
    return [(type(p).__name__, p.customer_id, str(p.reason)) for p in published(svc)
            if type(p).__name__ in ("CustomerAssigned", "CustomerUnassigned")]


def test_reroute_policy_routes_reclaimed_customers_to_another_manager_once(svc, clock):
    org(svc, policy="reroute")
    assert expire(svc, clock) == 2
    assert slots(svc) == {("c1", "*"): "m2", ("c2", "*"): "m2"}
    row = why(svc, "c1")
    assert (row["reason"], row["rule_id"]) == ("reroute", "r")
    assert row["inputs"]["excluded_manager"] == "m1" and row["inputs"]["fallback_to_previous"] is False
    assert row["inputs"]["channel"] == "organic"  # the customer directory's facts were routed
    assert (load(svc, "m1"), load(svc, "m2")) == (0, 2)
    events = kinds(svc)
    assert events[-4:] == [("CustomerUnassigned", "c1", "reclaimed"), ("CustomerAssigned", "c1", "reroute"),
                           ("CustomerUnassigned", "c2", "reclaimed"), ("CustomerAssigned", "c2", "reroute")]
    assert svc.reclaimer.run_once() == 0 and kinds(svc) == events  # a re-run routes nothing twice
    with svc.sessions() as s:
        assert s.scalar(select(t.managers.c.load).where(t.managers.c.manager_id == "m2")) == 2


def test_only_the_loser_eligible_falls_back_to_them(svc, clock):
    org(svc, policy="reroute", m2={"status": "absent"})
    assert expire(svc, clock) == 2
    assert slots(svc) == {("c1", "*"): "m1", ("c2", "*"): "m1"}
    assert why(svc, "c1")["inputs"]["fallback_to_previous"] is True
    assert load(svc, "m1") == 2  # released and taken again: counted once


def test_reroute_never_exceeds_the_capacity_of_the_other_managers(svc, clock):
    org(svc, policy="reroute", m2={"capacity": 1})
    assert expire(svc, clock) == 2
    assert sorted(slots(svc).values()) == ["m1", "m2"]  # m2 took one (full), the other fell back to m1
    assert (load(svc, "m1"), load(svc, "m2")) == (1, 1)


def test_pool_policy_and_the_default_queue_reclaimed_customers_in_the_losing_teams_pool(svc, clock):
    org(svc, policy=None)  # the service default: pool
    svc.assigner.assign(ADMIN, ["c1"], "m2", stage="funded")  # a stage slot: back to the general pool
    assert svc.reclaimer.default_policy == "pool"
    assert expire(svc, clock) == 3
    assert slots(svc) == {} and load(svc, "m1") == load(svc, "m2") == 0
    assert not [k for k in kinds(svc) if k[2] == "reroute"]
    queued = [p for p in published(svc) if type(p).__name__ == "CustomerQueued"]
    assert sorted((p.customer_id, p.team_id, p.rule_inputs["reclaimed_from"]) for p in queued) == [
        ("c1", "T1", "m1"), ("c2", "T1", "m1")]  # once each, though c1 lost two slots
    assert svc.reclaimer.run_once() == 0
    assert len([p for p in published(svc) if type(p).__name__ == "CustomerQueued"]) == 2


def test_a_team_edit_switches_the_policy_and_the_rebuild_gives_the_same_rows(svc, clock):
    org(svc, policy="pool")
    assert svc.admin.edit_team(ADMIN, "T1", {"reclaim_policy": "reroute"}, T0)["reclaim_policy"] == "reroute"
    with pytest.raises(Invalid) as err:
        svc.admin.edit_team(ADMIN, "T1", {"reclaim_policy": "elsewhere"}, T0)
    assert err.value.field == "reclaim_policy"
    assert expire(svc, clock) == 2

    def dump():
        with svc.sessions() as s:
            return {tbl.name: sorted(tuple(str(v) for v in r) for r in s.execute(select(tbl)))
                    for tbl in (t.assignments, t.history, t.managers, t.teams)}

    before = dump()
    assert svc.rebuild_read_model() > 0
    assert dump() == before
    assert ("T1", "reroute") in {(r[0], r[4]) for r in before["asg_team"]}


def membership(customer_id: str, segment_id: str, member: bool, hours: int):
    payload = SegmentMembershipChanged(segment_id=segment_id, customer_id=customer_id, member=member,
                                       as_of=T0 + timedelta(hours=hours))
    return registry.decode(registry.envelope(payload, producer="test").model_dump(mode="json"))


def test_reroute_matches_the_segments_the_customer_is_in_now(svc, clock):
    """A reclaimed customer is routed again with its segments as they are now (the customer service's
    membership facts), not those of its registration: c1 entered VIP after it was assigned, c2 entered and
    left it (the older fact delivered last changes nothing), c3 has no membership known (its slot's stand)."""
    svc.admin.create_team(ADMIN, team_id="T2", name="VIP desk", leader_id=None, protection_days=7, at=T0)
    svc.admin.create_manager(ADMIN, manager_id="m3", name="Manager m3", position="AM", team_id="T2",
                             regions=["HK"], languages=["zh"], capacity=10, referral_code=None, at=T0)
    org(svc, policy="reroute")
    svc.admin.save_rule(ADMIN, "vip", {"position": 0, "team_id": "T2", "segments": ["VIP"]}, T0)
    add_customers(svc, ["c3"])
    svc.assigner.assign(ADMIN, ["c3"], "m1")
    left, entered = membership("c2", "VIP", False, 2), membership("c2", "VIP", True, 1)
    for batch in ([membership("c1", "VIP", True, 1), membership("c1", "OTHER", False, 1), left], [entered]):
        with svc.sessions.begin() as s:
            apply_customer_events(s, batch)
    with svc.sessions.begin() as s:  # a re-delivery changes nothing
        apply_customer_events(s, [left, entered])
    facts = svc.reclaimer.directory.routing_facts(["c1", "c2", "c3"])
    assert (facts["c1"]["segments"], facts["c2"]["segments"], "segments" in facts["c3"]) == (["VIP"], [], False)
    assert expire(svc, clock) == 3
    assert slots(svc) == {("c1", "*"): "m3", ("c2", "*"): "m2", ("c3", "*"): "m2"}
    assert (why(svc, "c1")["rule_id"], why(svc, "c2")["rule_id"]) == ("vip", "r")
    assert why(svc, "c1")["inputs"]["segments"] == ["VIP"]
