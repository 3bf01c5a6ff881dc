"""Today's Summary: customer progress and the daily follow-up list."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from shared.runtime.auth import Perm, Principal, Scope, require
from shared.runtime.cursor import CursorQuery, codec_for, naive_utc

from ..queries.audience import OutOfScope
from ..queries.rollup import rollup
from ..queries.summary import DueFilter, due_list, today_summary
from .deps import DAY_RANGE, audience, container, local_today, read
from .models import BrokerageDay, Rollup

router = APIRouter(prefix="/summary", tags=["today's summary"])
Reader = Annotated[Principal, Depends(require(Perm.ClientProfileReadOnly))]
SignedIn = Annotated[Principal, Depends(require())]
# Figures by organisation level: a team, node or all-customers scope (an own scope has no team figures).
TeamReader = Annotated[Principal, Depends(require(Perm.ClientProfileReadOnly, scopes=(Scope.team, Scope.all)))]


@router.get("/day", response_model=BrokerageDay)
async def get_day(request: Request, principal: SignedIn) -> BrokerageDay:
    """The brokerage's current date and time zone, with yesterday and the same weekday last week: the days
    the console shows and asks for (a browser in another zone would otherwise count another day). Any
    signed-in caller: a date and a zone name are nobody's data."""
    c = container(request)
    return BrokerageDay.at(c.settings.timezone, datetime.now(UTC).astimezone(c.settings.tz))


@router.get("/today")
async def get_today(request: Request, principal: Reader, day: Annotated[date | None, Query(alias="date", **DAY_RANGE)] = None,
                    manager_id: str | None = None, team_id: str | None = None) -> dict[str, Any]:
    """Account openings, fundings and follow-ups by stage: the day vs the day before vs the same weekday a week
    before. Per manager for team and `all` scopes."""
    c = container(request)
    aud = audience(principal, manager_id, team_id)
    return await read(c, today_summary, c.settings.tz, day or local_today(c), aud)


@router.get("/rollup", response_model=Rollup, responses={
    403: {"description": "Own-customers scope: no team figures to roll up."},
    404: {"description": "The node is unknown or has no team the caller may see, or the service has no "
                         "organisation tree (SUMMARY_ACCESS_DIRECTORY=off)."}})
async def get_rollup(request: Request, principal: TeamReader,
                     day: Annotated[date | None, Query(alias="date", **DAY_RANGE)] = None,
                     node_id: Annotated[str | None, Query(min_length=1, max_length=64,
                                                          description="Default: the company.")] = None,
                     ) -> dict[str, Any]:
    """Today's Summary rolled up the organisation tree: the node's figures and one row per child node, each
    the sum of the teams at or under it that the caller may see (team / node scopes: their teams; all:
    every team). The tree comes from crm.access.events through the service's access directory."""
    c = container(request)
    directory = c.access_directory
    if directory is None:
        raise HTTPException(404, detail="no organisation tree: SUMMARY_ACCESS_DIRECTORY is off")
    visible = None if principal.scope == Scope.all else tuple(principal.teams)
    try:
        return await read(c, rollup, directory.tables, c.settings.tz, day or local_today(c), node_id, visible)
    except OutOfScope as exc:
        raise HTTPException(404, detail=str(exc)) from None


@router.get("/follow-ups")
async def get_follow_ups(
    request: Request, principal: Reader, day: Annotated[date | None, Query(alias="date", **DAY_RANGE)] = None,
    node: Annotated[str | None, Query(max_length=200)] = None,
    stage: Annotated[str | None, Query(max_length=40)] = None,
    overdue: bool | None = None,
    tag: Annotated[list[str] | None, Query(max_length=200)] = None,
    intent: Annotated[str | None, Query(max_length=200)] = None,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    manager_id: str | None = None, team_id: str | None = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Customers that need following up on the day: open tasks due by the end of it and the next follow-ups
    asked for by the latest follow-up records (overdue = due before the day began)."""
    c = container(request)
    aud = audience(principal, manager_id, team_id)
    flt = DueFilter(node=node, stage=stage, overdue=overdue, tags=tuple(tag or ()), intent=intent,
                    customer_id=customer_id)
    codec = codec_for(c.settings)
    after = codec.decode(cursor, "due", (datetime, str)) if cursor else None
    out = await read(c, due_list, c.settings.tz, day or local_today(c), aud, flt, limit=limit,
                     after=(naive_utc(after[0]), after[1]) if after else None)
    key = out.pop("next_key")
    return {**out, "next_cursor": codec.encode("due", list(key)) if key else None}
