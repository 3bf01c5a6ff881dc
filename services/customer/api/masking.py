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
    return person_of(row.get("name"), row.get("phone_dialing_code"), row.get("phone_number"), row.get("email"),
                     unmasked)


def person_of(name: str | None, dialing_code: str | None, phone: str | None, email: str | None,
              unmasked: bool) -> dict:
    """`person` of the four values."""
    if unmasked:
        return {"name": name, "phone_dialing_code": dialing_code, "phone_number": phone, "email": email}
    return {"name": mask_text(name), "phone_dialing_code": dialing_code, "phone_number": mask_tail(phone),
            "email": mask_email(email)}
