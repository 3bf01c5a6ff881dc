"""A client/lead owner change the platform confirmed (`crm.usercrm.owner_change_confirmed`) moves the
customer's every-stage slot to the new owner like a manual assignment (load, capacity, the "why"), or says in
the history why it did not; a re-delivered confirmation changes nothing (local SQLite, no network)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.assignment.projections import tables as t
from shared.events import registry
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned
from shared.events.crm_usercrm import OwnerChangeConfirmed
from tests.unit import test_assignment_commands as cmd
from tests.unit.test_assignment_commands import ADMIN, T0, add_customers, load, published, setup_org, slots

clock = pytest.fixture(cmd.clock.__wrapped__, name="clock")
svc = pytest.fixture(cmd.svc.__wrapped__, name="svc")


def confirmed(customer_id: str, owner_id: str, *, previous: str | None = "m1", at=T0, request_id: str | None = None):
    payload = OwnerChangeConfirmed(request_id=request_id or str(uuid.uuid4()), customer_id=customer_id,
                                   owner_id=owner_id, team_id="T1", previous_owner_id=previous, requested_by="lead-1",
                                   requested_at=at - timedelta(minutes=5), reason="m1 on leave", confirmed_at=at)
    return registry.decode(registry.envelope(payload, producer="usercrm").model_dump(mode="json"))


def route(svc, *events):
    pe = svc.router.apply(list(events))
    svc.app.record_processed(pe, [])  # what the consumer's handler does (with tracking)
    return pe


def history(svc, customer_id):
    with svc.sessions() as s:
        return [dict(r) for r in s.execute(select(t.history).where(t.history.c.customer_id == customer_id)
                                           .order_by(t.history.c.version)).mappings()]


def test_a_confirmed_owner_change_reassigns_the_customer_with_the_request_as_the_why(svc, clock):
    setup_org(svc)
    add_customers(svc, ["c1"])
    svc.assigner.assign(ADMIN, ["c1"], "m1")
    clock.advance(hours=1)
    ev = confirmed("c1", "m2", at=clock.now())
    route(svc, ev)
    assert slots(svc)[("c1", "*")] == "m2"
    assert (load(svc, "m1"), load(svc, "m2")) == (0, 1)
    row = history(svc, "c1")[-1]
    assert (row["action"], row["reason"], row["actor"], row["manager_id"], row["previous_manager_id"]) == (
        "assigned", "owner_change", "lead-1", "m2", "m1")
    assert row["inputs"]["request_id"] == ev.payload.request_id and row["inputs"]["reason"] == "m1 on leave"
    out = published(svc)
    assert isinstance(out[-2], CustomerUnassigned) and out[-2].reason == "reassigned" and out[-2].manager_id == "m1"
    assert isinstance(out[-1], CustomerAssigned) and out[-1].reason == "owner_change"
    assert out[-1].assigned_by == "lead-1" and out[-1].rule_inputs["request_id"] == ev.payload.request_id

    # at-least-once: the same confirmation again (even under another event id) changes nothing
    again = confirmed("c1", "m2", request_id=ev.payload.request_id, at=ev.payload.confirmed_at)
    assert route(svc, ev).events == [] and route(svc, again).events == []
    # a later manual decision stands against a re-delivery of the old confirmation
    clock.advance(hours=1)
    svc.assigner.assign(ADMIN, ["c1"], "m1")
    assert route(svc, ev).events == [] and slots(svc)[("c1", "*")] == "m1"


def test_a_customer_never_assigned_goes_to_the_new_owner(svc, clock):
    setup_org(svc)
    route(svc, confirmed("fresh", "m2", previous=None, at=clock.now()))
    assert slots(svc)[("fresh", "*")] == "m2" and load(svc, "m2") == 1


def test_what_cannot_be_followed_is_said_in_the_history(svc, clock):
    setup_org(svc)
    add_customers(svc, ["u", "r", "f", "s", "same"])
    svc.assigner.assign(ADMIN, ["f", "same"], "m1")
    add_customers(svc, ["m3-a", "m3-b"])
    svc.assigner.assign(ADMIN, ["m3-a", "m3-b"], "m3")  # m3 is full (capacity 2)
    svc.assigner.resign(ADMIN, "m2", "pool", None)
    early = clock.now()
    clock.advance(hours=1)
    svc.assigner.assign(ADMIN, ["s"], "m1")  # assigned after the platform's confirmation below
    route(svc, confirmed("u", "nobody", at=clock.now()), confirmed("r", "m2", at=clock.now()),
          confirmed("f", "m3", at=clock.now()), confirmed("s", "m3", at=early),
          confirmed("same", "m1", at=clock.now()))
    got = slots(svc)
    assert got[("f", "*")] == "m1" and got[("s", "*")] == "m1" and got[("same", "*")] == "m1"
    assert ("u", "*") not in got and ("r", "*") not in got
    codes = {cid: history(svc, cid)[-1] for cid in ("u", "r", "f", "s", "same")}
    assert {cid: (h["action"], h["reason"]) for cid, h in codes.items()} == {
        "u": ("owner_change_not_followed", "unknown_manager"), "r": ("owner_change_not_followed", "manager_resigned"),
        "f": ("owner_change_not_followed", "over_capacity"), "s": ("owner_change_not_followed", "superseded"),
        "same": ("owner_change_not_followed", "already_owner")}
    assert codes["f"]["manager_id"] == "m3" and codes["f"]["inputs"]["requested_by"] == "lead-1"
    assert load(svc, "m3") == 2
    # recorded once: the same confirmations again add no history
    before = {cid: len(history(svc, cid)) for cid in codes}
    for cid, h in codes.items():
        assert route(svc, confirmed(cid, h["manager_id"], request_id=h["inputs"]["request_id"])).events == []
    assert {cid: len(history(svc, cid)) for cid in codes} == before


def test_the_history_rebuilds_identically_with_owner_changes(svc, clock):
    setup_org(svc)
    add_customers(svc, ["c1", "c2"])
    svc.assigner.assign(ADMIN, ["c1", "c2"], "m1")
    route(svc, confirmed("c1", "m2", at=clock.now()), confirmed("c2", "ghost", at=clock.now()))

    def dump():
        with svc.sessions() as s:
            return {tbl.name: sorted(tuple(str(v) for v in r) for r in s.execute(select(tbl)))
                    for tbl in (t.assignments, t.history, t.managers)}

    before = dump()
    assert svc.rebuild_read_model() > 0
    assert dump() == before
