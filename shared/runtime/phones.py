"""Phone numbers as match keys without keeping them: the number normalised to E.164, then HMAC-SHA256 with the
brokerage's key (`BROKERAGE_PHONE_HASH_KEY`, the same in every service). The customer service publishes the
hash of a customer's number (`crm.customer.customer_registered.phone_hash`); the tasks service hashes the
number a call or SMS names the same way and looks it up. Neither the number nor the hash is ever logged."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

import phonenumbers


@lru_cache(maxsize=8192)
def parse_international(text: str) -> phonenumbers.PhoneNumber | None:
    """`phonenumbers.parse(text)` of a number with its + and dialing code, None when it does not parse; read-only
    (never change the returned object). The last few thousand are kept: a customer's number is parsed for its
    region (the customer's view), for its hash before the save (the outbox check) and again when the relay
    publishes it — an import chunk parsed each of its numbers three times."""
    try:
        return phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=8192)
def normalise(number: str) -> str | None:
    """E.164 (`+85291234567`) of an international number (with or without the leading +), None if invalid."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if not digits:
        return None
    parsed = parse_international("+" + digits)
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_hash(key: str, number: str | None, dialing_code: str | None = None) -> str | None:
    """The keyed hash of a number (`dialing_code` + national number, or one international number)."""
    if not number:
        return None
    e164 = normalise((dialing_code or "") + number)
    if e164 is None:
        return None
    return hmac.new(key.encode(), e164.encode(), hashlib.sha256).hexdigest()
