"""Request and response bodies. Requests are strict: unknown fields and bad values are 422 naming the field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.runtime.auth import Perm

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:]+$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
ScopeName = Literal["own", "team", "node", "all"]
Kind = Literal["company", "region", "branch", "team"]
PermName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------------------------------ requests
class RoleDefinition(Strict):
    name: Name = Field(description="Display name, e.g. Relationship Manager.")
    permissions: list[PermName] = Field(max_length=200, description="Names from GET /access/permissions.")
    scope: ScopeName = Field(description="Data scope: own, team, node (the teams under an organisation node), all.")
    node_id: Id | None = Field(default=None, description="Organisation node of a `node` scope (else the "
                                                          "assignment's node, else the holder's).")


class RoleBody(RoleDefinition):
    role_id: Id = Field(description="Stable id of the new role (a slug).")


class NodeBody(Strict):
    node_id: Id = Field(description="Stable id; a team's is the team id the services know (e.g. T-HK).")
    kind: Kind
    parent_id: Id | None = Field(default=None, description="The node one level up (none for the company).")
    name: Name


class NodePatch(Strict):
    name: Name = Field(default=None, description="New name.")  # type: ignore[assignment]
    parent_id: Id = Field(default=None, description="New parent, of the level above.")  # type: ignore[assignment]


class StaffBody(Strict):
    staff_id: Id = Field(description="The member's user id (the `sub` of their tokens).")
    display_name: Name
    node_id: Id | None = Field(default=None, description="Organisation node the member belongs to.")


class StaffPatch(Strict):
    display_name: Name = Field(default=None)  # type: ignore[assignment]
    node_id: Id = Field(default=None, description="Move the member to this node.")  # type: ignore[assignment]


class AssignBody(Strict):
    role_id: Id
    node_id: Id | None = Field(default=None, description="Anchor of a `node`-scoped role for this assignment.")
    effective_from: AwareDatetime | None = Field(default=None, description="Default: now.")
    effective_until: AwareDatetime | None = Field(default=None, description="Exclusive end; default: open-ended.")


# ------------------------------------------------------------------------------------------ responses
class PermissionOut(BaseModel):
    name: Perm = Field(description="The permission (the catalogue's enum: the console's menus and buttons name these).")
    description: str


class PermissionList(BaseModel):
    items: list[PermissionOut]


class RoleOut(BaseModel):
    role_id: str
    name: str
    permissions: list[str]
    scope: ScopeName
    node_id: str | None
    retired: bool
    version: int


class RolePage(BaseModel):
    items: list[RoleOut]
    next_cursor: str | None


class NodeOut(BaseModel):
    node_id: str
    kind: Kind
    parent_id: str | None
    name: str


class NodePage(BaseModel):
    items: list[NodeOut]
    next_cursor: str | None


class AssignmentOut(BaseModel):
    assignment_id: str
    role_id: str
    node_id: str | None
    effective_from: datetime
    effective_until: datetime | None


class StaffOut(BaseModel):
    staff_id: str
    display_name: str
    node_id: str | None
    status: Literal["active", "exited"]
    version: int
    assignments: list[AssignmentOut]


class StaffPage(BaseModel):
    items: list[StaffOut]
    next_cursor: str | None


class EffectiveOut(BaseModel):
    staff_id: str
    at: datetime
    active: bool = Field(description="A known member who has not exited.")
    roles: list[str]
    permissions: list[str]
    scope: Literal["own", "team", "all"]
    teams: list[str] = Field(description="Teams a `team` scope covers.")
    team_id: str | None
    valid_until: datetime | None = Field(description="When a role assignment next starts or ends.")
