"""Route dependencies: the container, the caller as a domain `Actor`, keyset cursors."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from shared.runtime.auth import Principal
from shared.runtime.cursor import codec_for

from ..domain.scope import Actor


def container(request: Request) -> Any:
    return request.app.state.container


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.user_id, str(principal.scope), tuple(principal.teams))


def encode_cursor(c: Any, scope: str, values: list[Any]) -> str:
    return codec_for(c.settings).encode(scope, values)


def decode_cursor(c: Any, cursor: str | None, scope: str, kinds: tuple[Any, ...]) -> list[Any] | None:
    """The verified values of a cursor this list issued (422 for anything else)."""
    return codec_for(c.settings).decode(cursor, scope, kinds) if cursor else None
