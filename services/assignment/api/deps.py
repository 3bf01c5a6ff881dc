"""Route dependencies: the container, the caller as a domain `Actor`, keyset cursors."""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi import HTTPException, Request

from shared.runtime.auth import Principal

from ..domain.scope import Actor


def container(request: Request) -> Any:
    return request.app.state.container


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.user_id, str(principal.scope), tuple(principal.teams))


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(422, detail="cursor: invalid cursor") from None
    if not isinstance(values, list) or len(values) != size:
        raise HTTPException(422, detail="cursor: invalid cursor")
    return values
