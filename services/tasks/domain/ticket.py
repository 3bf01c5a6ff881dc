"""`Ticket`: a post-account-opening ticket about a customer, with its comment timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from eventsourcing.domain import Aggregate, event

from .nodes import CommentNotFound, InvalidTransition, NotCommentAuthor, TicketGone


class TicketStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    on_hold = "on_hold"
    resolved = "resolved"
    closed = "closed"


TRANSITIONS: dict[TicketStatus, set[TicketStatus]] = {
    TicketStatus.open: {TicketStatus.in_progress, TicketStatus.on_hold, TicketStatus.resolved, TicketStatus.closed},
    TicketStatus.in_progress: {TicketStatus.open, TicketStatus.on_hold, TicketStatus.resolved, TicketStatus.closed},
    TicketStatus.on_hold: {TicketStatus.open, TicketStatus.in_progress, TicketStatus.resolved, TicketStatus.closed},
    TicketStatus.resolved: {TicketStatus.in_progress, TicketStatus.closed},  # reopen or close
    TicketStatus.closed: set(),
}

EDITABLE = ("title", "description", "category", "priority")


class Ticket(Aggregate):
    @event("Opened")
    def __init__(self, customer_id: str, title: str, description: str | None, category: str, priority: str,
                 assignee_id: str | None, created_by: str, created_at: datetime) -> None:
        self.customer_id, self.title, self.description = customer_id, title, description
        self.category, self.priority, self.assignee_id = category, priority, assignee_id
        self.created_by, self.created_at = created_by, created_at
        self.status = TicketStatus.open.value
        self.deleted = False
        self.comments: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------------------ commands
    def _alive(self) -> None:
        if self.deleted:
            raise TicketGone("ticket was deleted")

    def edit(self, changes: dict[str, Any], by: str, at: datetime) -> bool:
        self._alive()
        changes = {k: v for k, v in changes.items() if k in EDITABLE and getattr(self, k) != v}
        if self.status == TicketStatus.closed and changes:
            raise InvalidTransition("a closed ticket cannot be edited")
        if changes:
            self._edited(customer_id=self.customer_id, changes=changes, by=by, at=at)
        return bool(changes)

    def assign(self, assignee_id: str, by: str, at: datetime) -> bool:
        self._alive()
        if self.status == TicketStatus.closed:
            raise InvalidTransition("a closed ticket cannot be reassigned")
        if assignee_id == self.assignee_id:
            return False
        self._assigned(customer_id=self.customer_id, assignee_id=assignee_id, previous_assignee_id=self.assignee_id, by=by, at=at)
        return True

    def change_status(self, status: TicketStatus, by: str, at: datetime) -> None:
        self._alive()
        current = TicketStatus(self.status)
        if status not in TRANSITIONS[current]:
            raise InvalidTransition(f"cannot go from {current.value} to {status.value}")
        self._status_changed(customer_id=self.customer_id, status=status.value, previous_status=current.value, by=by, at=at)

    def add_comment(self, comment_id: str, body: str, by: str, at: datetime) -> None:
        self._alive()
        self._comment_added(customer_id=self.customer_id, comment_id=comment_id, body=body, by=by, at=at)

    def delete_comment(self, comment_id: str, by: str, at: datetime, *, moderator: bool = False) -> None:
        """The author deletes their own comment; a moderator (CommentModerate, e.g. an admin) anyone's."""
        self._alive()
        comment = self.comments.get(comment_id)
        if comment is None or comment["deleted"]:
            raise CommentNotFound("no such comment")
        if comment["author_id"] != by and not moderator:
            raise NotCommentAuthor("only the author (or a moderator) may delete a comment")
        self._comment_deleted(customer_id=self.customer_id, comment_id=comment_id, by=by, at=at)

    def delete(self, by: str, at: datetime) -> None:
        self._alive()
        self._deleted(customer_id=self.customer_id, by=by, at=at)

    # ------------------------------------------------------------------------------ recorded changes
    @event("Edited")
    def _edited(self, customer_id: str, changes: dict[str, Any], by: str, at: datetime) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    @event("Assigned")
    def _assigned(self, customer_id: str, assignee_id: str, previous_assignee_id: str | None, by: str, at: datetime) -> None:
        self.assignee_id = assignee_id

    @event("StatusChanged")
    def _status_changed(self, customer_id: str, status: str, previous_status: str, by: str, at: datetime) -> None:
        self.status = status

    @event("CommentAdded")
    def _comment_added(self, customer_id: str, comment_id: str, body: str, by: str, at: datetime) -> None:
        self.comments[comment_id] = {"author_id": by, "at": at, "deleted": False}

    @event("CommentDeleted")
    def _comment_deleted(self, customer_id: str, comment_id: str, by: str, at: datetime) -> None:
        self.comments[comment_id]["deleted"] = True

    @event("Deleted")
    def _deleted(self, customer_id: str, by: str, at: datetime) -> None:
        self.deleted = True
