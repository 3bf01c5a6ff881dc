"""Task outcomes do not depend on arrival order (property tests over shuffled orders).

Per customer, a realistic history of upstream facts (registration, applications — rejected, resubmitted —,
KYC requests for more information, account opening, deposits, large withdrawals, trades) with its KYC
decisions and assignments. Two shuffles:
- *realistic*: the upstream facts reach the customer service in any order (the real customer domain
  decides what it publishes, in the order it learnt things); its `crm.customer` stream, the KYC stream and
  the assignment stream keep their own order and interleave at random at the task engine;
- *any order*: every `crm.customer` and `crm.kyc` event reaches the engine in any order at all.
In both, the open tasks (node → assignee) are those an independent reading of the history expects.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.customer.domain.customer import Customer
from services.customer.facts import BUSINESS_TIME, fact_from_event
from services.customer.outbox import map_event
from services.tasks.consumers import RULES, engine_relevant
from services.tasks.domain.board import CustomerTasks
from services.tasks.domain.nodes import Policy
from shared.events import Event, Payload, registry
from shared.events import crm_assignment as ca
from shared.events import crm_kyc as ck
from shared.events import upstream as up
from shared.events.crm_customer import STAGE_ORDER, Stage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = Policy(large_withdrawal_thresholds={"USD": Decimal("10000")})
STAGE_NODE = {Stage.registered: "tmt_registration", Stage.pending_account_opening: "pending_account_opening",
              Stage.pending_funding: "pending_funding", Stage.funded: "funded"}


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def event(payload: Payload) -> Event:
    return Event(envelope=registry.envelope(payload, producer="test"), payload=payload)


def business_time(e: Event) -> datetime:
    return getattr(e.payload, BUSINESS_TIME[e.event_type])


@dataclass
class History:
    """One customer's facts (upstream), KYC and assignment streams, and what the open tasks must be."""

    cid: str
    upstream: list[Event] = field(default_factory=list)
    kyc: list[Event] = field(default_factory=list)
    assignment: list[Event] = field(default_factory=list)
    expected: dict[str, str | None] = field(default_factory=dict)


def doc(at: datetime) -> dict[str, Any]:
    return {"document_id": "d1", "kind": "id_front", "storage_ref": "s3://x", "uploaded_at": at.isoformat()}


