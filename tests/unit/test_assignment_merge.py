"""A customer merge (`crm.customer.merged`) in the assignment service: the survivor's owner wins, the merged
customer's slots are closed (reason `merged`, load released) and it is never routed while merged (its
registration may be consumed after the merge: another partition); a survivor without an owner takes the
merged customer's; an unmerge gives the merged customer its owner back; re-deliveries change nothing
(local SQLite, no network)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.assignment.bootstrap import bootstrap
from services.assignment.projections import tables as t
from shared.events import registry
from shared.events.crm_assignment import CustomerUnassigned
from shared.events.crm_customer import CustomerMerged, CustomerOnboarded, CustomerUnmerged
from tests.unit import test_assignment_commands as cmd
from tests.unit.test_assignment_commands import (
    ADMIN,
    T0,
    add_customers,
    load,
    published,
    settings_for,
    setup_org,
    slots,
)
from tests.unit.test_assignment_owner_change import route

clock = pytest.fixture(cmd.clock.__wrapped__, name="clock")
svc = pytest.fixture(cmd.svc.__wrapped__, name="svc")


def ev(payload):
    return registry.decode(registry.envelope(payload, producer="customer").model_dump(mode="json"))


def merged(survivor="old", merged_id="new", at=T0):
    return ev(CustomerMerged(survivor_id=survivor, merged_id=merged_id, reason="exact:id_number", merged_at=at))


def test_the_survivors_owner_wins_and_the_merged_assignment_is_closed(svc, clock):
    setup_org(svc)
    add_customers(svc, ["old", "new"])
    svc.assigner.assign(ADMIN, ["old"], "m1")
    svc.assigner.assign(ADMIN, ["new"], "m2")
    m = merged(at=clock.now())
    route(svc, m)
    assert slots(svc).get(("new", "*")) is None and slots(svc)[("old", "*")] == "m1"
    assert (load(svc, "m1"), load(svc, "m2")) == (1, 0)
    out = published(svc)[-1]
    assert isinstance(out, CustomerUnassigned) and out.reason == "merged" and out.customer_id == "new"
    assert route(svc, m).events == []  # re-delivered
    # the merged customer's registration consumed after the merge routes nothing
    reg = ev(CustomerOnboarded(customer_id="new", registered_at=T0, channel="organic"))
    n = len(published(svc))
    route(svc, reg)  # held (routed if an unmerge left it without owner), nothing published
    assert slots(svc).get(("new", "*")) is None and len(published(svc)) == n
    # unmerge: the merged customer gets its owner back
    clock.advance(hours=1)
    route(svc, ev(CustomerUnmerged(survivor_id="old", merged_id="new", unmerged_at=clock.now())))
    assert slots(svc)[("new", "*")] == "m2" and load(svc, "m2") == 1


def test_a_survivor_without_an_owner_takes_the_merged_customers(svc, clock):
    setup_org(svc)
    add_customers(svc, ["old", "new"])
    svc.assigner.assign(ADMIN, ["new"], "m2")
    route(svc, merged(at=clock.now() + timedelta(seconds=1)))
    assert slots(svc)[("old", "*")] == "m2" and slots(svc).get(("new", "*")) is None
    assert load(svc, "m2") == 1  # one customer, counted once


def unmerged(at):
    return ev(CustomerUnmerged(survivor_id="old", merged_id="new", unmerged_at=at))


def test_an_unmerge_gives_an_inherited_owner_back_and_the_survivor_returns_to_the_pool(svc, clock):
    setup_org(svc)
    add_customers(svc, ["old", "new"])
    svc.assigner.assign(ADMIN, ["new"], "m2")
    route(svc, merged(at=clock.now()))
    assert slots(svc)[("old", "*")] == "m2"
    clock.advance(hours=1)
    u = unmerged(clock.now())
    route(svc, u)
    assert slots(svc).get(("old", "*")) is None and slots(svc)[("new", "*")] == "m2"
    assert load(svc, "m2") == 1  # still one customer
    out = published(svc)[-2:]
    assert sorted((type(o).__name__, o.customer_id, o.reason) for o in out) == [
        ("CustomerAssigned", "new", "unmerge"), ("CustomerUnassigned", "old", "unmerged")]
    n = len(published(svc))
    assert route(svc, u).events == [] and len(published(svc)) == n  # re-delivered
    # a stale merge (older than the unmerge) changes nothing
    assert route(svc, merged(at=clock.now() - timedelta(minutes=1))).events == []
    assert slots(svc).get(("old", "*")) is None and slots(svc)[("new", "*")] == "m2"


def test_an_owner_given_to_the_survivor_after_the_merge_stays_on_unmerge(svc, clock):
    setup_org(svc)
    add_customers(svc, ["old", "new"])
    svc.assigner.assign(ADMIN, ["new"], "m2")
    route(svc, merged(at=clock.now()))
    svc.assigner.assign(ADMIN, ["old"], "m1")  # a later decision about the survivor
    clock.advance(hours=1)
    route(svc, unmerged(clock.now()))
    assert slots(svc)[("old", "*")] == "m1" and slots(svc)[("new", "*")] == "m2"
    assert (load(svc, "m1"), load(svc, "m2")) == (1, 1)


def test_merge_and_unmerge_in_any_batching_or_order_give_the_same_assignment_and_rebuild_alike(tmp_path, clock):
    def run(name, batches):
        s = bootstrap(settings_for(tmp_path, name), clock=clock)
        try:
            setup_org(s)
            add_customers(s, ["old", "new"])
            s.assigner.assign(ADMIN, ["new"], "m2")
            for b in batches:
                route(s, *b)
            state = slots(s), load(s, "m2"), load(s, "m1")
            before = dump(s)
            assert s.rebuild_read_model() > 0 and dump(s) == before  # replay gives the same read model
            return state, sorted((type(o).__name__, o.customer_id, o.reason) for o in published(s) if hasattr(o, "reason"))
        finally:
            s.engine.dispose()
            s.app.close()

    m, u = merged(at=clock.now()), unmerged(clock.now() + timedelta(hours=1))
    one_by_one = run("a", [[m], [u]])
    assert one_by_one == run("b", [[m, u]]) == run("c", [[m, u], [u, m]])  # one batch, re-delivered
    assert one_by_one[0] == ({("new", "*"): "m2"}, 1, 0)
    assert run("d", [[u], [m]])[0] == one_by_one[0]  # the unmerge first: the older merge is stale


def dump(s):
    with s.sessions() as ses:
        return {tbl.name: sorted(tuple(str(v) for v in r) for r in ses.execute(select(tbl)))
                for tbl in (t.assignments, t.history, t.managers)}


def test_a_registration_consumed_while_merged_is_routed_when_the_unmerge_leaves_it_without_owner(svc, clock):
    setup_org(svc)
    svc.admin.save_rule(ADMIN, "r", {"position": 1, "manager_id": "m1"}, T0)
    add_customers(svc, ["old"])
    route(svc, merged(at=clock.now()))  # the merge before the merged customer's registration (another partition)
    reg = cmd.registered("new")
    route(svc, reg)
    assert slots(svc).get(("new", "*")) is None and slots(svc).get(("old", "*")) is None
    clock.advance(hours=1)
    route(svc, unmerged(clock.now()))
    assert slots(svc)[("new", "*")] == "m1" and load(svc, "m1") == 1  # routed by the rule, as at registration
    assert route(svc, reg).events == [] and load(svc, "m1") == 1  # re-delivered registration
