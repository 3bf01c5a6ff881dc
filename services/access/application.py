"""The access eventsourcing application: thin commands (load, check, call, save).

Synchronous (eventsourcing is): async callers use `asyncio.to_thread`. A command that loses a concurrent
write (optimistic concurrency on the aggregate's version) is reloaded and re-checked, a few times.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from shared.runtime.commands import save_retrying
from shared.runtime.eventstore import TrackingApplication

from .domain.errors import AlreadyExists, InvalidInput, InvalidTransition, NotFound, StillInUse
from .domain.org import ORG_ID, OrgTree
from .domain.role import Role, role_key
from .domain.staff import Staff, staff_key

T = TypeVar("T")
ATTEMPTS = 3
InUse = Callable[[str], str | None]  # node id -> what still points at it (a member, a role), or None


class AccessApplication(TrackingApplication):
    name = "access"
    # Set by bootstrap: what in the read model still points at a node (members, roles); None: nothing.
    node_in_use: InUse = staticmethod(lambda node_id: None)  # type: ignore[assignment]

    # ------------------------------------------------------------------------------------- reading
    def _get(self, key: uuid.UUID, cls: type[T], what: str, field: str) -> T:
        agg = self.load(key)
        if not isinstance(agg, cls):
            raise NotFound(f"{what} not found", field=field)
        return agg

    def get_role(self, role_id: str) -> Role:
        return self._get(role_key(role_id), Role, f"role {role_id!r}", "role_id")

    def get_staff(self, staff_id: str) -> Staff:
        return self._get(staff_key(staff_id), Staff, f"staff member {staff_id!r}", "staff_id")

    def org(self) -> OrgTree:
        tree = self.load(ORG_ID)
        return tree if isinstance(tree, OrgTree) else OrgTree()

    def history(self, key: uuid.UUID) -> list[Any]:
        return list(self.repository.event_store.get(key))

    def _check_node(self, node_id: str | None, field: str = "node_id") -> None:
        if node_id is not None and not self.org().has(node_id):
            raise InvalidInput(f"organisation node {node_id!r} does not exist", field=field)

    def _retrying(self, step: Callable[[], tuple[Any, T]]) -> T:
        return save_retrying(self, step, attempts=ATTEMPTS)

    # --------------------------------------------------------------------------------------- roles
    def define_role(self, *, role_id: str, name: str, permissions: Iterable[str], scope: str,
                    node_id: str | None, at: datetime, by: str) -> Role:
        if self.load(role_key(role_id)) is not None:
            raise AlreadyExists(f"role {role_id!r} exists already", field="role_id")
        self._check_node(node_id)
        role = Role.define(role_id=role_id, name=name, permissions=permissions, scope=scope, node_id=node_id,
                           at=at, by=by)
        self.save(role)  # a concurrent definition of the same id loses on the version: 409
        return role

    def change_role(self, role_id: str, *, name: str, permissions: Iterable[str], scope: str,
                    node_id: str | None, at: datetime, by: str) -> Role:
        self._check_node(node_id)

        def step() -> tuple[Role, Role]:
            role = self.get_role(role_id)
            role.change(name=name, permissions=list(permissions), scope=scope, node_id=node_id, at=at, by=by)
            return role, role

        return self._retrying(step)

    def retire_role(self, role_id: str, *, at: datetime, by: str) -> Role:
        def step() -> tuple[Role, Role]:
            role = self.get_role(role_id)
            role.retire(at=at, by=by)
            return role, role

        return self._retrying(step)

    # ------------------------------------------------------------------------------ organisation tree
    def add_node(self, *, node_id: str, kind: str, parent_id: str | None, name: str, at: datetime,
                 by: str) -> OrgTree:
        def step() -> tuple[OrgTree, OrgTree]:
            tree = self.org()
            tree.add(node_id=node_id, kind=kind, parent_id=parent_id, name=name, at=at, by=by)
            return tree, tree

        return self._retrying(step)

    def change_node(self, node_id: str, *, name: str | None, parent_id: str | None, at: datetime,
                    by: str) -> OrgTree:
        def step() -> tuple[OrgTree, OrgTree]:
            tree = self.org()
            tree.change(node_id=node_id, name=name, parent_id=parent_id, at=at, by=by)
            return tree, tree

        return self._retrying(step)

    def remove_node(self, node_id: str, *, at: datetime, by: str) -> OrgTree:
        def step() -> tuple[OrgTree, OrgTree]:
            tree = self.org()
            tree.node(node_id)
            user = self.node_in_use(node_id)
            if user is not None:
                raise StillInUse(f"organisation node {node_id!r} is still used by {user}", field="node_id")
            tree.remove(node_id=node_id, at=at, by=by)
            return tree, tree

        return self._retrying(step)

    # --------------------------------------------------------------------------------------- staff
    def register_staff(self, *, staff_id: str, display_name: str, node_id: str | None, at: datetime,
                       by: str) -> Staff:
        if self.load(staff_key(staff_id)) is not None:
            raise AlreadyExists(f"staff member {staff_id!r} exists already", field="staff_id")
        self._check_node(node_id)
        staff = Staff(staff_id=staff_id, display_name=display_name, node_id=node_id, at=at, by=by)
        self.save(staff)
        return staff

    def update_staff(self, staff_id: str, *, display_name: str | None, node_id: str | None, at: datetime,
                     by: str) -> Staff:
        self._check_node(node_id)

        def step() -> tuple[Staff, Staff]:
            staff = self.get_staff(staff_id)
            staff.update(display_name=display_name, node_id=node_id, at=at, by=by)
            return staff, staff

        return self._retrying(step)

    def assign_role(self, staff_id: str, *, assignment_id: str, role_id: str, node_id: str | None,
                    effective_from: datetime, effective_until: datetime | None, at: datetime, by: str) -> Staff:
        role = self.load(role_key(role_id))
        if not isinstance(role, Role):
            raise InvalidInput(f"role {role_id!r} does not exist", field="role_id")
        if role.retired:
            raise InvalidTransition(f"role {role_id!r} is retired")
        if node_id is not None and role.scope != "node":
            raise InvalidInput("only a `node`-scoped role is anchored at a node", field="node_id")
        self._check_node(node_id)

        def step() -> tuple[Staff, Staff]:
            staff = self.get_staff(staff_id)
            staff.assign(assignment_id=assignment_id, role_id=role_id, node_id=node_id,
                         effective_from=effective_from, effective_until=effective_until, at=at, by=by)
            return staff, staff

        return self._retrying(step)

    def revoke_role(self, staff_id: str, assignment_id: str, *, at: datetime, by: str) -> Staff:
        def step() -> tuple[Staff, Staff]:
            staff = self.get_staff(staff_id)
            staff.revoke(assignment_id=assignment_id, at=at, by=by)
            return staff, staff

        return self._retrying(step)

    def exit_staff(self, staff_id: str, *, at: datetime, by: str) -> Staff:
        def step() -> tuple[Staff, Staff]:
            staff = self.get_staff(staff_id)
            staff.exit(at=at, by=by)
            return staff, staff

        return self._retrying(step)
