"""Opaque, verified keyset cursors: one implementation for every list endpoint.

A cursor is `<payload>.<tag>`: the payload is the page's last sort key as base64url JSON, the tag an
HMAC-SHA256 (truncated to 128 bits) over the list's name and the payload with the service's cursor key
(`<NAME>_CURSOR_SECRET`). A cursor that was not issued by this service for this list and sort order, or
whose values are not of the expected kinds (no nulls where a value is expected, no NaN, no infinities),
answers 422 problem+json naming `cursor` — never a server error, and never a query with forged values.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import Query
from pydantic import SecretStr

from .api import Problem
from .logging import get_logger

log = get_logger("cursor")

CURSOR_PATTERN = r"^[A-Za-z0-9_\-]{1,1200}\.[A-Za-z0-9_\-]{22}$"
CURSOR_MAX_LENGTH = 1223
CURSOR_DESCRIPTION = "`next_cursor` of the previous page (opaque; only cursors this list issued are accepted)."
_TAG_BYTES = 16


class BadCursor(Problem):
    def __init__(self, message: str):
        super().__init__(422, "Unprocessable Entity", f"cursor: {message}", type_="urn:whale-crm:problem:validation",
                         errors=[{"field": "query.cursor", "message": message}])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a cursor value")


class CursorCodec:
    """Signs and verifies cursors with one key. `kinds` name the type of each value of a list's sort key:
    str, int, Decimal, datetime (aware, ISO 8601) — or `(kind, None)` for a value that may be null."""

    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("a cursor key needs at least 16 bytes")
        self._key = key

    def _tag(self, scope: str, payload: str) -> str:
        mac = hmac.new(self._key, f"{scope}\x00{payload}".encode(), hashlib.sha256).digest()
        return _b64(mac[:_TAG_BYTES])

    def encode(self, scope: str, values: Sequence[Any]) -> str:
        raw = [v.astimezone(UTC).isoformat() if isinstance(v, datetime) and v.tzinfo
               else v.replace(tzinfo=UTC).isoformat() if isinstance(v, datetime)
               else str(v) if isinstance(v, Decimal) else v for v in values]
        payload = _b64(json.dumps(raw, separators=(",", ":"), allow_nan=False).encode())
        return f"{payload}.{self._tag(scope, payload)}"

    def decode(self, cursor: str, scope: str, kinds: Sequence[Any]) -> list[Any]:
        payload, dot, tag = cursor.partition(".")
        if not dot or not payload or len(cursor) > CURSOR_MAX_LENGTH:
            raise BadCursor("not a cursor of this list")
        if not hmac.compare_digest(tag.encode(), self._tag(scope, payload).encode()):
            raise BadCursor("not a cursor of this list (or made for another sort order)")
        try:
            raw = json.loads(_unb64(payload), parse_constant=_reject_constant)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise BadCursor("not a cursor of this list") from None
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise BadCursor("not a cursor of this list")
        return [_value(v, k) for v, k in zip(raw, kinds, strict=True)]


def _value(v: Any, kind: Any) -> Any:
    nullable = isinstance(kind, tuple)
    kind = kind[0] if nullable else kind
    if v is None:
        if nullable:
            return None
        raise BadCursor("not a cursor of this list")
    try:
        if kind is str and isinstance(v, str):
            return v
        if kind is int and isinstance(v, int) and not isinstance(v, bool):
            return v
        if kind is Decimal and isinstance(v, str | int):
            d = Decimal(v)
            if d.is_finite():
                return d
        if kind is float and isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
        if kind is datetime and isinstance(v, str):
            at = datetime.fromisoformat(v)
            return at if at.tzinfo else at.replace(tzinfo=UTC)
    except (ValueError, InvalidOperation):
        pass
    raise BadCursor("not a cursor of this list")


def naive_utc(at: datetime) -> datetime:
    """A decoded (aware) cursor time for a column that stores naive UTC times."""
    return at.astimezone(UTC).replace(tzinfo=None)


_random_key: bytes | None = None


def _secret_text(s: SecretStr | str | None) -> str | None:
    return (s.get_secret_value() if isinstance(s, SecretStr) else s) or None


def cursor_key(secret: SecretStr | str | None, fallback: SecretStr | str | None = None) -> bytes:
    """The service's cursor key: its own secret, else one derived from the fallback (the HS256 JWT secret),
    else a random key of this process (cursors then do not survive a restart or cross replicas; a warning
    says so — a served API never gets here, see `missing_cursor_secret`)."""
    global _random_key
    for s in (secret, fallback):
        text = _secret_text(s)
        if text:
            return hashlib.sha256(b"whale-crm/cursor\x00" + text.encode()).digest()
    if _random_key is None:
        _random_key = secrets.token_bytes(32)
        log.warning("cursor_key_random", hint="set <SERVICE>_CURSOR_SECRET so cursors work across replicas")
    return _random_key


def _fallback(settings: Any) -> SecretStr | None:
    """Production tokens (RS256) leave nothing shared to derive a key from: only HS256 (development) does."""
    return settings.auth.jwt_secret if settings.auth.jwt_algorithm == "HS256" else None


def missing_cursor_secret(settings: Any) -> str | None:
    """The variable a served API lacks to sign cursors that every replica accepts, or None.

    With RS256 tokens (production) `<NAME>_CURSOR_SECRET` is required; with HS256 (development) the key may
    be derived from `AUTH_JWT_SECRET`. The process refuses to start rather than sign with a per-process
    random key: a next page fetched through another replica, or after a rolling restart, would be a 422."""
    if _secret_text(getattr(settings, "cursor_secret", None)) or _secret_text(_fallback(settings)):
        return None
    return f"{settings.model_config.get('env_prefix', '')}CURSOR_SECRET"


def codec_for(settings: Any) -> CursorCodec:
    """The codec of a service's settings (`cursor_secret`, else the HS256 JWT secret)."""
    key = cursor_key(getattr(settings, "cursor_secret", None), _fallback(settings))
    codec = _codecs.get(key)
    if codec is None:
        codec = _codecs[key] = CursorCodec(key)
    return codec


_codecs: dict[bytes, CursorCodec] = {}


CursorQuery = Annotated[str | None, Query(max_length=CURSOR_MAX_LENGTH, pattern=CURSOR_PATTERN,
                                          description=CURSOR_DESCRIPTION)]
