"""Funnel analytics: stage-to-stage conversion and median times per manager, team or weekly cohort."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime

from shared.runtime.auth import Perm, Principal, require

from ..domain.clock import to_naive_utc
from ..queries.funnel import funnel_report
from .deps import DAY_RANGE, audience, check_interval, container, read

router = APIRouter(prefix="/analytics", tags=["analytics"])
Reader = Annotated[Principal, Depends(require(Perm.ClientProfileReadOnly))]


@router.get("/funnel")
async def get_funnel(
    request: Request, principal: Reader,
    first: Annotated[date | None, Query(alias="from", **DAY_RANGE,
                                        description="First registration date (local).")] = None,
    last: Annotated[date | None, Query(alias="to", **DAY_RANGE,
                                       description="Last registration date (local; on or after `from`).")] = None,
    group_by: Literal["none", "manager", "team", "cohort"] = "none",
    as_of: Annotated[AwareDatetime | None, Query(description="Count only milestones reached by then.")] = None,
    manager_id: str | None = None, team_id: str | None = None,
) -> dict[str, Any]:
    """registered → opened → funded → traded over customers registered in [from, to] (default 90 days)."""
    c = container(request)
    first, last = check_interval(c, first, last, default_days=90)
    cutoff: datetime | None = to_naive_utc(as_of) if as_of else None
    return await read(c, funnel_report, c.settings.tz, first, last, audience(principal, manager_id, team_id),
                      group_by=group_by, as_of=cutoff)
