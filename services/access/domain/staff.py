"""A staff member: the organisation node they belong to, their role assignments (each with an effective
period) and their status. Exit ends everything: every assignment is revoked and nothing can be assigned
again ("authority while in role, revocation upon exit")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from .errors import InvalidInput, InvalidTransition, NotFound
from .role import NAMESPACE

ACTIVE, EXITED = "active", "exited"
MAX_ASSIGNMENTS = 100


def staff_key(staff_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"staff:{staff_id}")


class Staff(Aggregate):
    @staticmethod
    def create_id(staff_id: str, **_: Any) -> uuid.UUID:
        return staff_key(staff_id)

    @event("Registered")
    def __init__(self, *, staff_id: str, display_name: str, node_id: str | None, at: datetime, by: str) -> None:
        self.staff_id = staff_id
        self.display_name = display_name
        self.node_id = node_id
        self.status = ACTIVE
        self.assignments: dict[str, dict[str, Any]] = {}  # assignment id -> role_id, node_id, from, until
        self.changed_at, self.changed_by = at, by

    def _require_active(self) -> None:
        if self.status != ACTIVE:
            raise InvalidTransition(f"staff member {self.staff_id!r} has exited")

    def update(self, *, display_name: str | None, node_id: str | None, at: datetime, by: str) -> bool:
        self._require_active()
        new_name = display_name or self.display_name
        new_node = node_id if node_id is not None else self.node_id
        if (new_name, new_node) == (self.display_name, self.node_id):
            return False
        self._updated(staff_id=self.staff_id, display_name=new_name, node_id=new_node, at=at, by=by)
        return True

    @event("Updated")
    def _updated(self, *, staff_id: str, display_name: str, node_id: str | None, at: datetime, by: str) -> None:
        self.display_name, self.node_id = display_name, node_id
        self.changed_at, self.changed_by = at, by

    def assign(self, *, assignment_id: str, role_id: str, node_id: str | None, effective_from: datetime,
               effective_until: datetime | None, at: datetime, by: str) -> None:
        self._require_active()
        if effective_until is not None and effective_until <= effective_from:
            raise InvalidInput("effective_until must be after effective_from", field="effective_until")
        if assignment_id in self.assignments:
            raise InvalidTransition(f"assignment {assignment_id!r} exists already")
        if len(self.assignments) >= MAX_ASSIGNMENTS:
            raise InvalidTransition(f"a staff member holds at most {MAX_ASSIGNMENTS} assignments")
        self._assigned(staff_id=self.staff_id, assignment_id=assignment_id, role_id=role_id, node_id=node_id,
                       effective_from=effective_from, effective_until=effective_until, at=at, by=by)

    @event("RoleAssigned")
    def _assigned(self, *, staff_id: str, assignment_id: str, role_id: str, node_id: str | None, effective_from: datetime,
                  effective_until: datetime | None, at: datetime, by: str) -> None:
        self.assignments = {**self.assignments, assignment_id: {
            "role_id": role_id, "node_id": node_id, "effective_from": effective_from,
            "effective_until": effective_until}}
        self.changed_at, self.changed_by = at, by

    def revoke(self, *, assignment_id: str, at: datetime, by: str) -> None:
        self._require_active()
        if assignment_id not in self.assignments:
            raise NotFound(f"assignment {assignment_id!r} not found", field="assignment_id")
        self._revoked(staff_id=self.staff_id, assignment_id=assignment_id, at=at, by=by)

    @event("RoleRevoked")
    def _revoked(self, *, staff_id: str, assignment_id: str, at: datetime, by: str) -> None:
        self.assignments = {k: v for k, v in self.assignments.items() if k != assignment_id}
        self.changed_at, self.changed_by = at, by

    def exit(self, *, at: datetime, by: str) -> bool:
        if self.status == EXITED:
            return False
        self._exited(staff_id=self.staff_id, at=at, by=by)
        return True

    @event("Exited")
    def _exited(self, *, staff_id: str, at: datetime, by: str) -> None:
        self.status = EXITED
        self.assignments = {}
        self.changed_at, self.changed_by = at, by
