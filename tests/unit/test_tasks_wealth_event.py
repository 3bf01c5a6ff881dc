"""The "wealth event" node through the tasks service's real pipeline (SQLite, no broker): a wealth calendar
reminder (`crm.customer.wealth_event_due`) opens one task per customer and calendar event for the customer's
owner, side by side with other events' tasks; a re-published or repeated reminder opens nothing; the task
follows the owner; a follow-up on it completes it; merged customers get none."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from shared.events.crm_assignment import CustomerAssigned
from shared.events.crm_customer import CustomerMerged, WealthEventDue
from shared.runtime.deadletter import Inbound
from tests.unit.test_tasks_agents import KAFKA, T0, engine, raw  # noqa: F401

pytestmark = pytest.mark.asyncio
CUSTOMER = KAFKA.topic("crm.customer.events")
ASSIGNMENT = KAFKA.topic("crm.assignment.events")


def due(cid: str, key: str, day: date, *, event_id: uuid.UUID | None = None) -> bytes:
    kind = key.partition(":")[0]
    return raw(WealthEventDue(customer_id=cid, event_key=key, kind=kind, event_date=day, security="0700.HK",
                              title="Dividend: 0700.HK", days_before=3, due_at=T0), event_id=event_id)


async def test_one_wealth_task_per_customer_and_event(engine):  # noqa: F811
    cid = f"c-{uuid.uuid4().hex[:8]}"
    await engine.processor.process([Inbound(ASSIGNMENT, 0, 0, cid.encode(), raw(CustomerAssigned(
        customer_id=cid, manager_id="m1", team_id="t1", reason="rule", assigned_at=T0 - timedelta(days=1))), 0)])
    first = due(cid, "corporate_action:ca1", date(2026, 11, 4))
    records = [first, first,  # re-published at another offset: the same event id
               due(cid, "corporate_action:ca1", date(2026, 11, 4)),  # the same reminder again (another id)
               due(cid, "maturity:m1", date(2026, 11, 3))]  # another event: a task beside it
    await engine.processor.process([Inbound(CUSTOMER, 0, i + 1, cid.encode(), r, 0) for i, r in enumerate(records)])
    rows = {r["event_key"]: r for r in engine.task_rows(cid)}
    assert sorted(rows) == ["corporate_action:ca1", "maturity:m1"]
    assert {(r["node"], r["status"], r["assignee_id"], r["team_id"]) for r in rows.values()} == {
        ("wealth_event", "open", "m1", "t1")}
    assert rows["maturity:m1"]["due_at"] == datetime(2026, 11, 3, tzinfo=UTC)  # on the event's day
    board = engine.app.board(cid)
    assert sorted(board.open) == ["wealth_event:corporate_action:ca1", "wealth_event:maturity:m1"]

    # the owner changes: the open wealth tasks follow (unlike a campaign's follow-up)
    await engine.processor.process([Inbound(ASSIGNMENT, 0, 1, cid.encode(), raw(CustomerAssigned(
        customer_id=cid, manager_id="m2", team_id="t1", reason="manual", previous_manager_id="m1",
        assigned_at=T0 + timedelta(hours=1))), 0)])
    assert {r["assignee_id"] for r in engine.task_rows(cid)} == {"m2"}

    # a follow-up on the task completes it; the same reminder later opens nothing
    engine.app.record_follow_up(customer_id=cid, manager_id="m2", task_id=rows["maturity:m1"]["task_id"],
                                intent=None, tier=None, contact_methods=["phone"], next_follow_up_at=None, tags=[],
                                remarks=None, at=T0 + timedelta(hours=2))
    await engine.processor.process([Inbound(CUSTOMER, 0, 9, cid.encode(), due(cid, "maturity:m1",
                                                                              date(2026, 11, 3)), 0)])
    rows = {r["event_key"]: r for r in engine.task_rows(cid)}
    assert len(rows) == 2 and rows["maturity:m1"]["status"] == "completed"
    assert rows["corporate_action:ca1"]["status"] == "open"

    # a merged customer: its open tasks are cancelled and a reminder opens none
    await engine.processor.process([Inbound(CUSTOMER, 0, 10, cid.encode(), raw(CustomerMerged(
        merged_id=cid, survivor_id="c-survivor", reason="review:manual", merged_at=T0 + timedelta(hours=3))), 0)])
    await engine.processor.process([Inbound(CUSTOMER, 0, 11, cid.encode(), due(cid, "ipo_closes:ipo9",
                                                                               date(2026, 11, 5)), 0)])
    rows = {r["event_key"]: r for r in engine.task_rows(cid)}
    assert sorted(rows) == ["corporate_action:ca1", "maturity:m1"] and rows["corporate_action:ca1"]["status"] == (
        "cancelled")
