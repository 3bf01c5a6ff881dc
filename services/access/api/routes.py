"""Routes: the permission catalogue, roles, the organisation tree, staff members, their role assignments and
exit, and a member's effective access right now (what every service's access directory answers)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

from shared.events.crm_audit import AuditKind
from shared.runtime import audit
from shared.runtime.auth import PERM_DESCRIPTIONS, Perm
from shared.runtime.cursor import CursorQuery, codec_for
from shared.runtime.logging import get_logger

from ..projections import queries as q
from .deps import Caller, Manager, Reader, container, not_found, read, run_command
from .models import (
    AssignBody,
    EffectiveOut,
    Id,
    NodeBody,
    NodeOut,
    NodePage,
    NodePatch,
    PermissionList,
    RoleBody,
    RoleDefinition,
    RoleOut,
    RolePage,
    StaffBody,
    StaffOut,
    StaffPage,
    StaffPatch,
)

log = get_logger("access.api")
router = APIRouter(prefix="/access", tags=["access"])
Limit = Annotated[int, Query(ge=1, le=1000)]


def _now() -> datetime:
    return datetime.now(UTC)


def _page_args(request: Request, cursor: str | None, limit: int, name: str) -> tuple[Any, str | None, int]:
    c = container(request)
    codec = codec_for(c.settings)
    after = codec.decode(cursor, name, (str,))[0] if cursor else None
    return codec, after, min(limit, c.settings.page_max)


# ------------------------------------------------------------------------------------- catalogue
@router.get("/permissions", response_model=PermissionList)
async def permissions(principal: Reader) -> dict[str, Any]:
    """Every permission a role can be made of (declared by the services in `shared.runtime.auth.Perm`)."""
    return {"items": [{"name": str(p), "description": PERM_DESCRIPTIONS.get(p, "")} for p in Perm]}


# ----------------------------------------------------------------------------------------- roles
@router.get("/roles", response_model=RolePage)
async def list_roles(request: Request, principal: Reader, cursor: CursorQuery = None, limit: Limit = 100,
                     retired: bool = False) -> dict[str, Any]:
    codec, after, limit = _page_args(request, cursor, limit, "access-roles")
    items, last = await read(request, q.roles_page, after, limit, retired)
    return {"items": items, "next_cursor": codec.encode("access-roles", [last]) if last else None}


async def _role(request: Request, role_id: str) -> dict[str, Any]:
    found = await read(request, q.role_row, role_id)
    if found is None:
        raise not_found(f"role {role_id!r}")
    return found


@router.get("/roles/{role_id}", response_model=RoleOut)
async def get_role(request: Request, role_id: Id, principal: Reader) -> dict[str, Any]:
    return await _role(request, role_id)


@router.post("/roles", response_model=RoleOut, status_code=201)
async def define_role(request: Request, body: RoleBody, principal: Manager) -> dict[str, Any]:
    """A new role: permissions from the catalogue and a data scope."""
    c = container(request)
    await run_command(c.app.define_role, role_id=body.role_id, name=body.name, permissions=body.permissions,
                      scope=body.scope, node_id=body.node_id, at=_now(), by=principal.user_id)
    log.info("access_role_defined", role_id=body.role_id, by=principal.user_id)
    return await _role(request, body.role_id)


@router.put("/roles/{role_id}", response_model=RoleOut)
async def change_role(request: Request, role_id: Id, body: RoleDefinition, principal: Manager) -> dict[str, Any]:
    """Replace a role's definition; every holder's rights change with it (no new token needed)."""
    c = container(request)
    await run_command(c.app.change_role, role_id, name=body.name, permissions=body.permissions, scope=body.scope,
                      node_id=body.node_id, at=_now(), by=principal.user_id)
    log.info("access_role_changed", role_id=role_id, by=principal.user_id)
    return await _role(request, role_id)


@router.delete("/roles/{role_id}", response_model=RoleOut)
async def retire_role(request: Request, role_id: Id, principal: Manager) -> dict[str, Any]:
    """Retire a role: it grants nothing from now on, to anyone holding it."""
    c = container(request)
    await run_command(c.app.retire_role, role_id, at=_now(), by=principal.user_id)
    log.info("access_role_retired", role_id=role_id, by=principal.user_id)
    return await _role(request, role_id)


# ----------------------------------------------------------------------------- organisation tree
@router.get("/org/nodes", response_model=NodePage)
async def list_nodes(request: Request, principal: Reader, cursor: CursorQuery = None,
                     limit: Limit = 500) -> dict[str, Any]:
    """The organisation tree as a list of nodes (each with its parent), by id."""
    codec, after, limit = _page_args(request, cursor, limit, "access-nodes")
    items, last = await read(request, q.nodes_page, after, limit)
    return {"items": items, "next_cursor": codec.encode("access-nodes", [last]) if last else None}


async def _node(request: Request, node_id: str) -> dict[str, Any]:
    c = container(request)
    tree = await run_command(c.app.org)
    if not tree.has(node_id):
        raise not_found(f"organisation node {node_id!r}")
    node = tree.nodes[node_id]
    return {"node_id": node_id, "kind": node["kind"], "parent_id": node["parent_id"], "name": node["name"]}


@router.post("/org/nodes", response_model=NodeOut, status_code=201)
async def add_node(request: Request, body: NodeBody, principal: Manager) -> dict[str, Any]:
    """Add a node one level below its parent (company → region → branch → team)."""
    c = container(request)
    await run_command(c.app.add_node, node_id=body.node_id, kind=body.kind, parent_id=body.parent_id,
                      name=body.name, at=_now(), by=principal.user_id)
    log.info("access_node_added", node_id=body.node_id, by=principal.user_id)
    return await _node(request, body.node_id)


@router.patch("/org/nodes/{node_id}", response_model=NodeOut)
async def change_node(request: Request, node_id: Id, body: NodePatch, principal: Manager) -> dict[str, Any]:
    """Rename a node, or move it under another parent of the level above (its subtree moves with it)."""
    c = container(request)
    await run_command(c.app.change_node, node_id, name=body.name, parent_id=body.parent_id, at=_now(),
                      by=principal.user_id)
    log.info("access_node_changed", node_id=node_id, by=principal.user_id)
    return await _node(request, node_id)


@router.delete("/org/nodes/{node_id}", status_code=204, response_class=Response)
async def remove_node(request: Request, node_id: Id, principal: Manager) -> Response:
    """Remove a leaf node no member, role or assignment points at (409 otherwise)."""
    c = container(request)
    await run_command(c.app.remove_node, node_id, at=_now(), by=principal.user_id)
    log.info("access_node_removed", node_id=node_id, by=principal.user_id)
    return Response(status_code=204)


# ----------------------------------------------------------------------------------------- staff
@router.get("/staff", response_model=StaffPage)
async def list_staff(request: Request, principal: Reader, cursor: CursorQuery = None, limit: Limit = 100,
                     node_id: Annotated[Id | None, Query()] = None,
                     status: Literal["active", "exited"] | None = None) -> dict[str, Any]:
    codec, after, limit = _page_args(request, cursor, limit, "access-staff")
    items, last = await read(request, q.staff_page, after, limit, node_id, status)
    return {"items": items, "next_cursor": codec.encode("access-staff", [last]) if last else None}


async def _staff(request: Request, staff_id: str) -> dict[str, Any]:
    found = await read(request, q.staff_row, staff_id)
    if found is None:
        raise not_found(f"staff member {staff_id!r}")
    return found


@router.get("/staff/{staff_id}", response_model=StaffOut)
async def get_staff(request: Request, staff_id: Id, principal: Reader) -> dict[str, Any]:
    return await _staff(request, staff_id)


@router.post("/staff", response_model=StaffOut, status_code=201)
async def register_staff(request: Request, body: StaffBody, principal: Manager) -> dict[str, Any]:
    c = container(request)
    await run_command(c.app.register_staff, staff_id=body.staff_id, display_name=body.display_name,
                      node_id=body.node_id, at=_now(), by=principal.user_id)
    log.info("access_staff_registered", staff_id=body.staff_id, by=principal.user_id)
    return await _staff(request, body.staff_id)


@router.patch("/staff/{staff_id}", response_model=StaffOut)
async def update_staff(request: Request, staff_id: Id, body: StaffPatch, principal: Manager) -> dict[str, Any]:
    c = container(request)
    await run_command(c.app.update_staff, staff_id, display_name=body.display_name, node_id=body.node_id,
                      at=_now(), by=principal.user_id)
    log.info("access_staff_updated", staff_id=staff_id, by=principal.user_id)
    return await _staff(request, staff_id)


@router.post("/staff/{staff_id}/roles", response_model=StaffOut, status_code=201)
async def assign_role(request: Request, staff_id: Id, body: AssignBody, principal: Manager) -> dict[str, Any]:
    """Give the member a role from `effective_from` (default now) until `effective_until` (default: open)."""
    c = container(request)
    now = _now()
    assignment_id = str(uuid.uuid4())
    await run_command(c.app.assign_role, staff_id, assignment_id=assignment_id, role_id=body.role_id,
                      node_id=body.node_id, effective_from=body.effective_from or now,
                      effective_until=body.effective_until, at=now, by=principal.user_id)
    log.info("access_role_assigned", staff_id=staff_id, role_id=body.role_id, assignment_id=assignment_id,
             by=principal.user_id)
    return await _staff(request, staff_id)


@router.delete("/staff/{staff_id}/roles/{assignment_id}", response_model=StaffOut)
async def revoke_role(request: Request, staff_id: Id, assignment_id: Id, principal: Manager) -> dict[str, Any]:
    """Take a role assignment away now; every service refuses what it granted within seconds."""
    c = container(request)
    await run_command(c.app.revoke_role, staff_id, assignment_id, at=_now(), by=principal.user_id)
    log.info("access_role_revoked", staff_id=staff_id, assignment_id=assignment_id, by=principal.user_id)
    return await _staff(request, staff_id)


@router.post("/staff/{staff_id}/exit", response_model=StaffOut)
async def exit_staff(request: Request, staff_id: Id, principal: Manager) -> dict[str, Any]:
    """The member left: every role assignment is revoked, whatever tokens they still hold."""
    c = container(request)
    await run_command(c.app.exit_staff, staff_id, at=_now(), by=principal.user_id)
    log.info("access_staff_exited", staff_id=staff_id, by=principal.user_id)
    return await _staff(request, staff_id)


@router.get("/staff/{staff_id}/effective", response_model=EffectiveOut)
async def effective(request: Request, staff_id: Id, principal: Reader,
                    at: Annotated[AwareDatetime | None, Query(description="Instant (default: now).")] = None,
                    ) -> dict[str, Any]:
    """What the member may do, over which customers, at `at`: the answer every service's access directory
    gives (union of the permissions of the roles in force; widest data scope)."""
    return await _effective(request, staff_id, at or _now())


@router.get("/me", response_model=EffectiveOut)
async def me(request: Request, principal: Caller) -> dict[str, Any]:
    """The caller's own effective access right now (any signed-in member): what the console shows and hides
    when the token names the person only (an OpenID Connect provider's). The console asks it once per sign-in
    (after the code exchange): audited as `auth.sign_in`."""
    audit.mark(request, "auth.sign_in", AuditKind.sign_in)
    return await _effective(request, principal.user_id, _now())


async def _effective(request: Request, staff_id: str, when: datetime) -> dict[str, Any]:
    acc = await read(request, q.effective, staff_id, when)
    return {"staff_id": staff_id, "at": when, "active": acc.active, "roles": list(acc.roles),
            "permissions": sorted(acc.permissions), "scope": str(acc.scope), "teams": list(acc.teams),
            "team_id": acc.team_id, "valid_until": acc.valid_until}
