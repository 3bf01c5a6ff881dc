"""Outbox mapper: stored domain events -> crm.tasks.* contracts published by `OutboxRelay`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shared.events.crm_tasks import (
    FollowUpRecorded,
    TaskClosed,
    TaskCreated,
    TaskReassigned,
    TicketChanged,
    TicketOpened,
)
from shared.runtime.outbox import Outgoing

from .domain.board import CustomerTasks
from .domain.followup import FollowUp
from .domain.ticket import Ticket


def _task_opened(e: Any) -> list[Outgoing]:
    return [Outgoing(TaskCreated(task_id=e.task_id, customer_id=e.customer_id, node=e.node,
                                 assignee_id=e.assignee_id, team_id=e.team_id, due_at=e.due_at,
                                 created_at=e.created_at, cause_event_id=e.cause), causation_id=e.cause)]


def _task_moved(e: Any) -> list[Outgoing]:
    return [Outgoing(TaskReassigned(task_id=e.task_id, customer_id=e.customer_id, node=e.node,
                                    assignee_id=e.assignee_id, team_id=e.team_id,
                                    previous_assignee_id=e.previous_assignee_id, reason=e.reason,
                                    reassigned_at=e.at))]


def _task_closed(e: Any) -> list[Outgoing]:
    return [Outgoing(TaskClosed(task_id=e.task_id, customer_id=e.customer_id, node=e.node, outcome=e.outcome,
                                assignee_id=e.assignee_id, closed_at=e.at), causation_id=e.cause)]


def _follow_up(e: Any) -> list[Outgoing]:
    if e.kind != FollowUp.KIND_FOLLOW_UP:
        return []  # batch remarks are notes, not a contact with the customer: no protection reset
    return [Outgoing(FollowUpRecorded(
        follow_up_id=str(e.originator_id), customer_id=e.customer_id, manager_id=e.manager_id, task_id=e.task_id,
        intent=e.intent, tier=e.tier, contact_methods=list(e.contact_methods),
        next_follow_up_at=e.next_follow_up_at, tags=list(e.tags), remarks=e.remarks, recorded_at=e.recorded_at,
        source=getattr(e, "source", None), duration_s=getattr(e, "duration_s", None),
    ), correlation_id=e.correlation_id)]


def _ticket_opened(e: Any) -> list[Outgoing]:
    return [Outgoing(TicketOpened(ticket_id=str(e.originator_id), customer_id=e.customer_id, category=e.category,
                                  priority=e.priority, assignee_id=e.assignee_id, created_by=e.created_by,
                                  opened_at=e.created_at))]


def _ticket(change: str) -> Callable[[Any], list[Outgoing]]:
    def mapper(e: Any) -> list[Outgoing]:
        return [Outgoing(TicketChanged(
            ticket_id=str(e.originator_id), customer_id=e.customer_id, change=change,
            status=getattr(e, "status", None), previous_status=getattr(e, "previous_status", None),
            assignee_id=getattr(e, "assignee_id", None), comment_id=getattr(e, "comment_id", None),
            fields=sorted(getattr(e, "changes", {}) or {}), changed_by=e.by, changed_at=e.at,
        ))]

    return mapper


MAPPERS: dict[type, Callable[[Any], list[Outgoing]]] = {  # by the stored domain event's class
    CustomerTasks.TaskOpened: _task_opened,
    CustomerTasks.StartedWithTask: _task_opened,  # a task list started with its first task
    CustomerTasks.TaskMoved: _task_moved,
    CustomerTasks.TaskClosed: _task_closed,
    FollowUp.Recorded: _follow_up,
    Ticket.Opened: _ticket_opened,
    Ticket.Edited: _ticket("edited"),
    Ticket.Assigned: _ticket("assigned"),
    Ticket.StatusChanged: _ticket("status_changed"),
    Ticket.CommentAdded: _ticket("comment_added"),
    Ticket.CommentDeleted: _ticket("comment_deleted"),
    Ticket.Deleted: _ticket("deleted"),
}


def to_messages(domain_event: Any) -> Sequence[Outgoing]:
    mapper = MAPPERS.get(type(domain_event))
    return mapper(domain_event) if mapper else []
