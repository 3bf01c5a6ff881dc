"""A role: a named set of permissions from the catalogue and a data scope. Retiring it ends what it grants
(every assignment of it grants nothing from then on) without rewriting the assignments."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from shared.runtime.access import CATALOGUE, SCOPES

from .errors import InvalidInput, InvalidTransition

NAMESPACE = uuid.UUID("3e0a51d2-4f9b-4b8e-a0c4-5d1f7a2c9b63")


def role_key(role_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"role:{role_id}")


def checked_permissions(permissions: Iterable[str]) -> list[str]:
    perms = sorted(set(permissions))
    unknown = [p for p in perms if p not in CATALOGUE]
    if unknown:
        raise InvalidInput(f"unknown permission {unknown[0]!r}; see GET /access/permissions", field="permissions")
    return perms


def check_scope(scope: str, node_id: str | None) -> None:
    if scope not in SCOPES:
        raise InvalidInput(f"unknown scope {scope!r}", field="scope")
    if node_id is not None and scope != "node":
        raise InvalidInput("only a `node` scope names a node", field="node_id")


class Role(Aggregate):
    @staticmethod
    def create_id(role_id: str, **_: Any) -> uuid.UUID:
        return role_key(role_id)

    @classmethod
    def define(cls, *, role_id: str, name: str, permissions: Iterable[str], scope: str, node_id: str | None,
               at: datetime, by: str) -> Role:
        check_scope(scope, node_id)
        return cls(role_id=role_id, name=name, permissions=checked_permissions(permissions), scope=scope,
                   node_id=node_id, at=at, by=by)

    @event("Defined")
    def __init__(self, *, role_id: str, name: str, permissions: list[str], scope: str, node_id: str | None,
                 at: datetime, by: str) -> None:
        self.role_id = role_id
        self.name = name
        self.permissions = list(permissions)
        self.scope = scope
        self.node_id = node_id
        self.retired = False
        self.changed_at = at
        self.changed_by = by

    def change(self, *, name: str, permissions: Iterable[str], scope: str, node_id: str | None, at: datetime,
               by: str) -> bool:
        """Replace the definition. False: it is the same already (nothing recorded)."""
        if self.retired:
            raise InvalidTransition(f"role {self.role_id!r} is retired")
        check_scope(scope, node_id)
        perms = checked_permissions(permissions)
        if (name, perms, scope, node_id) == (self.name, self.permissions, self.scope, self.node_id):
            return False
        self._changed(role_id=self.role_id, name=name, permissions=perms, scope=scope, node_id=node_id, at=at, by=by)
        return True

    @event("Changed")
    def _changed(self, *, role_id: str, name: str, permissions: list[str], scope: str, node_id: str | None, at: datetime,
                 by: str) -> None:
        self.name, self.permissions, self.scope, self.node_id = name, list(permissions), scope, node_id
        self.changed_at, self.changed_by = at, by

    def retire(self, *, at: datetime, by: str) -> bool:
        if self.retired:
            return False
        self._retired(role_id=self.role_id, at=at, by=by)
        return True

    @event("Retired")
    def _retired(self, *, role_id: str, at: datetime, by: str) -> None:
        self.retired = True
        self.changed_at, self.changed_by = at, by
