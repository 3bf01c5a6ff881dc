"""Teams and account managers (SupportManageFull to change; ClientProfileReadOnly to read)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import and_, or_, select

from shared.runtime.api import not_found
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery

from ..projections import tables as t
from ..projections.apply import aware
from .deps import actor_of, container, decode_cursor, encode_cursor, scope_clause
from .models import ManagerIn, ManagerPatch, ResignIn, TeamIn, TeamPatch

router = APIRouter(tags=["managers"])


def manager_out(row: Any) -> dict[str, Any]:
    return aware(row)


# ------------------------------------------------------------------------------------------- teams
@router.post("/teams", status_code=201)
async def create_team(body: TeamIn, p: Principal = Depends(require(Perm.SupportManageFull)),
                      c: Any = Depends(container)) -> dict[str, Any]:
    out = await asyncio.to_thread(c.admin.create_team, actor_of(p), at=c.clock.now(), **body.model_dump())
    c.wake()
    return out


@router.patch("/teams/{team_id}")
async def edit_team(team_id: str, body: TeamPatch, p: Principal = Depends(require(Perm.SupportManageFull)),
                    c: Any = Depends(container)) -> dict[str, Any]:
    out = await asyncio.to_thread(c.admin.edit_team, actor_of(p), team_id, body.model_dump(exclude_unset=True),
                                  c.clock.now())
    c.wake()
    return out


@router.get("/teams")
async def list_teams(leader_id: str | None = None, p: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                     c: Any = Depends(container)) -> dict[str, Any]:
    """Teams (the hierarchy data scope uses); `leader_id` lists the teams a user leads (for the gateway's
    `teams` claim)."""
    actor = actor_of(p)

    def q() -> list[dict[str, Any]]:
        stmt = select(t.teams).order_by(t.teams.c.team_id)
        if leader_id:
            stmt = stmt.where(t.teams.c.leader_id == leader_id)
        if actor.scope != "all":
            stmt = stmt.where(t.teams.c.team_id.in_(actor.teams or ("\x00",)))
        with c.sessions() as s:
            return [aware(r) for r in s.execute(stmt).mappings()]

    return {"items": await asyncio.to_thread(q)}


@router.get("/teams/{team_id}")
async def get_team(team_id: str, p: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                   c: Any = Depends(container)) -> dict[str, Any]:
    actor = actor_of(p)

    def q() -> dict[str, Any] | None:
        with c.sessions() as s:
            row = s.execute(select(t.teams).where(t.teams.c.team_id == team_id)).mappings().first()
            if row is None:
                return None
            members = s.execute(select(t.managers.c.manager_id, t.managers.c.status)
                                .where(t.managers.c.team_id == team_id).order_by(t.managers.c.manager_id))
            return {**aware(row), "members": [dict(m._mapping) for m in members]}

    out = await asyncio.to_thread(q)
    if out is None or not (actor.scope == "all" or team_id in actor.teams):
        raise not_found("team", team_id)
    return out


# ---------------------------------------------------------------------------------------- managers
@router.post("/managers", status_code=201)
async def create_manager(body: ManagerIn, p: Principal = Depends(require(Perm.SupportManageFull)),
                         c: Any = Depends(container)) -> dict[str, Any]:
    out = await asyncio.to_thread(c.admin.create_manager, actor_of(p), at=c.clock.now(), **body.model_dump())
    c.wake()
    return out


@router.patch("/managers/{manager_id}")
async def edit_manager(manager_id: str, body: ManagerPatch, p: Principal = Depends(require(Perm.SupportManageFull)),
                       c: Any = Depends(container)) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    out = await asyncio.to_thread(c.admin.edit_manager, actor_of(p), manager_id, changes, c.clock.now())
    if "team_id" in changes:  # their customers follow them (the scheduler finishes what the read model lags)
        await asyncio.to_thread(c.assigner.follow_team_changes, manager_id)
    c.wake()
    return out


@router.post("/managers/{manager_id}/resign")
async def resign_manager(manager_id: str, body: ResignIn, p: Principal = Depends(require(Perm.SupportManageFull)),
                         c: Any = Depends(container)) -> dict[str, Any]:
    """Resign; hands every customer over to `to_manager_id` or back to the pool. `pending` > 0 means the
    read model was still catching up: the scheduler finishes the hand-over (nobody is left orphaned)."""
    c.wake()
    out = await asyncio.to_thread(c.assigner.resign, actor_of(p), manager_id, body.handover, body.to_manager_id)
    c.wake()
    return {"manager_id": manager_id, "status": "resigned", **out}


@router.get("/managers")
async def list_managers(team_id: str | None = None, status: str | None = None,
                        cursor: CursorQuery = None, limit: int = Query(50, ge=1, le=500),
                        p: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                        c: Any = Depends(container)) -> dict[str, Any]:
    actor = actor_of(p)
    after = decode_cursor(c, cursor, "managers", (str,))
    m = t.managers

    def q() -> list[dict[str, Any]]:
        stmt = select(m).order_by(m.c.manager_id).limit(limit + 1)
        clauses = [x for x in (scope_clause(actor, t.managers),
                               m.c.team_id == team_id if team_id else None,
                               m.c.status == status if status else None,
                               m.c.manager_id > after[0] if after else None) if x is not None]
        if clauses:
            stmt = stmt.where(and_(*clauses))
        with c.sessions() as s:
            return [manager_out(r) for r in s.execute(stmt).mappings()]

    rows = await asyncio.to_thread(q)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode_cursor(c, "managers", [rows[-1]["manager_id"]]) if more else None}


@router.get("/managers/{manager_id}")
async def get_manager(manager_id: str, p: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                      c: Any = Depends(container)) -> dict[str, Any]:
    actor = actor_of(p)
    m = t.managers

    def q() -> dict[str, Any] | None:
        stmt = select(m).where(m.c.manager_id == manager_id)
        vis = scope_clause(actor, t.managers)
        if vis is not None:
            stmt = stmt.where(or_(vis))
        with c.sessions() as s:
            row = s.execute(stmt).mappings().first()
            return manager_out(row) if row else None

    out = await asyncio.to_thread(q)
    if out is None:
        raise not_found("manager", manager_id)
    return out
