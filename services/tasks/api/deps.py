"""Route dependencies and helpers: the container, data scope, keyset cursors, masking."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from sqlalchemy import and_, false, or_, select, tuple_
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql import ColumnElement

from shared.runtime.api import Problem
from shared.runtime.api import run_command as kit_run_command
from shared.runtime.auth import Perm, Principal, Scope
from shared.runtime.cursor import codec_for

from ..container import Container
from ..projections.tables import customers

__all__ = ["Container"]
T = TypeVar("T")
PROBLEM_BASE = "urn:whale-crm:problem:tasks:"


def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def not_found(what: str, ident: str) -> HTTPException:
    return HTTPException(404, detail=f"{what} {ident!r} not found")


def conflict(detail: str) -> HTTPException:
    return HTTPException(409, detail=detail)


def run_command(call: Callable[[], T], refusals: dict[type[Exception], Callable[[Exception], HTTPException]], *,
                what: str) -> Awaitable[T]:
    """Run a synchronous application command in a worker thread (the kit's `run_command`): the command's
    refusals (`refusals`: exception type -> its HTTP answer) as problem+json, the last lost concurrent write
    (after `TasksApplication.CONFLICT_RETRIES`) as 409 `tasks:concurrent_change`."""

    def refused(exc: Exception) -> Problem | None:
        for kind, answer in refusals.items():
            if isinstance(exc, kind):
                http = answer(exc)
                return Problem(http.status_code, HTTPStatus(http.status_code).phrase, http.detail)
        return None

    return kit_run_command(call, PROBLEM_BASE, what=what, problem=refused)


# ------------------------------------------------------------------------------------------ scope
def customer_visible(principal: Principal, row: RowMapping | None) -> bool:
    if row is None:
        return False
    if principal.scope == Scope.all:
        return True
    if principal.scope == Scope.team:
        return row["team_id"] is not None and row["team_id"] in principal.teams
    return row["manager_id"] == principal.user_id


def customer_in_scope(c: Container, principal: Principal, customer_id: str) -> RowMapping:
    """The customer's card row, or 404 when unknown or outside the caller's scope."""
    with c.sessions() as s:
        row = s.execute(select(customers).where(customers.c.customer_id == customer_id)).mappings().first()
    if not customer_visible(principal, row):
        raise not_found("customer", customer_id)
    assert row is not None
    return row


def customers_scope_clause(principal: Principal) -> ColumnElement[bool] | None:
    if principal.scope == Scope.all:
        return None
    if principal.scope == Scope.team:
        return customers.c.team_id.in_(principal.teams) if principal.teams else false()
    return customers.c.manager_id == principal.user_id


# ------------------------------------------------------------------------------------------ paging
def encode_cursor(c: Container, scope: str, values: Sequence[Any]) -> str:
    return codec_for(c.settings).encode(scope, values)


def decode_cursor(c: Container, cursor: str, scope: str, kinds: Sequence[type]) -> list[Any]:
    """The verified values of a cursor this list issued (422 for anything else)."""
    return codec_for(c.settings).decode(cursor, scope, kinds)


def after(columns: Sequence[Any], values: Sequence[Any], *, descending: bool = False) -> ColumnElement[bool]:
    """Keyset condition: rows strictly after `values` in (columns) order."""
    if descending:
        return tuple_(*columns) < tuple_(*values)
    return tuple_(*columns) > tuple_(*values)


def mask_name(name: str | None, principal: Principal) -> str | None:
    if name is None or principal.has(Perm.CustomerPiiRead):
        return name
    return " ".join(part[:1] + "***" for part in name.split()) or "***"


def all_of(*clauses: ColumnElement[bool] | None) -> ColumnElement[bool]:
    return and_(*(c for c in clauses if c is not None))


def any_of(*clauses: ColumnElement[bool]) -> ColumnElement[bool]:
    return or_(*clauses)
