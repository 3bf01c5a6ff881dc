"""A customer merge (`crm.customer.merged`) in the assignment service: the survivor's owner wins, the merged
customer's slots are closed (reason `merged`, load released) and it is never routed while merged (its
registration may be consumed after the merge: another partition); a survivor without an owner takes the
merged customer's; an unmerge gives the merged customer its owner back; re-deliveries change nothing
(local SQLite, no network)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.events import registry
from shared.events.crm_assignment import CustomerUnassigned
from shared.events.crm_customer import CustomerMerged, CustomerOnboarded, CustomerUnmerged
from tests.unit import test_assignment_commands as cmd
from tests.unit.test_assignment_commands import ADMIN, T0, add_customers, load, published, setup_org, slots
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
    assert route(svc, reg).events == [] and slots(svc).get(("new", "*")) is None
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
