"""Keyset cursors: an opaque token holding the sort key of the last row of a page."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from .deps import invalid


def encode(*values: Any) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, kinds: tuple[type, ...]) -> list[Any]:
    """The values of a cursor, parsed as `kinds` (datetime or str); 422 naming `cursor` if it is not one."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(data, list) or len(data) != len(kinds):
            raise ValueError("shape")
        return [datetime.fromisoformat(v) if k is datetime else str(v) for v, k in zip(data, kinds, strict=True)]
    except (ValueError, TypeError, UnicodeDecodeError):
        raise invalid("query.cursor", "not a cursor of this list") from None
