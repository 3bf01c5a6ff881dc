"""Masking of personal data per tab, for callers without CustomerPiiRead. Applied to every answer that
carries the data (tabs, statements, exports), so masked data stays masked however it is queried."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def stars(value: Any, keep: int = 1) -> Any:
    """`W***`: the first character(s) only."""
    if not value:
        return value
    text = str(value)
    return text[:keep] + "*" * max(len(text) - keep, 3)


def tail(value: Any, visible: int = 4) -> Any:
    """`****1234`: the last characters only (numbers)."""
    if not value:
        return value
    text = str(value)
    shown = text[-visible:] if len(text) > visible + 2 else ""
    return "*" * max(len(text) - len(shown), 4) + shown


def email(value: Any) -> Any:
    if not value:
        return value
    local, _, domain = str(value).partition("@")
    return f"{local[:1]}***@{domain}" if domain else stars(value)


def ip(value: Any) -> Any:
    """IPv4 keeps its first two octets, IPv6 its first two groups."""
    if not value:
        return value
    text = str(value)
    sep = ":" if ":" in text else "."
    parts = text.split(sep)
    return sep.join(parts[:2] + ["*"] * max(len(parts) - 2, 1))


def hidden(value: Any) -> Any:
    return None if value is None else "****"


def _ids(value: Any) -> Any:
    if not value:
        return value
    return [{**item, "number": tail(item.get("number"))} for item in value]


# section -> field -> mask
RULES: dict[str, dict[str, Callable[[Any], Any]]] = {
    "general": {"email": email, "phone_number": tail, "address_line": stars, "postal_code": hidden, "name": stars},
    "personal": {"first_name": stars, "last_name": stars, "date_of_birth": hidden, "id_numbers": _ids},
    "financial_status": {"tax_id": tail, "employer": stars},
    "financial_experience": {},
    "banking": {"holder_name": stars, "account_number": tail},
    "logs": {"ip": ip},
}


def mask(section: str, data: Mapping[str, Any], unmasked: bool) -> dict[str, Any]:
    """The section's data, with its personal fields masked unless `unmasked`."""
    out = dict(data)
    if unmasked:
        return out
    for field, fn in RULES.get(section, {}).items():
        if field in out:
            out[field] = fn(out[field])
    return out
