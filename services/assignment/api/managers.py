"""Teams and account managers (SupportManageFull to change; ClientProfileReadOnly to read)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import and_, or_, select

from shared.runtime.api import not_found
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery

from ..domain.capacity import manager_capacity, team_totals
from ..projections import tables as t
from ..projections.apply import aware
from .deps import actor_of, container, decode_cursor, encode_cursor, scope_clause
from .models import ManagerIn, ManagerPatch, ResignIn, TeamIn, TeamPatch

router = APIRouter(tags=["managers"])


def manager_out(row: Any) -> dict[str, Any]:
    out = aware(row)
    return out | manager_capacity(out["load"], out["capacity"], out["status"])


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


@router.get("/teams/capacity")
async def teams_capacity(p: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                         c: Any = Depends(container)) -> dict[str, Any]:
    """Load against capacity per team (the managers the caller's data scope shows, grouped by team): managers,
    active managers, load, capacity and idle of the active ones, utilisation. Managers without a team are
    the row with `team_id` null."""
    actor = actor_of(p)
    m = t.managers

    def q() -> list[dict[str, Any]]:
        stmt = select(m.c.team_id, m.c.load, m.c.capacity, m.c.status).where(m.c.status != "resigned")
        if (vis := scope_clause(actor, t.managers)) is not None:
            stmt = stmt.where(vis)
        by_team: dict[str | None, list[Any]] = {}
        with c.sessions() as s:
            for r in s.execute(stmt).mappings():
                by_team.setdefault(r["team_id"], []).append(r)
            names = {r.team_id: r.name for r in s.execute(select(t.teams.c.team_id, t.teams.c.name))}
        return [{"team_id": k, "name": names.get(k) if k else None, **team_totals(v)}
                for k, v in sorted(by_team.items(), key=lambda kv: kv[0] or "")]

    return {"items": await asyncio.to_thread(q)}


@router.get("/teams/{team_id}/capacity")
async def team_capacity(team_id: str, p: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                        c: Any = Depends(container)) -> dict[str, Any]:
    """One team's load against capacity: its totals and each manager who has not resigned (load, capacity,
    idle, utilisation), busiest first."""
    actor = actor_of(p)
    m = t.managers

    def q() -> dict[str, Any] | None:
        with c.sessions() as s:
            team = s.execute(select(t.teams.c.team_id, t.teams.c.name).where(t.teams.c.team_id == team_id)).first()
            if team is None:
                return None
            stmt = select(m.c.manager_id, m.c.name, m.c.status, m.c.load, m.c.capacity).where(
                m.c.team_id == team_id, m.c.status != "resigned")
            if (vis := scope_clause(actor, t.managers)) is not None:
                stmt = stmt.where(vis)
            rows = [dict(r) for r in s.execute(stmt).mappings()]
        members = sorted(({**r, **manager_capacity(r["load"], r["capacity"], r["status"])} for r in rows),
                         key=lambda r: (-(r["utilisation"] or 0), r["manager_id"]))
        return {"team_id": team.team_id, "name": team.name, "totals": team_totals(rows), "managers": members}

    out = await asyncio.to_thread(q)
    if out is None or not (actor.scope == "all" or team_id in actor.teams):
        raise not_found("team", team_id)
    return out


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
