"""The eventsourcing application of the assignment service, and a unit of work over its aggregates.

Commands live in `admin.py` (managers, teams, rules) and `assigning.py` (assign, unassign, routing,
follow-ups, reclaim, hand-over); they load aggregates through a `UnitOfWork`, call them, and save every
changed aggregate in one event-store transaction. Optimistic concurrency (aggregate versions) makes a
concurrent change fail the save; `save_retrying` re-runs the whole command on fresh state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

import structlog

from shared.runtime import commands
from shared.runtime.eventstore import MISSING, TrackingApplication
from shared.runtime.logging import get_logger

from .domain.model import (
    RULEBOOK_ID,
    CustomerAssignment,
    Manager,
    ReferralCode,
    RuleBook,
    Team,
    customer_key,
    manager_key,
    referral_key,
    team_key,
)

log = get_logger("assignment.app")


def current_correlation_id() -> str | None:
    """The correlation id bound for this request / message (carried into the events it causes)."""
    value = structlog.contextvars.get_contextvars().get("correlation_id")
    return str(value) if value else None
T = TypeVar("T")


class AssignmentApplication(TrackingApplication):
    name = "assignment"
    snapshotting_intervals = {Manager: 100, Team: 100, RuleBook: 20, CustomerAssignment: 50}
    kept_types = (Manager, Team, RuleBook, ReferralCode)  # read by every routing batch: kept in memory

    # `load` / `load_many` (one query for many aggregates): TrackingApplication


class UnitOfWork:
    """Loads each aggregate once, remembers it, and hands the changed ones to `save`."""

    def __init__(self, app: AssignmentApplication):
        self.app = app
        self._cache: dict[UUID, Any | None] = {}
        self._refreshed = False

    def refresh_kept(self) -> None:
        """Bring the aggregates the application keeps in memory up to date with one query; this unit of
        work then takes copies of them without further queries."""
        self.app.refresh_kept()
        self._refreshed = True

    def _get(self, key: UUID) -> Any | None:
        if key not in self._cache:
            kept = self.app.kept_copy(key) if self._refreshed else MISSING
            self._cache[key] = self.app.load(key) if kept is MISSING else kept
        return self._cache[key]

    def add(self, aggregate: Any) -> Any:
        self._cache[aggregate.id] = aggregate
        return aggregate

    def prefetch(self, keys: list[UUID]) -> None:
        """Loads the aggregates not loaded yet with one query per 500."""
        todo = [k for k in dict.fromkeys(keys) if k not in self._cache]
        for i in range(0, len(todo), 500):
            self._cache.update(self.app.load_many(todo[i:i + 500]))

    def team(self, team_id: str | None) -> Team | None:
        return self._get(team_key(team_id)) if team_id else None

    def manager(self, manager_id: str | None) -> Manager | None:
        return self._get(manager_key(manager_id)) if manager_id else None

    def referral(self, code: str | None) -> ReferralCode | None:
        return self._get(referral_key(code)) if code else None

    def pending_load(self, manager_id: str) -> int:
        """Customers this unit of work has given the manager that are not on the aggregate's load yet
        (a routing batch settles them at its end)."""
        return 0

    def customer(self, customer_id: str) -> CustomerAssignment | None:
        return self._get(customer_key(customer_id))

    def customer_or_new(self, customer_id: str) -> CustomerAssignment:
        agg = self.customer(customer_id)
        return agg if agg is not None else self.add(CustomerAssignment(customer_id=customer_id))

    def rulebook(self) -> RuleBook:
        book = self.existing_rulebook()
        return book if book is not None else self.add(RuleBook())

    def existing_rulebook(self) -> RuleBook | None:
        """The rule book if it was ever created (read-only callers: never create it)."""
        return self._get(RULEBOOK_ID)  # type: ignore[no-any-return]

    def changed(self) -> list[Any]:
        return [a for a in self._cache.values() if a is not None and a.pending_events]

    def save(self) -> None:
        changed = self.changed()
        if changed:
            self.app.save(*changed)


def save_retrying(app: AssignmentApplication, command: Callable[[UnitOfWork], T], *, attempts: int = 5) -> T:
    """Runs `command(uow)` on a fresh unit of work and saves every aggregate it changed, in one transaction; on a
    concurrency conflict re-runs it on fresh state (the kit's `save_retrying`)."""

    def step() -> tuple[list[Any], T]:
        uow = UnitOfWork(app)
        result = command(uow)
        return uow.changed(), result

    return commands.save_retrying(app, step, attempts=attempts)
