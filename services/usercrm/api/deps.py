"""Route dependencies: the container, data scope, a thread hop for blocking work, problem helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Path, Request
from pydantic import StringConstraints
from sqlalchemy import exists, false, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from shared.runtime.api import Problem, validation_problem
from shared.runtime.auth import Perm, Principal, Scope

from ..projections import tables as t

if TYPE_CHECKING:
    from ..container import Container

T = TypeVar("T")
PROBLEM_BASE = "urn:whale-crm:problem:usercrm:"
CustomerIdPath = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{1,64}$"),
                           Path(description="Brokerage customer id.")]
EntityIdPath = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-.:]{1,64}$"), Path()]


def container(request: Request) -> Container:
    c: Container = request.app.state.container
    return c


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Database and event-store work in a worker thread (never on the event loop)."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def read(request: Request, fn: Callable[[Session], T]) -> T:
    with container(request).sessions() as session:
        return fn(session)


async def reading(request: Request, fn: Callable[[Session], T]) -> T:
    return await blocking(read, request, fn)


def in_scope(principal: Principal, customer_id: ColumnElement[Any]) -> ColumnElement[bool] | None:
    """A condition on `customer_id` for the principal's data scope (None: everyone)."""
    if principal.scope == Scope.all:
        return None
    o = t.owner
    if principal.scope == Scope.own:
        cond = o.c.manager_id == principal.user_id
    elif principal.teams:
        cond = o.c.team_id.in_(principal.teams)
    else:
        return false()  # a team scope without teams sees nobody
    return exists().where(o.c.customer_id == customer_id, o.c.active == true(), cond)


def visible(session: Session, principal: Principal, customer_id: str) -> bool:
    c = t.customer
    stmt = select(c.c.customer_id).where(c.c.customer_id == customer_id)
    cond = in_scope(principal, c.c.customer_id)
    if cond is not None:
        stmt = stmt.where(cond)
    return session.scalar(stmt) is not None


def not_found(what: str, ident: str) -> Problem:
    return Problem(404, "Not Found", f"{what} {ident!r} not found", type_=f"{PROBLEM_BASE}not_found")


async def check_customer(request: Request, principal: Principal, customer_id: str) -> None:
    """404 unless the customer exists and the caller's data scope covers them (existence is not revealed)."""
    if not await reading(request, lambda s: visible(s, principal, customer_id)):
        raise not_found("customer", customer_id)


def unmasked(principal: Principal) -> bool:
    return principal.has(Perm.CustomerPiiRead)


invalid = validation_problem  # the kit's 422 naming the field


def plain(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as a dict with plain `str` keys (SQLAlchemy's are `quoted_name`s, which the JSON encoder
    serialises by inspection, costing a third of a statement page) and aware times."""
    return {str(k): _aware(v) for k, v in row.items()}


def _aware(value: Any) -> Any:
    """Times in UTC with their offset (SQLite hands back naive ones)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def correlation_id(request: Request) -> str | None:
    return getattr(request.state, "correlation_id", None)
