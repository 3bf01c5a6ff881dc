"""Route dependencies: the container, the caller as a domain `Actor`, keyset cursors."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import ColumnElement, Table

from shared.runtime.auth import Principal
from shared.runtime.cursor import codec_for

from ..domain.scope import Actor


def container(request: Request) -> Any:
    return request.app.state.container


def scope_clause(actor: Actor, table: Table) -> ColumnElement[bool] | None:
    """The rows of `table` (with `team_id` and `manager_id` columns) the actor's data scope shows: every row
    (None), its teams' rows, or its own."""
    if actor.scope == "all":
        return None
    if actor.scope == "team":
        return table.c.team_id.in_(actor.teams or ("\x00",))
    return table.c.manager_id == actor.user_id


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.user_id, str(principal.scope), tuple(principal.teams))


def encode_cursor(c: Any, scope: str, values: list[Any]) -> str:
    return codec_for(c.settings).encode(scope, values)


def decode_cursor(c: Any, cursor: str | None, scope: str, kinds: tuple[Any, ...]) -> list[Any] | None:
    """The verified values of a cursor this list issued (422 for anything else)."""
    return codec_for(c.settings).decode(cursor, scope, kinds) if cursor else None