def history(rng: random.Random, cid: str) -> History:  # noqa: C901 - one realistic story, step by step
    hist, up_ = History(cid), []
    stage = Stage.registered
    up_.append(up.CustomerRegistered(customer_id=cid, registered_at=h(0), channel="organic"))
    apps: list[tuple[datetime, str, str]] = []  # (time, application, submitted|rejected) — latest wins
    kyc_state: str | None = None
    large = first_trade = False
    if rng.random() < 0.85:
        up_.append(up.AccountApplicationSubmitted(customer_id=cid, application_id="app1", submitted_at=h(1),
                                                  documents=[doc(h(1))]))
        apps.append((h(1), "app1", "submitted"))
        stage = Stage.pending_account_opening
        case = f"case-{cid}"
        kyc_steps = rng.choice([[], ["more_info_requested"], ["more_info_requested", "resubmitted"],
                                ["more_info_requested", "resubmitted", "approved"],
                                ["more_info_requested", "resubmitted", "more_info_requested"],
                                ["more_info_requested", "rejected"], ["approved"]])
        for i, state in enumerate(kyc_steps):
            at = h(2 + i)
            if state in ("more_info_requested", "approved", "rejected"):
                hist.kyc.append(event(ck.KycCaseDecided(case_id=case, customer_id=cid, application_id="app1",
                                                        decision=state, decided_by="r1", decided_at=at,
                                                        completion_pct=50)))
            if state != "rejected":
                hist.kyc.append(event(ck.KycCaseStateChanged(case_id=case, customer_id=cid, application_id="app1",
                                                             to_state=state, changed_at=at)))
            kyc_state = state
        opened_app = "app1"
        if rng.random() < 0.5:
            up_.append(up.AccountRejected(customer_id=cid, application_id="app1", rejected_at=h(10), reason="docs"))
            apps.append((h(10), "app1", "rejected"))
            opened_app = None
            if rng.random() < 0.6:  # a second application
                up_.append(up.AccountApplicationSubmitted(customer_id=cid, application_id="app2",
                                                          submitted_at=h(20), documents=[doc(h(20))]))
                apps.append((h(20), "app2", "submitted"))
                opened_app = "app2"
                if rng.random() < 0.3:
                    up_.append(up.AccountRejected(customer_id=cid, application_id="app2", rejected_at=h(25),
                                                  reason="again"))
                    apps.append((h(25), "app2", "rejected"))
                    opened_app = None
        if opened_app and rng.random() < 0.8:
            up_.append(up.AccountOpened(customer_id=cid, application_id=opened_app, account_id="acc1",
                                        opened_at=h(30)))
            stage = Stage.pending_funding
            if rng.random() < 0.8:
                up_.append(up.DepositCompleted(customer_id=cid, account_id="acc1", transaction_id="dep1",
                                               amount=Decimal("50000"), currency="USD", completed_at=h(40)))
                stage = Stage.funded
                if rng.random() < 0.4:
                    up_.append(up.DepositCompleted(customer_id=cid, account_id="acc1", transaction_id="dep2",
                                                   amount=Decimal("100"), currency="USD", completed_at=h(41)))
                if rng.random() < 0.5:
                    amount = rng.choice([Decimal("20000"), Decimal("50")])
                    up_.append(up.WithdrawalCompleted(customer_id=cid, account_id="acc1", transaction_id="wd1",
                                                      amount=amount, currency="USD", completed_at=h(50)))
                    large = amount >= Decimal("10000")
                if rng.random() < 0.6:
                    for n in range(rng.choice([1, 2])):
                        up_.append(up.TradeExecuted(customer_id=cid, account_id="acc1", trade_id=f"tr{n}",
                                                    symbol="0700", market="HK", side="buy", quantity=Decimal("100"),
                                                    price=Decimal("300"), currency="HKD", executed_at=h(60 + n)))
                    stage, first_trade = Stage.traded, True
    hist.upstream = [event(p) for p in up_]
    if rng.random() < 0.3:  # an upstream re-publication: the same event again
        hist.upstream.append(rng.choice(hist.upstream))

    owner: str | None = None
    if rng.random() < 0.8:
        hist.assignment.append(event(ca.CustomerAssigned(customer_id=cid, manager_id="m1", team_id="t1",
                                                         reason="rule", assigned_at=h(0.5))))
        owner = "m1"
        if rng.random() < 0.4:  # reassigned: the assignment service publishes both, at the same time
            hist.assignment += [
                event(ca.CustomerUnassigned(customer_id=cid, manager_id="m1", team_id="t1", reason="reassigned",
                                            unassigned_at=h(35))),
                event(ca.CustomerAssigned(customer_id=cid, manager_id="m2", team_id="t1", reason="manual",
                                          previous_manager_id="m1", assigned_at=h(35)))]
            owner = "m2"
    stage_owner = _stage_specific(rng, hist, cid, owner)
    if stage_owner is not None and stage_owner[0] == stage.value:
        owner = stage_owner[1]  # the current stage has its own manager

    # ---- what must be open, read from the history (not from the engine)
    expected: dict[str, str | None] = {}
    if stage in STAGE_NODE:
        expected[STAGE_NODE[stage]] = owner
    if STAGE_ORDER[stage] < STAGE_ORDER[Stage.pending_funding]:
        if apps and max(apps)[2] == "rejected":
            expected["account_rejected"] = owner
        if kyc_state == "more_info_requested":
            expected["kyc_more_info"] = owner
    if large:
        expected["large_withdrawal"] = owner
    if first_trade:
        expected["first_trade"] = owner
    hist.expected = expected
    return hist


STAGE_SPECIFIC = ("registered", "pending_account_opening", "pending_funding", "funded", "traded")


def _stage_specific(rng: random.Random, hist: History, cid: str, owner: str | None) -> tuple[str, str] | None:
    """Sometimes a manager for one stage only (seed 000); sometimes unassigned from it later, or released
    with every stage when the every-stage manager it is was reassigned. Returns (stage, manager) in force."""
    if rng.random() >= 0.6:
        return None
    stage = rng.choice(STAGE_SPECIFIC)
    manager = rng.choice(["m3", "m1"]) if hist.assignment else "m3"
    released_at = next((e.payload.unassigned_at for e in hist.assignment
                        if isinstance(e.payload, ca.CustomerUnassigned) and e.payload.manager_id == manager), None)
    hist.assignment.insert(1 if hist.assignment else 0, event(ca.CustomerAssigned(
        customer_id=cid, manager_id=manager, team_id="t2", stage=stage, share=Decimal("0.5"), reason="manual",
        assigned_at=h(0.7))))
    if released_at is not None:
        return None  # unassigned from every stage: the stage-specific assignment goes too
    if rng.random() < 0.3:
        hist.assignment.append(event(ca.CustomerUnassigned(customer_id=cid, manager_id=manager, team_id="t2",
                                                           stage=stage, reason="manual", unassigned_at=h(45))))
        return None
    return stage, manager


def published(upstream: list[Event]) -> list[Event]:
    """What the customer service publishes for these facts, in this order (the real customer domain)."""
    customer = Customer(customer_id=upstream[0].payload.customer_id)
    out = []
    for e in upstream:
        customer.record(fact_from_event(e))
    for domain_event in customer.collect_events():
        out += [event(o.payload) for o in map_event(domain_event)]
    return out


