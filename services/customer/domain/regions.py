"""Region rules of the source documents.

User Region: 1. country/region of residence; 2. the mobile phone's dialing code (resolved with the
`phonenumbers` library: the full number when we have it, so +1 numbers resolve to US/CA/…; otherwise the
dialing code's main region); 3. the country of the registration IP address.
Active Region: the ID issuing country when known, otherwise the User Region.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from shared.runtime.phones import parse_international

_NON_REGIONS = {None, "", "ZZ", "001"}


@lru_cache(maxsize=65_536)
def region_from_phone(dialing_code: str | None, national_number: str | None) -> str | None:
    """Region of a phone number (full number first), else of its dialing code; None when unknown."""
    if not dialing_code:
        return None
    digits = dialing_code.lstrip("+")
    if not digits.isdigit():
        return None
    if national_number:
        parsed = parse_international(f"+{digits}{national_number}")  # shared with the phone's hash (outbox)
        if parsed is not None:
            region = phonenumbers.region_code_for_number(parsed)
            if region not in _NON_REGIONS:
                return region
    region = phonenumbers.region_code_for_country_code(int(digits))
    return None if region in _NON_REGIONS else region


def user_region(residence_country: str | None, phone_dialing_code: str | None, phone_number: str | None,
                registration_ip_country: str | None) -> str | None:
    if residence_country:
        return residence_country
    by_phone = region_from_phone(phone_dialing_code, phone_number)
    if by_phone:
        return by_phone
    return registration_ip_country or None


def active_region(id_issuing_country: str | None, user_region_: str | None) -> str | None:
    return id_issuing_country or user_region_ or None
