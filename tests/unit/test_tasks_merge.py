"""Tasks follow a customer merge (crm.customer.merged / unmerged): the merged customer's open tasks are
cancelled and it opens none while merged (no duplicate follow-up beside the survivor's), an unmerge opens its
current stage's task again; any order of the facts, duplicates included, gives the same open tasks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.tasks.consumers import RULES, SUBJECT, engine_relevant
from services.tasks.domain.board import CustomerTasks
from services.tasks.domain.nodes import Policy
from shared.events import Event, Payload, registry
from shared.events import crm_assignment as ca
from shared.events.crm_customer import CustomerMerged, CustomerUnmerged, StageChanged

T0 = datetime(2025, 5, 1, tzinfo=UTC)
POLICY = Policy(large_withdrawal_thresholds={"USD": Decimal("10000")})


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def event(payload: Payload) -> Event:
    return Event(envelope=registry.envelope(payload, producer="test"), payload=payload)


def run(events: list[Event]) -> CustomerTasks:
    board = CustomerTasks(customer_id="new")
    for e in events:
        assert engine_relevant(e, POLICY)
        subject = SUBJECT.get(type(e.payload))
        assert (subject(e.payload) if subject else e.payload.customer_id) == "new"
        RULES[type(e.payload)](board, e, POLICY)
    return board


STAGE = event(StageChanged(customer_id="new", from_stage=None, to_stage="registered", changed_at=h(0),
                           cause_event_id="r1", cause_event_type="registration.customer_registered"))
ASSIGNED = event(ca.CustomerAssigned(customer_id="new", manager_id="m1", team_id="t1", reason="rule",
                                     assigned_at=h(0.5)))
MERGED = event(CustomerMerged(survivor_id="old", merged_id="new", reason="exact:id_number", merged_at=h(1)))
UNMERGED = event(CustomerUnmerged(survivor_id="old", merged_id="new", unmerged_at=h(2), unmerged_by="lead"))


def test_a_merge_cancels_the_merged_customers_open_tasks_in_any_order():
    for order in itertools.permutations([STAGE, ASSIGNED, MERGED, MERGED]):
        board = run(list(order))
        assert board.open == {} and board.merged, order
    board = run([STAGE, ASSIGNED, MERGED])
    assert [c["outcome"] for c in board.closed.values()] == ["cancelled"]


def test_an_unmerge_opens_the_current_stage_task_again():
    board = run([STAGE, ASSIGNED, MERGED, UNMERGED, UNMERGED])
    assert [t["node"] for t in board.open.values()] == ["tmt_registration"]
    assert board.owner() == ("m1", "t1") and not board.merged
    # an unmerge that arrives before its merge: the later merge (older business time) changes nothing
    board = run([STAGE, UNMERGED, MERGED])
    assert not board.merged and [t["node"] for t in board.open.values()] == ["tmt_registration"]
