"""Keyset cursors: the kit's signed, strictly parsed cursors (`shared.runtime.cursor`), with the codec of
this service's settings (set by `create_api`)."""

from __future__ import annotations

from typing import Any

from shared.runtime.cursor import CursorCodec, codec_for

SCOPE = "usercrm"
_codec: list[CursorCodec] = []


def configure(settings: Any) -> None:
    _codec[:] = [codec_for(settings)]


def encode(*values: Any) -> str:
    return _codec[0].encode(SCOPE, values)


def decode(cursor: str, kinds: tuple[type, ...]) -> list[Any]:
    """The values of a cursor this service issued, parsed as `kinds`; 422 naming `query.cursor` otherwise."""
    return _codec[0].decode(cursor, SCOPE, kinds)
