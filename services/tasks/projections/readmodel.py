"""Tasks, follow-ups and tickets read models, projected from the service's own event store.

Fed by `ProjectionRunner` (position stored in the same transaction), so each stored event is applied once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from shared.runtime.sqlrows import insert_rows

from ..domain.board import CustomerTasks
from ..domain.campaign_name import CampaignName
from ..domain.capture import Capture
from ..domain.followup import FollowUp
from ..domain.ticket import Ticket
from .tables import campaign_names, captures, follow_ups, tasks, ticket_timeline, tickets


class Writer:
    """Buffers consecutive inserts into one executemany per table; any other statement flushes first,
    so the order of the stored events is kept.

    Task rows (the bulk of the traffic: opened, moved, closed, attributed) are folded per task first: a
    task opened in this batch is inserted once with its latest values, the others get one UPDATE each, run
    as one executemany per set of columns. Each of these changes touches only its own task's row and sets
    columns (no read-modify-write), so folding them keeps the result of applying them one by one."""

    def __init__(self, session: Session):
        self.session = session
        self.pending: dict[Table, list[dict[str, Any]]] = {}
        self.task_rows: dict[str, tuple[bool, dict[str, Any]]] = {}  # task_id -> (inserted here, values)

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        self.pending.setdefault(table, []).append(row)

    def task_insert(self, row: dict[str, Any]) -> None:
        self.task_rows[row["task_id"]] = (True, dict(row))

    def task_update(self, task_id: str, **values: Any) -> None:
        current = self.task_rows.get(task_id)
        if current is None:
            self.task_rows[task_id] = (False, dict(values))
        else:
            current[1].update(values)

    def execute(self, stmt: Any) -> None:
        self.flush()
        self.session.execute(stmt)

    def flush(self) -> None:
        for table, rows in self.pending.items():
            self.session.execute(table.insert(), rows)
        self.pending.clear()
        if self.task_rows:
            inserts = [values for inserted, values in self.task_rows.values() if inserted]
            if inserts:  # one executemany needs one set of keys: the columns never set are NULL anyway
                columns = [c.name for c in tasks.columns]
                insert_rows(self.session, tasks, [{c: row.get(c) for c in columns} for row in inserts])
            by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for task_id, (inserted, values) in self.task_rows.items():
                if not inserted:
                    by_columns.setdefault(tuple(sorted(values)), []).append({**values, "k_task_id": task_id})
            for columns, rows in by_columns.items():
                stmt = (update(tasks).where(tasks.c.task_id == bindparam("k_task_id"))
                        .values({c: bindparam(c) for c in columns}))
                self.session.connection().execute(stmt, rows)
            self.task_rows.clear()


Apply = Callable[[Writer, Any], None]


def _task_opened(s: Writer, e: Any) -> None:
    s.task_insert(dict(
        task_id=e.task_id, customer_id=e.customer_id, node=e.node, status="open", assignee_id=e.assignee_id,
        team_id=e.team_id, due_at=e.due_at, created_at=e.created_at, cause_event_id=e.cause,
        campaign_id=getattr(e, "campaign_id", None), event_key=getattr(e, "event_key", None),
    ))


def _task_moved(s: Writer, e: Any) -> None:
    s.task_update(e.task_id, assignee_id=e.assignee_id, team_id=e.team_id)


def _task_closed(s: Writer, e: Any) -> None:
    s.task_update(e.task_id, status=e.outcome, closed_at=e.at, closed_by=e.by, closed_cause=e.cause,
                  assignee_id=e.assignee_id, team_id=e.team_id)


def _task_attributed(s: Writer, e: Any) -> None:
    s.task_update(e.task_id, assignee_id=e.assignee_id, team_id=e.team_id)


def _campaign_named(s: Writer, e: Any) -> None:
    s.insert(campaign_names, dict(campaign_id=e.campaign_id, name=e.name))


def _campaign_renamed(s: Writer, e: Any) -> None:
    s.execute(update(campaign_names).where(campaign_names.c.campaign_id == e.campaign_id).values(name=e.name))


def _follow_up(s: Writer, e: Any) -> None:
    s.insert(follow_ups, dict(
        follow_up_id=str(e.originator_id), customer_id=e.customer_id, manager_id=e.manager_id, kind=e.kind,
        task_id=e.task_id, intent=e.intent, tier=e.tier, contact_methods=list(e.contact_methods),
        next_follow_up_at=e.next_follow_up_at, tags=list(e.tags), remarks=e.remarks, recorded_at=e.recorded_at,
        source=getattr(e, "source", None), duration_s=getattr(e, "duration_s", None),
    ))


def _captured(s: Writer, e: Any) -> None:
    s.insert(captures, dict(
        capture_key=str(e.originator_id), kind=e.kind, capture_id=e.capture_id, staff_id=e.staff_id,
        customer_id=e.customer_id, reason=e.reason, at=e.at, direction=e.direction, duration_s=e.duration_s,
        outcome=e.outcome, recording_ref=e.recording_ref, follow_up_id=e.follow_up_id,
    ))


def _capture_outcome(s: Writer, e: Any) -> None:
    s.execute(update(captures).where(captures.c.capture_key == str(e.originator_id)).values(outcome=e.outcome))


def _timeline(s: Writer, e: Any, kind: str, actor: str | None, at: Any, *, comment_id: str | None = None,
              body: str | None = None, detail: dict[str, Any] | None = None) -> None:
    s.insert(ticket_timeline, dict(
        ticket_id=str(e.originator_id), version=e.originator_version, kind=kind, actor_id=actor, at=at,
        comment_id=comment_id, body=body, detail=detail, deleted=False,
    ))


def _ticket_update(s: Writer, e: Any, at: Any, **values: Any) -> None:
    s.execute(update(tickets).where(tickets.c.ticket_id == str(e.originator_id)).values(
        updated_at=at, version=e.originator_version, **values))


def _ticket_opened(s: Writer, e: Any) -> None:
    s.insert(tickets, dict(
        ticket_id=str(e.originator_id), customer_id=e.customer_id, title=e.title, description=e.description,
        category=e.category, priority=e.priority, status="open", assignee_id=e.assignee_id,
        created_by=e.created_by, created_at=e.created_at, updated_at=e.created_at, deleted=False,
        version=e.originator_version,
    ))
    _timeline(s, e, "opened", e.created_by, e.created_at, detail={"assignee_id": e.assignee_id})


def _ticket_edited(s: Writer, e: Any) -> None:
    _ticket_update(s, e, e.at, **e.changes)
    _timeline(s, e, "edited", e.by, e.at, detail={"fields": sorted(e.changes)})


def _ticket_assigned(s: Writer, e: Any) -> None:
    _ticket_update(s, e, e.at, assignee_id=e.assignee_id)
    _timeline(s, e, "assigned", e.by, e.at,
              detail={"assignee_id": e.assignee_id, "previous_assignee_id": e.previous_assignee_id})


def _ticket_status(s: Writer, e: Any) -> None:
    _ticket_update(s, e, e.at, status=e.status)
    _timeline(s, e, "status_changed", e.by, e.at, detail={"status": e.status, "previous_status": e.previous_status})


def _comment_added(s: Writer, e: Any) -> None:
    _ticket_update(s, e, e.at)
    _timeline(s, e, "comment", e.by, e.at, comment_id=e.comment_id, body=e.body)


def _comment_deleted(s: Writer, e: Any) -> None:
    _ticket_update(s, e, e.at)
    s.execute(update(ticket_timeline).where(ticket_timeline.c.comment_id == e.comment_id).values(
        deleted=True, body=None))
    _timeline(s, e, "comment_deleted", e.by, e.at, comment_id=e.comment_id)


def _ticket_deleted(s: Writer, e: Any) -> None:
    _ticket_update(s, e, e.at, deleted=True)
    _timeline(s, e, "deleted", e.by, e.at)


HANDLERS: dict[type, Apply] = {  # by the stored domain event's class
    CustomerTasks.TaskOpened: _task_opened,
    CustomerTasks.StartedWithTask: _task_opened,  # a task list started with its first task
    CustomerTasks.TaskMoved: _task_moved,
    CustomerTasks.TaskClosed: _task_closed,
    CustomerTasks.TaskAttributed: _task_attributed,
    FollowUp.Recorded: _follow_up,
    Capture.Recorded: _captured,
    Capture.OutcomeChanged: _capture_outcome,
    CampaignName.Named: _campaign_named,
    CampaignName.Renamed: _campaign_renamed,
    Ticket.Opened: _ticket_opened,
    Ticket.Edited: _ticket_edited,
    Ticket.Assigned: _ticket_assigned,
    Ticket.StatusChanged: _ticket_status,
    Ticket.CommentAdded: _comment_added,
    Ticket.CommentDeleted: _comment_deleted,
    Ticket.Deleted: _ticket_deleted,
}


def apply_stored_events(session: Session, events: list[Any]) -> None:
    writer = Writer(session)
    for e in events:
        handler = HANDLERS.get(type(e))
        if handler is not None:
            handler(writer, e)
    writer.flush()


def open_campaign_customers(sessions: sessionmaker[Session]) -> Callable[[str], list[str]]:
    """The customers with an open follow-up task of a campaign (`TasksApplication.campaign_customers`)."""

    def find(campaign_id: str) -> list[str]:
        with sessions() as s:
            return list(s.scalars(select(tasks.c.customer_id).where(
                tasks.c.campaign_id == campaign_id, tasks.c.status == "open").distinct()))

    return find
