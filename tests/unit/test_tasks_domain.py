"""Task rules, follow-ups and tickets on the aggregates (in-memory event store), the read-model
projection and the outbox mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from services.tasks.api.deps import mask_name
from services.tasks.api.models import FollowUpIn, TicketEditIn
from services.tasks.application import TasksApplication
from services.tasks.domain.board import CustomerTasks
from services.tasks.domain.nodes import (
    CommentNotFound,
    InvalidTransition,
    Node,
    NotCommentAuthor,
    Policy,
    TaskNotFound,
    TaskNotOpen,
    TaskStatus,
    TicketGone,
    task_id_for,
)
from services.tasks.domain.ticket import TicketStatus
from services.tasks.outbox import to_messages
from services.tasks.projections import tables
from services.tasks.projections.readmodel import apply_stored_events
from shared.events.crm_customer import Stage
from shared.runtime.auth import Principal
from shared.runtime.db import make_engine, session_factory
from shared.runtime.eventstore import build_application

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
POLICY = Policy(due_hours={"pending_funding": 48}, large_withdrawal_thresholds={"USD": Decimal("10000")})


def board(customer_id: str = "c1") -> CustomerTasks:
    return CustomerTasks(customer_id=customer_id)


def test_stage_changes_open_one_task_per_node_and_convert_stale_ones():
    b = board()
    b.assign("m1", "t1", T0, "e0")
    b.observe_stage(Stage.registered, T0, "e1", POLICY)
    b.observe_stage(Stage.pending_account_opening, T0 + timedelta(hours=1), "e2", POLICY)
    b.observe_stage(Stage.pending_funding, T0 + timedelta(hours=2), "e3", POLICY)
    assert list(b.open) == ["pending_funding"]
    task = b.open["pending_funding"]
    assert task["task_id"] == task_id_for("e3", Node.pending_funding)
    assert task["due_at"] == T0 + timedelta(hours=50) and task["assignee_id"] == "m1"
    assert [c["outcome"] for c in b.closed.values()] == ["converted", "converted"]
    # A late (older) stage and a replayed event change nothing.
    version = b.version
    b.observe_stage(Stage.pending_account_opening, T0 + timedelta(hours=1), "e2", POLICY)
    b.observe_stage(Stage.registered, T0, "e9", POLICY)
    assert b.version == version


def test_behaviour_nodes_rejected_application_and_withdrawal_thresholds():
    b = board()
    assert POLICY.is_large_withdrawal(Decimal("10000"), "USD")
    assert not POLICY.is_large_withdrawal(Decimal("9999.99"), "USD")
    assert not POLICY.is_large_withdrawal(Decimal("1000000"), "JPY")  # no threshold: never compared
    b.open_for(Node.account_rejected, T0, "r1", POLICY)
    assert b.open_for(Node.account_rejected, T0, "r2", POLICY) is None  # one open task per node
    b.observe_stage(Stage.pending_funding, T0 + timedelta(days=1), "s1", POLICY)  # account opened after all
    assert set(b.open) == {"pending_funding"}


def test_reassignment_moves_open_tasks_and_unassignment_queues_them():
    b = board()
    b.observe_stage(Stage.registered, T0, "e1", POLICY)
    assert b.open["tmt_registration"]["assignee_id"] is None  # unassigned: waits in the pool queue
    b.assign("m1", "t1", T0, "a1")
    b.assign("m2", "t1", T0 + timedelta(hours=1), "a2")
    assert b.open["tmt_registration"]["assignee_id"] == "m2"
    b.unassign("m1", "t1", T0 + timedelta(hours=2), "u1", "reclaimed")  # stale: m1 no longer has it
    assert b.manager_id == "m2"
    b.unassign("m2", None, T0 + timedelta(hours=2), "u2", "reclaimed")
    task = b.open["tmt_registration"]
    assert task["assignee_id"] is None and task["team_id"] == "t1"  # the team queue


def test_closed_task_attribution_does_not_depend_on_topic_interleaving():
    def run(assignment_first: bool) -> dict:
        b = board()
        steps = [lambda: b.assign("m1", "t1", T0, "a1"),
                 lambda: (b.observe_stage(Stage.registered, T0, "e1", POLICY),
                          b.observe_stage(Stage.pending_account_opening, T0 + timedelta(days=1), "e2", POLICY))]
        for step in steps if assignment_first else reversed(steps):
            step()
        return {"closed": b.closed, "open": {n: t["assignee_id"] for n, t in b.open.items()}}

    assert run(True) == run(False)
    assert next(iter(run(False)["closed"].values()))["assignee_id"] == "m1"


def test_follow_up_completes_the_task_and_schedules_the_next_one():
    app = build_application(TasksApplication, "memory://")
    app.policy = POLICY
    b = board("c7")
    b.observe_stage(Stage.registered, T0, "e1", POLICY)
    app.save(b)
    task_id = b.open["tmt_registration"]["task_id"]
    follow_up, scheduled = app.record_follow_up(
        customer_id="c7", manager_id="m1", task_id=task_id, intent="interested", tier="A",
        contact_methods=["phone"], next_follow_up_at=T0 + timedelta(days=2), tags=["vip"], remarks="r",
        at=T0 + timedelta(hours=1))
    reloaded = app.board("c7")
    assert reloaded.closed[task_id]["outcome"] == TaskStatus.completed
    assert reloaded.open["scheduled_follow_up"]["task_id"] == scheduled
    assert reloaded.open["scheduled_follow_up"]["due_at"] == T0 + timedelta(days=2)
    with pytest.raises(TaskNotOpen):
        app.record_follow_up(customer_id="c7", manager_id="m1", task_id=task_id, intent=None, tier=None,
                             contact_methods=[], next_follow_up_at=None, tags=[], remarks="again", at=T0)
    with pytest.raises(TaskNotFound):
        app.record_follow_up(customer_id="c7", manager_id="m1", task_id="nope", intent=None, tier=None,
                             contact_methods=[], next_follow_up_at=None, tags=[], remarks="x", at=T0)
    _, newer = app.record_follow_up(customer_id="c7", manager_id="m1", task_id=None, intent=None, tier=None,
                                    contact_methods=[], next_follow_up_at=T0 + timedelta(days=5), tags=[],
                                    remarks=None, at=T0 + timedelta(hours=2))
    final = app.board("c7")
    assert final.open["scheduled_follow_up"]["task_id"] == newer
    assert final.closed[scheduled]["outcome"] == TaskStatus.cancelled  # superseded
    messages = [m for n in app.process_recorder.select_notifications(start=1, limit=100)
                for m in to_messages(app.mapper.to_domain_event(n))]
    recorded = [m.payload for m in messages if m.payload.EVENT_TYPE == "crm.tasks.follow_up_recorded"]
    assert len(recorded) == 2 and recorded[0].follow_up_id == str(follow_up.id)
    notes = app.batch_remarks(customer_ids=["c7", "c8"], manager_id="m1", remarks="note", at=T0)
    assert all(to_messages(next(iter(app.repository.event_store.get(n.id)))) == [] for n in notes)


def test_ticket_lifecycle_rules():
    app = build_application(TasksApplication, "memory://")
    t = app.open_ticket(customer_id="c1", title="Login", description=None, category="account_security",
                        priority="high", assignee_id="m1", created_by="m1", created_at=T0)
    tid = str(t.id)
    app.change_ticket(tid, lambda x: x.change_status(TicketStatus.on_hold, "m1", T0))
    app.change_ticket(tid, lambda x: x.add_comment("k1", "first", "m1", T0))
    app.change_ticket(tid, lambda x: x.add_comment("k2", "second", "lead", T0))
    with pytest.raises(NotCommentAuthor):
        app.change_ticket(tid, lambda x: x.delete_comment("k2", "m1", T0))
    app.change_ticket(tid, lambda x: x.delete_comment("k1", "m1", T0))
    with pytest.raises(CommentNotFound):
        app.change_ticket(tid, lambda x: x.delete_comment("k1", "m1", T0))
    app.change_ticket(tid, lambda x: x.change_status(TicketStatus.closed, "m1", T0))
    with pytest.raises(InvalidTransition):
        app.change_ticket(tid, lambda x: x.change_status(TicketStatus.open, "m1", T0))
    with pytest.raises(InvalidTransition):
        app.change_ticket(tid, lambda x: x.edit({"title": "new"}, "m1", T0))
    app.change_ticket(tid, lambda x: x.delete("m1", T0))
    with pytest.raises(TicketGone):
        app.change_ticket(tid, lambda x: x.add_comment("k3", "late", "m1", T0))
    with pytest.raises(TicketGone):
        app.ticket("not-a-uuid")


def test_projection_rebuild_gives_identical_rows(tmp_path):
    app = build_application(TasksApplication, "memory://")
    b = board("c9")
    b.assign("m1", "t1", T0, "a1")
    b.observe_stage(Stage.registered, T0, "e1", POLICY)
    b.observe_stage(Stage.pending_account_opening, T0 + timedelta(hours=3), "e2", POLICY)
    app.save(b)
    app.open_ticket(customer_id="c9", title="Card", description="d", category="other", priority="low",
                    assignee_id=None, created_by="m1", created_at=T0)
    events = [app.mapper.to_domain_event(n) for n in app.process_recorder.select_notifications(start=1, limit=100)]
    snapshots = []
    for i in range(2):
        engine = make_engine(f"sqlite:///{tmp_path / f'rm{i}.db'}")
        tables.metadata.create_all(engine)
        with session_factory(engine).begin() as s:
            apply_stored_events(s, events)
        with engine.connect() as conn:
            snapshots.append((sorted(conn.execute(select(tables.tasks)).all()),
                              sorted(conn.execute(select(tables.tickets)).all())))
    assert snapshots[0] == snapshots[1]
    tasks_rows = snapshots[0][0]
    assert {(r.node, r.status, r.assignee_id) for r in tasks_rows} == {
        ("tmt_registration", "converted", "m1"), ("pending_account_opening", "open", "m1")}


def test_request_models_and_masking():
    with pytest.raises(ValidationError):
        FollowUpIn()  # nothing recorded
    with pytest.raises(ValidationError):
        FollowUpIn(remarks="x", unknown="y")
    with pytest.raises(ValidationError):
        TicketEditIn(title=None)
    ok = FollowUpIn(contact_methods=["phone", "phone"], tags=["a", "a"])
    assert ok.contact_methods == ["phone"] and ok.tags == ["a"]
    viewer = Principal(user_id="m1", permissions=frozenset())
    pii = Principal(user_id="a", permissions=frozenset({"CustomerPiiRead"}))
    assert mask_name("Alice Example", viewer) == "A*** E***"
    assert mask_name("Alice Example", pii) == "Alice Example"


def test_task_changes_folded_in_one_batch_give_the_rows_of_applying_them_one_by_one(tmp_path):
    """The projection folds a batch's task changes per task (one insert, one update per task); the rows
    must be those of applying each stored event on its own."""
    app = build_application(TasksApplication, "memory://")
    app.policy = POLICY
    old = board("c-old")
    old.observe_stage(Stage.registered, T0, "e0", POLICY)
    app.save(old)
    first_batch = app.process_recorder.max_notification_id()
    new = board("c-new")
    new.observe_stage(Stage.registered, T0, "e1", POLICY)  # opened …
    new.assign("m1", "t1", T0 + timedelta(minutes=1), "e2")  # … moved …
    new.observe_stage(Stage.pending_account_opening, T0 + timedelta(hours=1), "e3", POLICY)  # … closed, next opened
    old = app.board("c-old")
    old.assign("m2", "t2", T0 + timedelta(minutes=2), "e4")  # a task stored in an earlier batch: updated
    old.observe_stage(Stage.pending_account_opening, T0 + timedelta(hours=2), "e5", POLICY)
    app.save(new, old)
    events = [app.mapper.to_domain_event(n) for n in app.process_recorder.select_notifications(start=1, limit=100)]

    def rows(batches: list[list]) -> list[dict]:
        engine = make_engine(f"sqlite:///{tmp_path}/{len(batches)}.db")
        tables.metadata.create_all(engine)
        sessions = session_factory(engine)
        for batch in batches:
            with sessions.begin() as s:
                apply_stored_events(s, batch)
        with sessions() as s:
            return [dict(r._mapping) for r in s.execute(select(tables.tasks).order_by(tables.tasks.c.task_id))]

    folded = rows([events[:first_batch], events[first_batch:]])
    one_by_one = rows([[e] for e in events])
    assert folded == one_by_one
    assert {r["status"] for r in folded} == {"open", "converted"} and len(folded) == 4
    assert all(r["assignee_id"] for r in folded if r["status"] == "open")