def open_tasks(events: list[Event], cid: str) -> dict[str, str | None]:
    board = CustomerTasks(customer_id=cid)
    for e in events:
        if engine_relevant(e, POLICY):
            RULES[type(e.payload)](board, e, POLICY)
    assert len({t["task_id"] for t in board.open.values()}) == len(board.open)
    return {node: task["assignee_id"] for node, task in board.open.items()}


def interleave(rng: random.Random, *streams: list[Event]) -> list[Event]:
    """The streams merged at random, each keeping its own order (topics interleave at the consumer)."""
    queues = [list(s) for s in streams if s]
    out = []
    while queues:
        q = rng.choice(queues)
        out.append(q.pop(0))
        if not q:
            queues.remove(q)
    return out


HISTORIES = 48  # per test, over 3 seeds (a few seconds; ~16 ms per order in the realistic test)
ORDERS = 12


@pytest.mark.parametrize("seed", range(3))
def test_open_tasks_do_not_depend_on_the_order_facts_reach_the_customer_service(seed: int) -> None:
    rng = random.Random(seed)
    for n in range(HISTORIES // 3):
        hist = history(rng, f"c{seed}-{n}")
        for _ in range(ORDERS):
            facts = list(hist.upstream)
            rng.shuffle(facts)
            arrival = interleave(rng, published(facts), hist.kyc, hist.assignment)
            assert open_tasks(arrival, hist.cid) == hist.expected, (hist.cid, [e.event_type for e in facts])


@pytest.mark.parametrize("seed", range(3))
def test_open_tasks_do_not_depend_on_the_order_of_the_crm_events_at_all(seed: int) -> None:
    rng = random.Random(100 + seed)
    for n in range(HISTORIES // 3):
        hist = history(rng, f"c{seed}-{n}")
        in_order = published(sorted(hist.upstream, key=business_time))
        for _ in range(ORDERS):
            facts = in_order + hist.kyc
            rng.shuffle(facts)
            arrival = interleave(rng, facts, hist.assignment)
            assert open_tasks(arrival, hist.cid) == hist.expected, (hist.cid, [e.event_type for e in facts])


def test_a_rejection_processed_after_the_customer_funded_opens_no_task() -> None:
    """The reported case: rejected, then funded on a second application; the stage change reaches the
    engine before the rejection (or the customer service learnt the rejection last)."""
    cid = f"c-{uuid.uuid4().hex[:6]}"
    facts = [event(p) for p in [
        up.CustomerRegistered(customer_id=cid, registered_at=h(0), channel="organic"),
        up.AccountApplicationSubmitted(customer_id=cid, application_id="a1", submitted_at=h(1), documents=[doc(h(1))]),
        up.AccountApplicationSubmitted(customer_id=cid, application_id="a2", submitted_at=h(20), documents=[doc(h(20))]),
        up.AccountOpened(customer_id=cid, application_id="a2", account_id="acc", opened_at=h(30)),
        up.DepositCompleted(customer_id=cid, account_id="acc", transaction_id="d", amount=Decimal("5"),
                            currency="USD", completed_at=h(40)),
        up.AccountRejected(customer_id=cid, application_id="a1", rejected_at=h(10), reason="docs"),
    ]]
    in_order = published(sorted(facts, key=business_time))
    assert open_tasks(in_order, cid) == {"funded": None}
    late = published(facts)  # the rejection learnt last
    assert open_tasks(late, cid) == {"funded": None}
    stage_first = sorted(in_order, key=lambda e: e.event_type != "crm.customer.stage_changed")
    assert open_tasks(stage_first, cid) == {"funded": None}


def test_a_fact_older_than_the_follow_up_that_completed_its_node_opens_no_task() -> None:
    from services.tasks.domain.nodes import Node

    board = CustomerTasks(customer_id="c-late")
    first = board.open_for(Node.large_withdrawal, h(9), "w1", POLICY)
    assert first is not None
    board.complete(first, "f1", "m1", h(11))  # the manager followed up at 11:00
    assert board.open_for(Node.large_withdrawal, h(10), "w2", POLICY) is None  # a 10:00 withdrawal, learnt late
    assert board.open_for(Node.large_withdrawal, h(12), "w3", POLICY) is not None  # a newer one: a new task


def test_kyc_and_account_registers_keep_the_latest_fact_by_business_time() -> None:
    board = CustomerTasks(customer_id="c-kyc")
    board.observe_kyc("case1", "resubmitted", h(3), "k2", POLICY)
    board.observe_kyc("case1", "more_info_requested", h(2), "k1", POLICY)  # older: changes nothing
    assert "kyc_more_info" not in board.open
    board.observe_kyc("case2", "more_info_requested", h(4), "k3", POLICY)  # another case asks
    assert board.open["kyc_more_info"]["cause"] == "k3"
    board.observe_kyc("case2", "rejected", h(5), "k4", POLICY)
    assert "kyc_more_info" not in board.open
    assert [c["outcome"] for c in board.closed.values()] == ["cancelled"]
    board.observe_account_status("applied", h(20), "s2", POLICY)
    board.observe_account_status("rejected", h(10), "s1", POLICY)  # older than the new application
    assert "account_rejected" not in board.open and board.account["cause"] == "s2"
    board.observe_account_status("rejected", h(25), "s3", POLICY)
    assert board.open["account_rejected"]["cause"] == "s3"
    board.observe_stage(Stage.pending_funding, h(30), "st", POLICY)
    assert set(board.open) == {"pending_funding"}
    assert board.stage_at == h(30)
    board.observe_account_status("rejected", h(40), "s4", POLICY)  # stale for the stage: never opened
    assert set(board.open) == {"pending_funding"}


def test_the_registers_survive_storage_and_snapshots() -> None:
    from services.tasks.application import TasksApplication
    from shared.runtime.eventstore import build_application

    app = build_application(TasksApplication, "memory://")
    board = CustomerTasks(customer_id="c-store")
    board.observe_stage(Stage.pending_account_opening, h(1), "st", POLICY)
    board.observe_account_status("rejected", h(10), "s1", POLICY)
    board.observe_kyc("case1", "more_info_requested", h(2), "k1", POLICY)
    board.complete(board.open["kyc_more_info"]["task_id"], "f1", "m1", h(3))
    board.assign("m2", "t2", h(4), "a1", stage="funded")
    app.save(board)
    for loaded in (app.board("c-store"), (app.take_snapshot(board.id), app.board("c-store"))[1]):
        assert (loaded.stage_at, loaded.account, dict(loaded.kyc), dict(loaded.done_at)) == (
            h(1), {"status": "rejected", "at": h(10), "cause": "s1"},
            {"case1": {"state": "more_info_requested", "at": h(2), "cause": "k1"}}, {"kyc_more_info": h(3)})
        assert set(loaded.open) == {"pending_account_opening", "account_rejected"}
        assert dict(loaded.stage_owners) == {"funded": ["m2", "t2"]} and loaded.owners()["funded"] == ("m2", "t2")
    old = CustomerTasks(customer_id="c-old")  # a task list stored before the registers existed
    for name in ("stage_at", "account", "kyc", "done_at", "stage_owners"):
        old.__dict__.pop(name, None)
    assert old.account is None and not old.kyc and not old.done_at
    old.observe_account_status("rejected", h(10), "s1", POLICY)
    assert "account_rejected" in old.open


def test_an_open_task_goes_to_the_owner_of_the_current_stage_and_moves_with_the_stage() -> None:
    from services.tasks.domain.nodes import Node

    board = CustomerTasks(customer_id="c-stage-owner")
    board.assign("m1", "t1", h(0), "a1")  # every stage
    board.assign("m2", "t2", h(0), "a2", stage="pending_funding")
    board.observe_stage(Stage.pending_account_opening, h(1), "s1", POLICY)
    assert board.open["pending_account_opening"]["assignee_id"] == "m1"
    board.observe_stage(Stage.pending_funding, h(2), "s2", POLICY)
    assert (board.open["pending_funding"]["assignee_id"], board.open["pending_funding"]["team_id"]) == ("m2", "t2")
    closed = next(iter(board.closed.values()))  # converted in pending_account_opening: m1's
    assert (closed["outcome"], closed["assignee_id"]) == ("converted", "m1")
    board.open_for(Node.large_withdrawal, h(3), "w1", POLICY)
    assert board.open["large_withdrawal"]["assignee_id"] == "m2"
    board.unassign("m2", "t2", h(4), "u1", "manual", stage="pending_funding")  # back to the every-stage owner
    assert {n: t["assignee_id"] for n, t in board.open.items()} == {"pending_funding": "m1", "large_withdrawal": "m1"}
    board.assign("m3", "t1", h(5), "a3", stage="*")
    board.assign("m2", "t2", h(5), "a4", stage="funded")
    board.unassign("m1", "t1", h(6), "u2", "manual")  # stale: m1 no longer has any stage
    board.observe_stage(Stage.funded, h(7), "s3", POLICY)
    assert {n: t["assignee_id"] for n, t in board.open.items()} == {"funded": "m2", "large_withdrawal": "m2"}
    board.unassign("m2", "t2", h(8), "u3", "manager_resigned")  # every stage: releases the funded one too
    assert {n: t["assignee_id"] for n, t in board.open.items()} == {"funded": "m3", "large_withdrawal": "m3"}
    assert board.as_of(h(3), "pending_funding") == ("m2", "t2") and board.as_of(h(3), "registered") == ("m1", "t1")
