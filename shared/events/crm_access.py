"""`crm.access.events`: what the access service publishes (through its outbox): roles, the organisation tree
and staff members with their role assignments.

Each event carries the whole current state of the thing it is about and the version of the aggregate it comes
from, so a consumer (every service's `shared.runtime.access_directory.AccessDirectory`) keeps the highest
version it has seen and ignores older or repeated ones: any delivery order gives the same directory.
No personal data: staff are ids; their names stay in the access service.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from . import topics
from .registry import Payload, registry
from .types import EntityId, ShortText


class DataScope(StrEnum):
    """What a role's holder sees: their own customers, their team's, the customers of every team under an
    organisation node (the role's, the assignment's, or the holder's own node), or everyone's."""

    own = "own"
    team = "team"
    node = "node"
    all = "all"


class NodeKind(StrEnum):
    """The levels of the organisation tree, top down."""

    company = "company"
    region = "region"
    branch = "branch"
    team = "team"


Permission = ShortText


@registry.contract("crm.access.role_changed", version=1, topic=topics.CRM_ACCESS, key="role_id")
class AccessRoleChanged(Payload):
    """A role was defined, changed or retired; the role as it is now."""

    role_id: EntityId = Field(description="Stable id of the role (a slug chosen when it was defined).")
    name: ShortText = Field(description="Display name, e.g. Relationship Manager.")
    permissions: list[Permission] = Field(max_length=200, description="Permissions from the catalogue.")
    scope: DataScope
    node_id: EntityId | None = Field(default=None, description="Organisation node of a `node` scope, if fixed "
                                                                  "by the role (else the assignment's or holder's).")
    retired: bool = Field(default=False, description="A retired role grants nothing.")
    version: int = Field(ge=1, description="Version of the role; a consumer keeps the highest.")
    changed_at: AwareDatetime
    changed_by: ShortText | None = Field(default=None, description="Staff id of the author of the change.")


@registry.contract("crm.access.org_node_changed", version=1, topic=topics.CRM_ACCESS, key="node_id")
class AccessOrgNodeChanged(Payload):
    """A node of the organisation tree (company → region → branch → team) was added, renamed, moved or
    removed; the node as it is now. Team node ids are the team ids the other services know."""

    node_id: EntityId
    kind: NodeKind
    parent_id: EntityId | None = Field(default=None, description="None for the company (the root).")
    name: ShortText
    removed: bool = False
    version: int = Field(ge=1, description="Version of the tree after the change; a consumer keeps the highest.")
    changed_at: AwareDatetime
    changed_by: ShortText | None = None


class RoleAssignment(Payload):
    """One role held by a staff member, with its effective period."""

    assignment_id: EntityId
    role_id: EntityId
    node_id: EntityId | None = Field(default=None, description="Organisation node a `node`-scoped role is "
                                                                  "anchored at for this assignment.")
    effective_from: AwareDatetime
    effective_until: AwareDatetime | None = Field(default=None, description="Exclusive end; None: open-ended.")


class StaffChange(StrEnum):
    registered = "registered"
    updated = "updated"
    role_assigned = "role_assigned"
    role_revoked = "role_revoked"
    exited = "exited"


@registry.contract("crm.access.staff_changed", version=1, topic=topics.CRM_ACCESS, key="staff_id")
class AccessStaffChanged(Payload):
    """A staff member was registered, moved, given or relieved of a role, or left (exit revokes every role);
    the member's status, node and every assignment not revoked, as they are now."""

    staff_id: EntityId = Field(description="The staff member's user id (the `sub` of their tokens).")
    node_id: EntityId | None = Field(default=None, description="Organisation node the member belongs to.")
    status: str = Field(pattern=r"^(active|exited)$")
    change: StaffChange
    assignments: list[RoleAssignment] = Field(default_factory=list, max_length=100)
    version: int = Field(ge=1, description="Version of the staff member; a consumer keeps the highest.")
    changed_at: AwareDatetime
    changed_by: ShortText | None = None
