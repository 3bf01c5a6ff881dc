"""Request dependencies: the container, the caller's audience, dates in the brokerage's time zone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from shared.runtime.auth import Principal

from ..container import Container
from ..domain.clock import today
from ..queries.audience import Audience, OutOfScope, audience_for

T = TypeVar("T")
# Every day a query or path names: far enough from date.min/max that day arithmetic (yesterday, a week
# before, a time zone's midnight) stays in range; anything else is a 422 naming the parameter.
DAY_RANGE: dict[str, Any] = {"ge": date(1900, 1, 1), "le": date(2999, 12, 31)}


def container(request: Request) -> Container:
    return request.app.state.container


def audience(principal: Principal, manager_id: str | None, team_id: str | None) -> Audience:
    try:
        return audience_for(principal, manager_id=manager_id, team_id=team_id)
    except OutOfScope as exc:
        raise HTTPException(404, detail=str(exc)) from None


async def read(c: Container, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous query in a worker thread with its own session."""

    def run() -> T:
        with c.sessions() as s:
            return fn(s, *args, **kwargs)

    return await asyncio.to_thread(run)


def local_today(c: Container) -> date:
    return today(c.settings.tz)


def check_interval(c: Container, first: date | None, last: date | None, *, default_days: int = 30) -> tuple[date, date]:
    """Interval of local dates, both ends inclusive; 422 naming the field when it is not one."""
    from datetime import timedelta

    last = last or local_today(c)
    first = first or last - timedelta(days=default_days - 1)
    if first > last:
        raise _invalid("from", "must not be after 'to'")
    if (last - first).days + 1 > c.settings.max_interval_days:
        raise _invalid("to", f"interval longer than {c.settings.max_interval_days} days")
    return first, last


def _invalid(field: str, message: str) -> HTTPException:
    return HTTPException(422, detail=f"{field}: {message}")


def invalid(field: str, message: str) -> HTTPException:
    return _invalid(field, message)


SessionFn = Callable[[Session], Any]
