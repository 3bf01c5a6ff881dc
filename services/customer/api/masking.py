"""Masking of personal data for callers without CustomerPiiRead."""

from __future__ import annotations


def mask_text(value: str | None, keep: int = 1) -> str | None:
    if not value:
        return value
    return value[:keep] + "*" * max(len(value) - keep, 3)


def mask_email(value: str | None) -> str | None:
    if not value:
        return value
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if domain else mask_text(value)


def mask_tail(value: str | None, visible: int = 4) -> str | None:
    """`****1234`: the last digits only (phone numbers, ID numbers)."""
    if not value:
        return value
    tail = value[-visible:] if len(value) > visible + 2 else ""
    return "*" * max(len(value) - len(tail), 4) + tail


def person(row: dict, unmasked: bool) -> dict:
    """Name, phone and email of a customer row, masked unless the caller may see them."""
    if unmasked:
        return {"name": row.get("name"), "phone_dialing_code": row.get("phone_dialing_code"),
                "phone_number": row.get("phone_number"), "email": row.get("email")}
    return {"name": mask_text(row.get("name")), "phone_dialing_code": row.get("phone_dialing_code"),
            "phone_number": mask_tail(row.get("phone_number")), "email": mask_email(row.get("email"))}
