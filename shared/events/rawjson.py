"""Reading one Kafka record's bytes as a JSON object, defensively.

Upstream records are untrusted: whatever they hold (a deep nesting, a huge value, invalid UTF-8, NaN, a
bare array), `parse` returns a dict or raises `ContractError` with a reason code, never anything else, so
a consumer dead-letters the record and keeps going instead of dying on it (and meeting it again on every
restart).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from typing import Any

from .errors import ContractError


@dataclass(frozen=True)
class Limits:
    """Bounds on one record. `max_bytes` defaults to Kafka's own default record limit (1 MiB)."""

    max_bytes: int = 1_048_576
    max_depth: int = 32  # objects and arrays nested in each other; the deepest contract needs about 6

    @classmethod
    def from_env(cls) -> Limits:
        """`EVENTS_MAX_RECORD_BYTES` and `EVENTS_MAX_DEPTH` (same names in every service)."""
        return cls(max_bytes=int(os.environ.get("EVENTS_MAX_RECORD_BYTES", cls.max_bytes)),
                   max_depth=int(os.environ.get("EVENTS_MAX_DEPTH", cls.max_depth)))


# A JSON string (escapes included) or one bracket: strings are skipped whole, so brackets inside them
# do not count.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def nesting_depth(text: str, limit: int) -> int:
    """Nesting depth of a JSON text, without recursion; stops counting past `limit`."""
    depth = deepest = 0
    for m in _TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif c in "]}":
            depth -= 1
    return deepest


def _reject_constant(name: str) -> Any:
    raise ContractError("$", f"{name} is not a JSON value", reason="invalid_json")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ContractError("$", f"number {text[:40]} is out of range", reason="invalid_json")
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)




def check_size(raw: bytes | bytearray | memoryview | str, limits: Limits) -> None:
    if len(raw) > limits.max_bytes:
        raise ContractError("$", f"record of {len(raw)} bytes is over the limit of {limits.max_bytes}",
                            reason="too_large")


def plain(raw: bytes, limits: Limits) -> bool:
    """Whether a record (within the size limit) may go straight to pydantic's JSON parser: too few brackets
    to be too deep, and no NaN or Infinity (pydantic's parser accepts those). The others, and any record
    pydantic refuses, go through `parse`, which names the reason. A few C-speed scans; most records pass.
    (A number that overflows to infinity can only reach an unknown field this way: typed fields refuse
    it, and the JSON form of the payload, `Event.data`, holds it as null.)"""
    return (raw.count(b"[") + raw.count(b"{") <= limits.max_depth
            and b"NaN" not in raw and b"Infinity" not in raw and not _maybe_surrogate(raw))


def _maybe_surrogate(raw: bytes | str) -> bool:
    """A `\\uD8xx`-style escape: a surrogate, which must come in a valid pair (else no UTF-8 can hold it)."""
    if isinstance(raw, str):
        return "\\ud" in raw or "\\uD" in raw
    return b"\\ud" in raw or b"\\uD" in raw


def parse(raw: bytes | bytearray | memoryview | str, limits: Limits) -> dict[str, Any]:
    """The record as a JSON object, within `limits`; ContractError (field `$`) otherwise."""
    check_size(raw, limits)
    if isinstance(raw, str):
        text = raw
    else:
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractError("$", f"not valid UTF-8 (byte {exc.start})", reason="invalid_utf8") from None
    # Cheap first: a record with few brackets cannot be deep; only the others are scanned.
    if text.count("[") + text.count("{") > limits.max_depth:
        depth = nesting_depth(text, limits.max_depth)
        if depth > limits.max_depth:
            raise ContractError("$", f"nested deeper than {limits.max_depth} levels", reason="too_deep")
    try:
        data = _DECODER.decode(text)
    except ContractError:
        raise
    except (ValueError, RecursionError) as exc:
        raise ContractError("$", f"not valid JSON ({exc.__class__.__name__})", reason="invalid_json") from None
    if not isinstance(data, dict):
        raise ContractError("$", f"an event must be a JSON object, not {type(data).__name__}",
                            reason="not_an_object")
    if _maybe_surrogate(text):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ContractError("$", "a string holds an unpaired surrogate escape", reason="invalid_json") from None
    return data
