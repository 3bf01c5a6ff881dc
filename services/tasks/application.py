"""The tasks service's eventsourcing application: thin commands (load, call, save).

Synchronous (eventsourcing is): async callers use `asyncio.to_thread`. Commands that touch a customer's
task list or a ticket retry on an optimistic-concurrency conflict (the engine may have saved it meanwhile) with
the kit's `save_retrying`; the API runs them with the kit's `run_command` (the last conflict is a 409).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from shared.runtime.commands import save_retrying
from shared.runtime.eventstore import TrackingApplication

from .domain.board import CustomerTasks
from .domain.closure import CampaignClosure
from .domain.followup import FollowUp
from .domain.nodes import Policy, TicketGone
from .domain.ticket import Ticket, TicketStatus

CONFLICT_RETRIES = 5


class TasksApplication(TrackingApplication):
    name = "tasks"
    snapshotting_intervals = {CustomerTasks: 100, Ticket: 100}  # noqa: RUF012 - eventsourcing API
    policy: Policy = Policy()

    @staticmethod
    def campaign_customers(campaign_id: str) -> list[str]:
        """The customers with an open follow-up of this campaign; the bootstrap reads them from the task rows
        (folded in the events' transactions, so they match the stored task lists)."""
        raise NotImplementedError("wired by the bootstrap")

    # ------------------------------------------------------------------------------ loading
    def board(self, customer_id: str) -> CustomerTasks | None:
        try:
            return self.repository.get(CustomerTasks.create_id(customer_id))  # type: ignore[no-any-return]
        except AggregateNotFoundError:
            return None

    def boards(self, customer_ids: list[str]) -> dict[str, CustomerTasks]:
        """The existing task lists of these customers, read with one query."""
        keys = {CustomerTasks.create_id(c): c for c in dict.fromkeys(customer_ids)}
        return {keys[k]: b for k, b in self.load_many(list(keys)).items() if b is not None}

    def closures(self, campaign_ids: list[str]) -> dict[str, CampaignClosure]:
        """The campaigns among these that are known to have closed, read with one query."""
        keys = {CampaignClosure.create_id(c): c for c in dict.fromkeys(campaign_ids)}
        return {keys[k]: c for k, c in self.load_many(list(keys)).items() if c is not None}

    def board_or_new(self, customer_id: str) -> CustomerTasks:
        return self.board(customer_id) or CustomerTasks(customer_id=customer_id)

    def ticket(self, ticket_id: str) -> Ticket:
        try:
            ticket = self.repository.get(uuid.UUID(ticket_id))
        except (AggregateNotFoundError, ValueError):
            raise TicketGone("no such ticket") from None
        if not isinstance(ticket, Ticket):
            raise TicketGone("no such ticket")
        return ticket

    # ------------------------------------------------------------------------------ follow-ups
    def record_follow_up(self, *, customer_id: str, manager_id: str, task_id: str | None, intent: str | None,
                         tier: str | None, contact_methods: list[str], next_follow_up_at: datetime | None,
                         tags: list[str], remarks: str | None, at: datetime,
                         correlation_id: str | None = None) -> tuple[FollowUp, str | None]:
        """Record a follow-up; completes `task_id` and schedules the next follow-up, atomically."""

        def step() -> tuple[tuple[FollowUp, CustomerTasks | None], tuple[FollowUp, str | None]]:
            follow_up = FollowUp(customer_id=customer_id, manager_id=manager_id, kind=FollowUp.KIND_FOLLOW_UP,
                                 task_id=task_id, intent=intent, tier=tier, contact_methods=contact_methods,
                                 next_follow_up_at=next_follow_up_at, tags=tags, remarks=remarks,
                                 recorded_at=at, correlation_id=correlation_id)
            board = None
            scheduled = None
            if task_id is not None or next_follow_up_at is not None:
                board = self.board_or_new(customer_id)
                if task_id is not None:
                    board.complete(task_id, str(follow_up.id), manager_id, at)
                if next_follow_up_at is not None:
                    scheduled = board.schedule(str(follow_up.id), next_follow_up_at, at, self.policy)
            return (follow_up, board), (follow_up, scheduled)

        return save_retrying(self, step, attempts=CONFLICT_RETRIES, customer_id=customer_id, task_id=task_id)

    def batch_remarks(self, *, customer_ids: list[str], manager_id: str, remarks: str, at: datetime,
                      correlation_id: str | None = None) -> list[FollowUp]:
        notes = [FollowUp(customer_id=c, manager_id=manager_id, kind=FollowUp.KIND_REMARK, task_id=None,
                          intent=None, tier=None, contact_methods=[], next_follow_up_at=None, tags=[],
                          remarks=remarks, recorded_at=at, correlation_id=correlation_id) for c in customer_ids]
        self.save(*notes)
        return notes

    # ------------------------------------------------------------------------------ tickets
    def open_ticket(self, **fields: Any) -> Ticket:
        ticket = Ticket(**fields)
        self.save(ticket)
        return ticket

    def change_ticket(self, ticket_id: str, change: Callable[[Ticket], Any]) -> tuple[Ticket, Any]:
        def step() -> tuple[Ticket, tuple[Ticket, Any]]:
            ticket = self.ticket(ticket_id)
            return ticket, (ticket, change(ticket))

        return save_retrying(self, step, attempts=CONFLICT_RETRIES, ticket_id=ticket_id)

    def set_ticket_status(self, ticket_id: str, status: TicketStatus, by: str, at: datetime) -> Ticket:
        return self.change_ticket(ticket_id, lambda t: t.change_status(status, by, at))[0]
