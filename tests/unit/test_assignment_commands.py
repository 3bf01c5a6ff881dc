"""Assignment commands on a local SQLite event store + read model (no network): bulk results, capacity,
scope, reassignment, unassign, routing on registration, protection period and reclaim with a fake clock,
no double reclaim across replicas, resignation hand-over, outbox mapping, read-model rebuild."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from eventsourcing.persistence import RecordConflictError
from sqlalchemy import select

from services.assignment.bootstrap import bootstrap
from services.assignment.consumers import RetryingEsHandler, apply_customer_events
from services.assignment.domain.clock import FakeClock
from services.assignment.domain.errors import Conflict, Forbidden, Invalid, NotFound
from services.assignment.domain.model import Manager, team_key
from services.assignment.domain.scope import Actor
from services.assignment.outbox import map_event
from services.assignment.projections import tables as t
from services.assignment.routing import BatchWork
from services.assignment.settings import AssignmentSettings
from shared.events import registry
from shared.events.crm_customer import CustomerOnboarded
from shared.events.crm_tasks import FollowUpRecorded

ADMIN = Actor("admin-1", "all")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def settings_for(tmp_path, name="a") -> AssignmentSettings:
    return AssignmentSettings(database_url=f"sqlite:///{tmp_path / (name + '-rm.db')}",
                              bulk_chunk_size=50,
                              handover_wait_s=2.0)


@pytest.fixture()
def clock():
    return FakeClock(T0)


@pytest.fixture()
def svc(tmp_path, clock):
    c = bootstrap(settings_for(tmp_path), clock=clock)
    yield c
    c.engine.dispose()
    c.app.close()


def registered(customer_id: str, **kw):
    payload = CustomerOnboarded(customer_id=customer_id, registered_at=T0, channel=kw.pop("channel", "organic"), **kw)
    return registry.decode(registry.envelope(payload, producer="test").model_dump(mode="json"))


def follow_up(customer_id: str, manager_id: str, at: datetime):
    payload = FollowUpRecorded(follow_up_id=uuid.uuid4().hex, customer_id=customer_id, manager_id=manager_id,
                               recorded_at=at)
    return registry.decode(registry.envelope(payload, producer="test").model_dump(mode="json"))


def add_customers(svc, ids, **kw):
    with svc.sessions.begin() as s:
        apply_customer_events(s, [registered(i, **kw) for i in ids])


def setup_org(svc):
    svc.admin.create_team(ADMIN, team_id="T1", name="HK desk", leader_id="lead-1", protection_days=7, at=T0)
    svc.admin.create_team(ADMIN, team_id="T2", name="SG desk", leader_id="lead-2", protection_days=3, at=T0)
    for mid, team, cap, code in (("m1", "T1", 100, "QR-M1"), ("m2", "T1", 100, None), ("m3", "T2", 2, None)):
        svc.admin.create_manager(ADMIN, manager_id=mid, name=f"Manager {mid}", position="AM", team_id=team,
                                 regions=["HK"], languages=["zh"], capacity=cap, referral_code=code, at=T0)


def load(svc, mid):
    return svc.app.load(Manager.create_id(mid)).load


def slots(svc):
    with svc.sessions() as s:
        return {(r.customer_id, r.stage): r.manager_id for r in s.execute(select(t.assignments))}


def published(svc):
    out = []
    for n in svc.app.process_recorder.select_notifications(start=1, limit=100_000):
        out.extend(o.payload for o in map_event(svc.app.mapper.to_domain_event(n)))
    return out


def test_bulk_assignment_reports_per_customer_and_applies_the_rest(svc):
    setup_org(svc)
    add_customers(svc, [f"c{i}" for i in range(5)])
    svc.assigner.assign(ADMIN, ["c0"], "m3")  # held by team T2
    lead = Actor("lead-1", "team", ("T1",))
    results = svc.assigner.assign(lead, ["c0", "c1", "c2", "ghost", "c1"], "m1", reason="bulk")
    by = {r.customer_id: r for r in results}
    assert [r.customer_id for r in results] == ["c0", "c1", "c2", "ghost"]  # duplicates collapsed
    assert by["c0"].code == "out_of_scope" and by["ghost"].code == "unknown_customer"
    assert by["c1"].status == by["c2"].status == "assigned"
    assert slots(svc) == {("c0", "*"): "m3", ("c1", "*"): "m1", ("c2", "*"): "m1"}
    assert (load(svc, "m1"), load(svc, "m3")) == (2, 1)
    again = svc.assigner.assign(lead, ["c1"], "m1", reason="bulk")
    assert again[0].status == "unchanged" and load(svc, "m1") == 2


def test_capacity_is_never_exceeded_and_resigned_or_unknown_managers_are_refused(svc):
    setup_org(svc)
    add_customers(svc, ["a", "b", "c"])
    results = svc.assigner.assign(ADMIN, ["a", "b", "c"], "m3")  # capacity 2
    assert [r.status for r in results] == ["assigned", "assigned", "rejected"]
    assert results[2].code == "over_capacity" and load(svc, "m3") == 2
    with pytest.raises(Invalid) as err:
        svc.assigner.assign(ADMIN, ["a"], "nobody")
    assert err.value.field == "manager_id"
    svc.assigner.resign(ADMIN, "m2", "pool", None)
    with pytest.raises(Conflict) as err:
        svc.assigner.assign(ADMIN, ["a"], "m2")
    assert err.value.code == "manager_resigned"
    with pytest.raises(Forbidden):
        svc.assigner.assign(Actor("lead-1", "team", ("T1",)), ["a"], "m3")


def test_stage_assignments_reassignment_and_unassign(svc):
    setup_org(svc)
    add_customers(svc, ["c1"])
    svc.assigner.assign(ADMIN, ["c1"], "m1", stage="registered", share=Decimal("0.6"))
    svc.assigner.assign(ADMIN, ["c1"], "m2", stage="funded", share=Decimal("0.4"))
    [r] = svc.assigner.assign(ADMIN, ["c1"], "m2", stage="registered")
    assert r.previous_manager_id == "m1"
    assert slots(svc) == {("c1", "registered"): "m2", ("c1", "funded"): "m2"}
    assert (load(svc, "m1"), load(svc, "m2")) == (0, 2)
    kinds = [(type(p).__name__, getattr(p, "reason", None)) for p in published(svc)
             if getattr(p, "customer_id", None) == "c1"]
    assert kinds[-2:] == [("CustomerUnassigned", "reassigned"), ("CustomerAssigned", "manual")]
    assigned = [p for p in published(svc) if type(p).__name__ == "CustomerAssigned"]
    assert all(p.manager_id and p.team_id == "T1" for p in assigned)
    with pytest.raises(NotFound):
        svc.assigner.unassign(Actor("m1", "own"), "c1", all_stages=True)  # m1 holds nothing now
    removed = svc.assigner.unassign(ADMIN, "c1", all_stages=True)
    assert sorted(x["stage"] for x in removed) == ["funded", "registered"]
    assert slots(svc) == {} and load(svc, "m2") == 0


def test_registration_routes_by_referral_code_then_rules_round_robin(svc):
    setup_org(svc)
    svc.admin.save_rule(ADMIN, "hk", {"position": 10, "team_id": "T1", "regions": ["HK"]}, T0)
    svc.admin.save_rule(ADMIN, "hk", {"position": 10, "team_id": "T1", "regions": ["HK"], "strategy": "round_robin",
                                      "languages": ["zh"]}, T0)  # version 2
    events = [registered("r1", referral_code="qr-m1", active_region="SG"),
              *[registered(f"h{i}", active_region="HK", language="zh-HK") for i in range(4)],
              registered("x1", active_region="US")]
    pe = svc.router.apply(events)
    svc.app.record_processed(pe, [])  # what the consumer's handler does (with tracking)
    got = slots(svc)
    assert got[("r1", "*")] == "m1"
    assert [got[(f"h{i}", "*")] for i in range(4)] == ["m1", "m2", "m1", "m2"]
    assert ("x1", "*") not in got
    with svc.sessions() as s:
        row = s.execute(select(t.assignments).where(t.assignments.c.customer_id == "h0")).mappings().one()
        pool = s.execute(select(t.history).where(t.history.c.customer_id == "x1")).mappings().one()
    assert (row["reason"], row["rule_id"], row["rule_version"]) == ("rule", "hk", 2)
    assert row["inputs"]["language"] == "zh-HK" and row["inputs"]["matched"] == "rule hk v2"
    assert pool["action"] == "left_in_pool"
    # The same registration delivered again (upstream retry) changes nothing.
    pe = svc.router.apply([events[1]])
    assert pe.events == []


def test_reclaim_after_protection_period_and_follow_up_resets_the_clock(svc, clock, tmp_path):
    setup_org(svc)
    add_customers(svc, ["keep", "lose"])
    svc.assigner.assign(ADMIN, ["keep", "lose"], "m1")  # T1: 7 days
    clock.advance(days=5)
    svc.app.record_processed(svc.router.apply([follow_up("keep", "m1", clock.now()),
                                               follow_up("lose", "m2", clock.now())]), [])  # not the holder: no reset
    clock.advance(days=2, seconds=1)  # 'lose' expired, but a follow-up may still be in flight (grace)
    assert svc.reclaimer.run_once() == 0
    clock.advance(seconds=svc.settings.reclaim_grace_s)
    assert svc.reclaimer.run_once() == 1
    assert slots(svc) == {("keep", "*"): "m1"}
    reclaimed = [p for p in published(svc) if type(p).__name__ == "CustomerUnassigned"]
    assert [(p.customer_id, p.reason.value, p.manager_id) for p in reclaimed] == [("lose", "reclaimed", "m1")]
    assert load(svc, "m1") == 1
    clock.advance(days=5)
    assert svc.reclaimer.run_once() == 1
    assert slots(svc) == {}


def test_two_replicas_never_reclaim_twice(svc, clock, tmp_path):
    setup_org(svc)
    add_customers(svc, [f"c{i}" for i in range(20)])
    svc.assigner.assign(ADMIN, [f"c{i}" for i in range(20)], "m1")
    other = bootstrap(settings_for(tmp_path), clock=clock)  # same event store and read model
    try:
        clock.advance(days=8)
        # Both replicas found the same candidates in the (lagging) read model before either saved.
        first = svc.reclaimer.run_once()
        second = other.reclaimer.run_once()
    finally:
        other.engine.dispose()
        other.app.close()
    assert first + second == 20
    unassigned = [p for p in published(svc) if type(p).__name__ == "CustomerUnassigned"]
    assert len(unassigned) == 20 and len({p.customer_id for p in unassigned}) == 20
    assert load(svc, "m1") == 0


def test_a_true_race_between_replicas_loses_on_the_aggregate_version(svc, clock, tmp_path):
    setup_org(svc)
    add_customers(svc, ["c1"])
    svc.assigner.assign(ADMIN, ["c1"], "m1")
    other = bootstrap(settings_for(tmp_path), clock=clock)
    try:
        now = clock.advance(days=8)
        mine, theirs = BatchWork(svc.app), BatchWork(other.app)
        # Both replicas load the same versions and both decide to reclaim ...
        assert svc.reclaimer._reclaim(mine, "c1", now) == other.reclaimer._reclaim(theirs, "c1", now) == 1
        mine.save()
        with pytest.raises(RecordConflictError):  # ... only the first save is accepted
            theirs.save()
        # and the loser, re-run on fresh state (what save_retrying does), finds nothing left to do.
        assert other.reclaimer._save(lambda uow: other.reclaimer._reclaim(uow, "c1", now)) == 0
    finally:
        other.engine.dispose()
        other.app.close()
    assert [type(p).__name__ for p in published(svc)].count("CustomerUnassigned") == 1
    assert load(svc, "m1") == 0


def test_resignation_hands_customers_to_a_manager_or_the_pool(svc):
    setup_org(svc)
    add_customers(svc, [f"c{i}" for i in range(6)])
    svc.assigner.assign(ADMIN, ["c0", "c1", "c2"], "m1")
    svc.assigner.assign(ADMIN, ["c3"], "m1", stage="funded")
    svc.assigner.assign(ADMIN, ["c4", "c5"], "m3")
    with pytest.raises(Conflict):  # m3 has capacity 2 and holds 2
        svc.assigner.resign(ADMIN, "m1", "manager", "m3")
    out = svc.assigner.resign(ADMIN, "m1", "manager", "m2")
    assert out == {"handed_over": 4, "returned_to_pool": 0, "pending": 0}
    got = slots(svc)
    assert set(got.values()) == {"m2", "m3"} and got[("c3", "funded")] == "m2"
    out = svc.assigner.resign(ADMIN, "m3", "pool", None)
    assert out["returned_to_pool"] == 2 and out["pending"] == 0
    assert not any(v == "m3" for v in slots(svc).values())
    handover = [p for p in published(svc) if type(p).__name__ == "CustomerUnassigned"]
    assert {p.reason.value for p in handover} == {"manager_resigned"}
    with pytest.raises(Conflict):
        svc.admin.edit_manager(ADMIN, "m1", {"capacity": 5}, T0)


def test_referral_codes_are_unique_and_team_membership_follows_edits(svc):
    setup_org(svc)
    with pytest.raises(Conflict) as err:
        svc.admin.create_manager(ADMIN, manager_id="m9", name="X", position=None, team_id="T1", regions=[],
                                 languages=[], capacity=1, referral_code="qr-m1", at=T0)
    assert err.value.field == "referral_code"
    svc.admin.edit_manager(ADMIN, "m2", {"team_id": "T2"}, T0)
    assert svc.app.load(team_key("T2")).members == ["m2", "m3"]
    assert svc.app.load(team_key("T1")).members == ["m1"]
    with pytest.raises(NotFound):
        svc.admin.edit_manager(Actor("lead-1", "team", ("T1",)), "m3", {"capacity": 9}, T0)


def test_customers_follow_a_manager_who_changes_team_keeping_their_clock(svc, clock):
    setup_org(svc)
    add_customers(svc, ["c1", "c2", "c3"])
    svc.assigner.assign(ADMIN, ["c1", "c2"], "m2")  # T1
    svc.assigner.assign(ADMIN, ["c3"], "m1", stage="funded")
    clock.advance(days=2)
    svc.admin.edit_manager(ADMIN, "m2", {"team_id": "T2"}, clock.now())
    assert svc.assigner.follow_team_changes("m2") == 2
    assert svc.assigner.follow_team_changes() == 0  # the sweep finds nothing left
    with svc.sessions() as s:
        rows = {r.customer_id: r for r in s.execute(select(t.assignments))}
    assert (rows["c1"].team_id, rows["c2"].team_id, rows["c3"].team_id) == ("T2", "T2", "T1")
    assert rows["c1"].protection_expires_at.replace(tzinfo=UTC) == T0 + timedelta(days=7)  # clock kept
    moved = [p for p in published(svc) if type(p).__name__ == "CustomerAssigned" and p.reason == "team_changed"]
    assert sorted((p.customer_id, p.manager_id, p.team_id, p.previous_manager_id) for p in moved) == [
        ("c1", "m2", "T2", "m2"), ("c2", "m2", "T2", "m2")]
    assert not [p for p in published(svc) if type(p).__name__ == "CustomerUnassigned"]
    assert load(svc, "m2") == 2


def test_routing_batch_that_loses_a_race_is_re_run_on_fresh_state(svc, clock, tmp_path):
    """An API command changes a manager while the consumer batch is being routed: the batch's save
    conflicts, is re-run, and both effects survive (capacity counted once for each)."""
    setup_org(svc)
    svc.admin.save_rule(ADMIN, "sg", {"position": 1, "manager_id": "m3"}, T0)  # m3: capacity 2
    add_customers(svc, ["api-1"])
    other = bootstrap(settings_for(tmp_path), clock=clock)
    calls = []

    def racing_apply(events):
        pe = svc.router.apply(events)
        if not calls:  # first attempt only: meanwhile another process assigns a customer to m3
            other.assigner.assign(ADMIN, ["api-1"], "m3")
        calls.append(len(pe.events))
        return pe

    handler = RetryingEsHandler(svc.app, "test-routing", racing_apply, ["crm.customer.events"])
    try:
        handler.apply("crm.customer.events", 0, [registered("r1"), registered("r2")], next_offset=2)
    finally:
        other.engine.dispose()
        other.app.close()
    assert len(calls) == 2  # re-run once
    got = slots(svc)
    assert got[("api-1", "*")] == "m3" and got[("r1", "*")] == "m3"
    assert ("r2", "*") not in got  # m3 was full on the re-run: r2 stays in the pool
    assert load(svc, "m3") == 2
    assert handler.positions() == {("crm.customer.events", 0): 2}


async def test_scheduler_tick_reclaims_and_sweeps(svc, clock):
    setup_org(svc)
    add_customers(svc, ["c1", "c2"])
    svc.assigner.assign(ADMIN, ["c1"], "m3")  # T2: 3 days
    svc.assigner.assign(ADMIN, ["c2"], "m1")  # T1: 7 days
    clock.advance(days=3, minutes=6)  # past the 5-minute grace
    assert await svc.scheduler.tick() == (1, 0)
    assert slots(svc) == {("c2", "*"): "m1"}


def test_rebuilding_the_read_model_gives_identical_rows(svc, clock):
    setup_org(svc)
    add_customers(svc, [f"c{i}" for i in range(30)])
    svc.assigner.assign(ADMIN, [f"c{i}" for i in range(20)], "m1")
    svc.assigner.assign(ADMIN, [f"c{i}" for i in range(10, 25)], "m2", stage="funded")
    svc.assigner.unassign(ADMIN, "c3")
    svc.admin.save_rule(ADMIN, "r", {"position": 1, "manager_id": "m1"}, T0)

    def dump():
        with svc.sessions() as s:
            return {tbl.name: sorted(tuple(str(v) for v in r) for r in s.execute(select(tbl)))
                    for tbl in (t.assignments, t.history, t.managers, t.teams, t.rules, t.rule_versions)}

    before = dump()
    assert svc.rebuild_read_model() > 0
    assert dump() == before
    assert before["asg_manager"] and len(before["asg_assignment"]) == 19 + 15


def test_due_candidates_follow_the_projection(svc, clock):
    setup_org(svc)
    add_customers(svc, ["c1"])
    svc.assigner.assign(ADMIN, ["c1"], "m3")  # T2: 3 days
    assert svc.directory.due(T0 + timedelta(days=3) - timedelta(seconds=1), 10) == []
    assert svc.directory.due(T0 + timedelta(days=3), 10) == ["c1"]


def test_customer_events_in_one_batch_give_the_rows_one_by_one_gives(tmp_path):
    """apply_customer_events writes a batch with a few statements; the rows must be exactly what applying
    the same events one at a time (in the same order) gives, for any mix and order of registrations,
    region changes and stage changes (equal timestamps included)."""
    import random

    from shared.events.crm_customer import RegionsChanged, Stage, StageChanged

    def env(payload):
        return registry.decode(registry.envelope(payload, producer="test").model_dump(mode="json"))

    rnd = random.Random(7)
    stages = list(Stage)
    for round_ in range(30):
        events = []
        for _ in range(40):
            cid = f"c{rnd.randrange(6)}"
            kind = rnd.randrange(3)
            at = T0 + timedelta(minutes=rnd.randrange(4))
            if kind == 0:
                events.append(registered(cid, user_region=rnd.choice(["HK", "SG", None]), language="zh"))
            elif kind == 1:
                events.append(env(RegionsChanged(customer_id=cid, user_region=rnd.choice(["HK", "SG", "US", None]),
                                                 active_region=rnd.choice(["HK", None]), changed_at=at)))
            else:
                events.append(env(StageChanged(customer_id=cid, from_stage=None, to_stage=rnd.choice(stages),
                                               changed_at=at, cause_event_id=uuid.uuid4().hex,
                                               cause_event_type="test")))
        results = []
        for batched in (True, False):
            s = bootstrap(settings_for(tmp_path / f"{round_}-{batched}"))
            try:
                if batched:
                    with s.sessions.begin() as session:
                        apply_customer_events(session, events)
                else:
                    for e in events:
                        with s.sessions.begin() as session:
                            apply_customer_events(session, [e])
                with s.sessions() as session:
                    results.append([tuple(r) for r in session.execute(
                        select(t.customers).order_by(t.customers.c.customer_id))])
            finally:
                s.engine.dispose()
                s.app.close()
        assert results[0] == results[1], f"round {round_}"
        assert results[0], "the batch wrote customers"
