"""The end-of-day reconciliation of captured calls and SMS: the captures of a day (in BROKERAGE_TIMEZONE) that
matched no customer, with the reason and the counts. Never the phone number."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from shared.runtime.auth import Perm, Principal, Scope, require

from ..projections.tables import captures
from .deps import Container, container

router = APIRouter(tags=["captures"])


class UnmatchedCapture(BaseModel):
    kind: str = Field(description="call / sms")
    capture_id: str = Field(description="The telephony system's call id or the SMS gateway's message id.")
    staff_id: str
    reason: str = Field(description="unknown_customer, unknown_phone, ambiguous_phone or invalid_phone.")
    at: datetime
    direction: str | None = None
    duration_s: int | None = None
    outcome: str


class Reconciliation(BaseModel):
    date: date
    timezone: str
    captured: int = Field(description="Calls and SMS captured that day (in the caller's view).")
    matched: int = Field(description="Of those, matched to a customer and recorded as follow-ups.")
    unmatched: int
    unmatched_by_reason: dict[str, int]
    items: list[UnmatchedCapture] = Field(description="The unmatched captures, oldest first (at most `limit`).")


@router.get("/tasks/captures/unmatched", response_model=Reconciliation,
            summary="End-of-day reconciliation: the day's captured calls and SMS that matched no customer")
async def unmatched(
    day: date = Query(alias="date", description="The day, in the brokerage's time zone (BROKERAGE_TIMEZONE)."),
    limit: int = Query(default=200, ge=1, le=1000),
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Container = Depends(container),
) -> dict[str, Any]:
    tz = c.settings.brokerage.tz
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    where = [captures.c.at >= start, captures.c.at < end]
    if principal.scope != Scope.all:  # captures are the staff member's own: a manager or a team lead sees theirs
        where.append(captures.c.staff_id == principal.user_id)

    def query() -> dict[str, Any]:
        with c.sessions() as s:
            counts = dict(s.execute(select(func.coalesce(captures.c.reason, ""), func.count())
                                    .where(*where).group_by(captures.c.reason)).all())
            rows = s.execute(select(captures).where(*where, captures.c.reason.is_not(None))
                             .order_by(captures.c.at, captures.c.capture_key).limit(limit)).mappings().all()
        by_reason = {k: v for k, v in counts.items() if k}
        return {"date": day, "timezone": c.settings.brokerage.timezone, "captured": sum(counts.values()),
                "matched": counts.get("", 0), "unmatched": sum(by_reason.values()), "unmatched_by_reason": by_reason,
                "items": [UnmatchedCapture(**{k: r[k] for k in UnmatchedCapture.model_fields}) for r in rows]}

    return await asyncio.to_thread(query)
