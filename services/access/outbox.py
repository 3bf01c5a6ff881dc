"""Outbox mapper: stored access domain events -> crm.access.* messages (through shared.runtime.outbox.OutboxRelay).

Every message carries the whole state of its role, node or staff member *at the event's version* (the relay
may publish an old notification after a restart, so it reads the aggregate at that version), and that
version: consumers keep the highest. Staff names are never published.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from shared.events.crm_access import (
    AccessOrgNodeChanged,
    AccessRoleChanged,
    AccessStaffChanged,
    RoleAssignment,
)
from shared.runtime.outbox import Outgoing

from .domain.org import OrgTree
from .domain.role import Role
from .domain.staff import Staff

AggregateAt = Callable[[uuid.UUID, int], Any]  # (aggregate id, version) -> the aggregate at that version

STAFF_CHANGES: dict[type, str] = {Staff.Registered: "registered", Staff.Updated: "updated",
                                  Staff.RoleAssigned: "role_assigned", Staff.RoleRevoked: "role_revoked",
                                  Staff.Exited: "exited"}
ROLE_EVENTS: frozenset[type] = frozenset({Role.Defined, Role.Changed, Role.Retired})
NODE_EVENTS: frozenset[type] = frozenset({OrgTree.NodeAdded, OrgTree.NodeChanged, OrgTree.NodeRemoved})


def role_message(role: Role, version: int) -> AccessRoleChanged:
    return AccessRoleChanged(role_id=role.role_id, name=role.name, permissions=list(role.permissions),
                             scope=role.scope, node_id=role.node_id, retired=role.retired, version=version,
                             changed_at=role.changed_at, changed_by=role.changed_by)


def assignments_of(staff: Staff) -> list[RoleAssignment]:
    return [RoleAssignment(assignment_id=k, role_id=a["role_id"], node_id=a["node_id"],
                           effective_from=a["effective_from"], effective_until=a["effective_until"])
            for k, a in sorted(staff.assignments.items())]


class AccessOutboxMapper:
    def __init__(self, aggregate_at: AggregateAt):
        self._at = aggregate_at

    def __call__(self, ev: Any) -> Sequence[Outgoing]:
        kind = type(ev)
        if kind in ROLE_EVENTS:
            role = self._at(ev.originator_id, ev.originator_version)
            return [Outgoing(role_message(role, ev.originator_version), occurred_at=ev.at)]
        if kind in NODE_EVENTS:
            removed = kind is OrgTree.NodeRemoved
            # a removed node is described as it was just before
            tree = self._at(ev.originator_id, ev.originator_version - 1 if removed else ev.originator_version)
            node = tree.nodes[ev.node_id]
            return [Outgoing(AccessOrgNodeChanged(node_id=ev.node_id, kind=node["kind"], parent_id=node["parent_id"],
                                                  name=node["name"], removed=removed, version=ev.originator_version,
                                                  changed_at=ev.at, changed_by=ev.by), occurred_at=ev.at)]
        if kind in STAFF_CHANGES:
            staff = self._at(ev.originator_id, ev.originator_version)
            return [Outgoing(AccessStaffChanged(staff_id=staff.staff_id, node_id=staff.node_id, status=staff.status,
                                                change=STAFF_CHANGES[kind], assignments=assignments_of(staff),
                                                version=ev.originator_version, changed_at=ev.at,
                                                changed_by=ev.by), occurred_at=ev.at)]
        return []
