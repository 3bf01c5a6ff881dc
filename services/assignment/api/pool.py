"""Team pools (step-by-step allocation): a rule with `allocation: team_pool` queues customers in a team's pool
and the team lead distributes them. Read with ClientProfileReadOnly, distribute with AssignmentManage; a
team-scope caller sees and distributes only their teams' pools (another team's: 404)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import and_, or_, select

from shared.runtime.api import not_found
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery

from ..domain.scope import Actor
from ..projections import tables as t
from ..projections.apply import aware, utc
from .assignments import bulk_out
from .deps import actor_of, container, decode_cursor, encode_cursor
from .models import DistributeIn

router = APIRouter(tags=["team pool"])


def _visible_team(c: Any, actor: Actor, team_id: str) -> dict[str, Any]:
    """The team's row when the caller's scope covers it (all, or one of their teams); else 404."""
    if not (actor.scope == "all" or (actor.scope == "team" and team_id in actor.teams)):
        raise not_found("team", team_id)
    with c.sessions() as s:
        row = s.execute(select(t.teams).where(t.teams.c.team_id == team_id)).mappings().first()
    if row is None:
        raise not_found("team", team_id)
    return aware(row)


def _entry(row: Any, now: datetime) -> dict[str, Any]:
    r = aware(row)
    return {**r, "waiting_s": max(int((now - r["queued_at"]).total_seconds()), 0),
            "breached": r["breached_at"] is not None or r["sla_due_at"] <= now}


@router.get("/teams/{team_id}/pool")
async def team_pool(team_id: str, cursor: CursorQuery = None, limit: int = Query(50, ge=1, le=500),
                    p: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                    c: Any = Depends(container)) -> dict[str, Any]:
    """The customers waiting in the team's pool, longest wait first (keyset by queued_at, customer_id): how
    long each has waited, its SLA due time and whether it passed it; with the pool's totals."""
    actor, tp = actor_of(p), t.team_pool
    after = decode_cursor(c, cursor, f"team-pool:{team_id}", (str, str))
    now = c.clock.now()

    def q() -> dict[str, Any]:
        team = _visible_team(c, actor, team_id)
        stmt = select(tp).where(tp.c.team_id == team_id)
        if after:
            at = utc(datetime.fromisoformat(after[0]))
            stmt = stmt.where(or_(tp.c.queued_at > at, and_(tp.c.queued_at == at, tp.c.customer_id > after[1])))
        with c.sessions() as s:
            rows = [_entry(r, now) for r in s.execute(stmt.order_by(tp.c.queued_at, tp.c.customer_id)
                                                      .limit(limit + 1)).mappings()]
        stats = c.directory.pool_stats(now, team_id).get(team_id, {"waiting": 0, "breached": 0, "oldest_wait_s": 0})
        return {"team": team, "rows": rows, "summary": {k: int(v) for k, v in stats.items()}}

    out = await asyncio.to_thread(q)
    rows, more = out["rows"][:limit], len(out["rows"]) > limit
    team = out["team"]
    return {"team_id": team_id, "pool_sla_minutes": team["pool_sla_minutes"] or c.settings.pool_sla_minutes,
            "summary": out["summary"], "items": rows,
            "next_cursor": encode_cursor(c, f"team-pool:{team_id}", [rows[-1]["queued_at"].isoformat(),
                                                                     rows[-1]["customer_id"]]) if more else None}


@router.post("/teams/{team_id}/pool/distribute")
async def distribute(team_id: str, body: DistributeIn, p: Principal = Depends(require(Perm.AssignmentManage)),
                     c: Any = Depends(container)) -> dict[str, Any]:
    """The lead gives customers waiting in the team's pool to a manager of the team (reason `team_pool`), with
    the capacity and status checks of a manual assignment; per-customer results as a bulk assignment
    (not_queued, over_capacity, unknown_customer, …), the rest applied."""
    actor = actor_of(p)
    await asyncio.to_thread(_visible_team, c, actor, team_id)
    results = await asyncio.to_thread(c.assigner.assign, actor, body.customer_ids, body.manager_id,
                                      reason="team_pool", from_pool=team_id)
    c.wake()
    return {"team_id": team_id, **bulk_out(body.manager_id, results)}
