"""Customer consumers and outbox with in-process stores (SQLite): assignment last-writer-wins, optimistic
creation fallback, poison facts, re-delivered batches, snapshots, outbox contracts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from services.customer.bootstrap import bootstrap
from services.customer.consumers import UpstreamHandler, apply_assignments
from services.customer.container import ASSIGNMENT_GROUP
from services.customer.domain.customer import Customer, customer_uuid
from services.customer.outbox import map_event
from services.customer.settings import CustomerSettings
from shared.events import registry
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned, UnassignReason
from shared.events.crm_customer import FundsMoved, StageChanged, TagsChanged
from shared.events.upstream import CustomerRegistered, DepositCompleted, ProfileUpdated
from shared.runtime.db import Tracker
from shared.runtime.errors import PermanentError
from shared.runtime.handlers import SqlBatchHandler
from shared.runtime.settings import KafkaSettings

T0 = datetime(2025, 2, 1, tzinfo=UTC)


def ev(payload, **kw):
    return registry.decode(registry.envelope(payload, producer="test", **kw).model_dump(mode="json"))


@pytest.fixture()
def svc(tmp_path):
    c = bootstrap(CustomerSettings(database_url=f"sqlite:///{tmp_path}/customer.db",
                                   snapshot_interval=10,
                                   kafka=KafkaSettings(topic_prefix="u.")))
    yield c
    c.app.close()
    c.engine.dispose()


def reg(cid="c1", minutes=0):
    return CustomerRegistered(customer_id=cid, registered_at=T0 + timedelta(minutes=minutes), channel="organic")


def test_assignment_projection_is_last_writer_wins_in_any_order(svc):
    a = svc.tables.assignment
    handler = SqlBatchHandler(svc.sessions, Tracker(svc.tables.consumer_position, svc.tables.processed_event,
                                                    ASSIGNMENT_GROUP), apply_assignments(svc.tables))
    assign = ev(CustomerAssigned(customer_id="c1", manager_id="m1", team_id="t1", reason="rule", assigned_at=T0))
    unassign = ev(CustomerUnassigned(customer_id="c1", manager_id="m1", reason=UnassignReason.reclaimed,
                                     unassigned_at=T0 + timedelta(days=7)))
    handover = ev(CustomerAssigned(customer_id="c2", manager_id="m2", team_id="t2", previous_manager_id="m1",
                                   reason="handover", assigned_at=T0 + timedelta(days=1)))
    old_c2 = ev(CustomerAssigned(customer_id="c2", manager_id="m1", team_id="t1", reason="rule", assigned_at=T0))
    handler.apply("a", 0, [unassign, handover], 2)
    handler.apply("a", 0, [assign, old_c2], 4)  # older facts arrive late: they must not win
    handler.apply("a", 1, [assign, unassign, handover], 3)  # re-published: already processed ids, no effect
    with svc.sessions() as s:
        rows = {(r.customer_id, r.manager_id): (r.active, r.team_id)
                for r in s.execute(select(a.c.customer_id, a.c.manager_id, a.c.active, a.c.team_id))}
    assert rows == {("c1", "m1"): (False, None), ("c2", "m2"): (True, "t2"), ("c2", "m1"): (False, None)}


def test_registration_for_an_existing_customer_falls_back_from_optimistic_creation(svc):
    handler = UpstreamHandler(svc.app, "g", ["t"], svc.cache)
    handler.apply("t", 0, [ev(reg()), ev(ProfileUpdated(customer_id="c1", updated_at=T0, name="A"))], 2)
    svc.cache.evict([customer_uuid("c1")])  # as after a restart
    fresh = UpstreamHandler(svc.app, "g", ["t"], svc.cache)
    fresh.apply("t", 0, [ev(reg(minutes=5))], 3)  # a registration re-sent with a new event id
    state = svc.app.get_customer("c1").state
    assert state["registration"]["at"] == T0  # the first registration stays the registration
    assert state["profile"]["name"][0] == "A"  # nothing was lost by the optimistic attempt
    assert svc.app.process_recorder.max_tracking_id("g:t:0") == 3


def test_redelivered_batch_is_a_no_op(svc):
    handler = UpstreamHandler(svc.app, "g", ["t"], svc.cache)
    batch = [ev(reg("c7")), ev(DepositCompleted(customer_id="c7", account_id="a", transaction_id="x",
                                                amount=Decimal("5"), currency="USD", completed_at=T0))]
    handler.apply("t", 0, batch, 2)
    before = svc.app.process_recorder.max_notification_id()
    handler.apply("t", 0, batch, 2)  # the same records again (a rebalance before the commit)
    UpstreamHandler(svc.app, "g", ["t"], type(svc.cache)(0)).apply("t", 0, batch, 2)  # and by another member
    assert svc.app.process_recorder.max_notification_id() == before


def test_event_that_is_not_a_customer_fact_is_permanent(svc):
    handler = UpstreamHandler(svc.app, "g", ["t"], svc.cache)
    stray = ev(CustomerAssigned(customer_id="c1", manager_id="m", reason="x", assigned_at=T0))
    with pytest.raises(PermanentError):
        handler.apply("t", 0, [stray], 1)


def test_snapshots_are_taken_and_loading_from_them_gives_the_same_state(svc):
    handler = UpstreamHandler(svc.app, "g", ["t"], svc.cache)
    events = [ev(reg("s1"))] + [
        ev(DepositCompleted(customer_id="s1", account_id="a", transaction_id=f"x{i}", amount=Decimal("1.5"),
                            currency="USD", completed_at=T0 + timedelta(hours=i))) for i in range(24)]
    for i in range(0, len(events), 5):
        handler.apply("t", 0, events[i:i + 5], i + 5)
    assert list(svc.app.snapshots.get(customer_uuid("s1")))  # at least one snapshot stored
    loaded = svc.app.get_customer("s1")
    assert loaded.view["deposits"] == {"USD": Decimal("36.0")} and loaded.view["stage"] == "funded"
    assert loaded.state == svc.cache.get(customer_uuid("s1"))[0].state


def test_outbox_maps_effects_to_valid_contracts(svc):
    handler = UpstreamHandler(svc.app, "g", ["t"], svc.cache)
    handler.apply("t", 0, [ev(DepositCompleted(customer_id="o1", account_id="a", transaction_id="tx",
                                               amount=Decimal("10.25"), currency="HKD", completed_at=T0),
                              correlation_id="corr-1")], 1)
    notifications = svc.app.process_recorder.select_notifications(start=1, limit=10)
    out = [o for n in notifications for o in map_event(svc.app.mapper.to_domain_event(n))]
    payloads = [o.payload for o in out]
    assert [type(p) for p in payloads] == [StageChanged, FundsMoved]
    assert payloads[1].amount == Decimal("10.25") and payloads[1].first_deposit is True
    assert all(o.correlation_id == "corr-1" and o.occurred_at == T0 for o in out)
    for o in out:  # every payload makes a valid envelope
        assert registry.decode(registry.envelope(o.payload, producer="t").model_dump(mode="json"))


def test_a_change_of_tags_is_published_with_the_whole_set(svc):
    handler = UpstreamHandler(svc.app, "g", ["t"], svc.cache)
    handler.apply("t", 0, [ev(reg("g1"))], 1)
    start = (svc.app.process_recorder.max_notification_id() or 0) + 1
    svc.app.record_crm_facts(["g1"], "crm.tags_changed", {"add": ["vip", "hk-desk"], "by": "u1"}, at=T0)
    svc.app.record_crm_facts(["g1"], "crm.tags_changed", {"add": ["vip"], "by": "u2"}, at=T0)  # no change
    svc.app.record_crm_facts(["g1"], "crm.tags_changed", {"remove": ["vip"], "by": "u2"},
                             at=T0 + timedelta(minutes=1))
    notifications = svc.app.process_recorder.select_notifications(start=start, limit=10)
    out = [o.payload for n in notifications for o in map_event(svc.app.mapper.to_domain_event(n))]
    assert out == [TagsChanged(customer_id="g1", tags=["hk-desk", "vip"], changed_at=T0, changed_by="u1"),
                   TagsChanged(customer_id="g1", tags=["hk-desk"], changed_at=T0 + timedelta(minutes=1),
                               changed_by="u2")]


def test_crm_action_meanwhile_makes_the_stale_cached_aggregate_reload(svc):
    handler = UpstreamHandler(svc.app, "g", ["t"], svc.cache)
    handler.apply("t", 0, [ev(reg("k1"))], 1)  # the consumer now caches k1 at version 2
    svc.app.record_crm_facts(["k1"], "crm.tags_changed", {"add": ["vip"], "by": "u1"}, at=T0)  # version 3
    handler.apply("t", 0, [ev(DepositCompleted(customer_id="k1", account_id="a", transaction_id="x",
                                               amount=Decimal("7"), currency="USD", completed_at=T0))], 2)
    state = svc.app.get_customer("k1").state
    assert state["tags"] == ["vip"] and "x" in state["deposits"]  # both writes kept, in one history
    assert svc.app.process_recorder.max_tracking_id("g:t:0") == 2


def _customer_rows(svc):
    c = svc.tables.customer
    with svc.sessions() as s:
        return {r["customer_id"]: {k: v for k, v in r.items() if k != "customer_id"}
                for r in s.execute(select(c)).mappings()}


def test_a_new_customer_starts_with_its_first_fact_in_one_event_like_the_older_created_and_fact_pair(svc):
    handler = UpstreamHandler(svc.app, "g", ["t"], svc.cache)
    handler.apply("t", 0, [ev(reg("n1")), ev(ProfileUpdated(customer_id="n1", updated_at=T0, name="N"))], 2)
    new = list(svc.app.events.get(customer_uuid("n1")))
    assert [type(e) for e in new] == [Customer.StartedWithFact, Customer.FactRecorded]
    # the older form of the same history (Created, then a FactRecorded per fact), stored as it was
    old = Customer(customer_id="o1")
    old.record(new[0].fact)
    old.record(new[1].fact)
    svc.app.save(old)
    assert [type(e) for e in svc.app.events.get(customer_uuid("o1"))] == [Customer.Created, Customer.FactRecorded,
                                                                          Customer.FactRecorded]
    assert svc.app.get_customer("n1").state["profile"] == svc.app.get_customer("o1").state["profile"]
    assert svc.app.state_as_of("n1", T0)["registration"] == svc.app.state_as_of("o1", T0)["registration"]
    rows = _customer_rows(svc)
    assert rows["n1"] == rows["o1"]  # the same list row
    published = {cid: [o.payload.model_dump(exclude={"customer_id"}) for e in svc.app.events.get(customer_uuid(cid))
                       for o in map_event(e)] for cid in ("n1", "o1")}
    assert published["n1"] == published["o1"] and published["n1"]  # the same messages (registration, stage)
    assert svc.rebuild_read_model() > 0  # and a replay of both forms gives the same rows
    assert _customer_rows(svc) == rows
