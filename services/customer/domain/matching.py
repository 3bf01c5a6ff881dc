"""Existing-customer matching: the keys a customer is matched by, normalised, and the decision.

Exact keys (a match links the records automatically): the ID number (issuing country + number), the
brokerage's customer number, a phone the platform verified (E.164). The probable key (a match only queues
the pair for review): the normalised name with the date of birth. The clear values are derived from the
state here (pure); the index holds only their keyed hashes (`MatchKeyer`, HMAC-SHA256 with the service's
`CUSTOMER_MATCH_KEY`), so an ID number can neither be read back from it nor guessed by hashing candidates.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

EXACT_KEYS = ("id_number", "customer_number", "verified_phone")  # in order of precedence
PROBABLE_KEYS = ("name_dob",)
ALL_KEYS = EXACT_KEYS + PROBABLE_KEYS
DEV_MATCH_KEY = b"whale-crm/match/development-only"  # folds built without settings (unit tests)

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_NOT_NAME = re.compile(r"[^\w\s]")


def normalise_name(name: str | None) -> str | None:
    """Compatibility-folded, case-folded, punctuation dropped, tokens sorted: 'CHAN, Tai-Man' and
    'tai man chan' are the same name."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKC", name).casefold().replace("-", " ")
    tokens = _NOT_NAME.sub(" ", folded).split()
    return " ".join(sorted(tokens)) or None


def normalise_dob(value: Any) -> str | None:
    if not value:
        return None
    try:
        return (value if isinstance(value, date) else date.fromisoformat(str(value)[:10])).isoformat()
    except ValueError:
        return None


def normalise_id_number(number: str | None, country: str | None) -> str | None:
    """Upper case, separators dropped ('A123456(7)' → 'A1234567'), qualified by the issuing country."""
    if not number:
        return None
    clean = _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", number).upper())
    return f"{(country or '').upper()}:{clean}" if clean else None


def normalise_customer_number(number: str | None) -> str | None:
    if not number:
        return None
    clean = _NOT_ALNUM.sub("", number.upper())
    return clean or None


def normalise_phone(dialing_code: str | None, number: str | None) -> str | None:
    """E.164 (+<country code><national number>), national trunk prefixes dropped when phonenumbers can parse."""
    if not dialing_code or not number:
        return None
    raw = f"{dialing_code}{number}"
    try:
        import phonenumbers

        parsed = phonenumbers.parse(raw, None)
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except Exception:  # noqa: BLE001 - an unparseable number is still compared as its digits
        return "+" + re.sub(r"\D", "", raw)


def match_inputs(state: dict[str, Any]) -> dict[str, str]:
    """The customer's normalised match values (clear; only ever stored hashed in the index)."""
    profile = state["profile"]

    def value(key: str) -> Any:
        entry = profile.get(key)
        return entry[0] if entry else None

    identity = state["identity"] or state.get("imported") or {}  # the verified identity, else a manual import's
    phone = value("phone") or [None, None]
    name = normalise_name(identity.get("legal_name") or value("name"))
    dob = normalise_dob(identity.get("date_of_birth"))
    out = {
        "id_number": normalise_id_number(identity.get("id_number"), identity.get("issuing_country")),
        "customer_number": normalise_customer_number(value("customer_number")),
        "verified_phone": normalise_phone(phone[0], phone[1]) if value("phone_verified") else None,
        "name_dob": f"{name}|{dob}" if name and dob else None,
    }
    return {k: v for k, v in out.items() if v}


def match_key(secret: str | None, fallback: str | None) -> bytes | None:
    """The index key: `CUSTOMER_MATCH_KEY`, else one derived from the HS256 JWT secret (development); None
    when neither is set."""
    for text in (secret, fallback):
        if text:
            return hashlib.sha256(b"whale-crm/match\x00" + text.encode()).digest()
    return None


@dataclass(frozen=True)
class MatchKeyer:
    """Keyed hashes of the match values: what the index stores and is searched by."""

    secret: bytes

    def digest(self, kind: str, value: str) -> str:
        return hmac.new(self.secret, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()

    def hashes(self, inputs: dict[str, str]) -> dict[str, str]:
        return {kind: self.digest(kind, v) for kind, v in sorted(inputs.items())}


@dataclass(frozen=True)
class Decision:
    kind: str  # "exact" or "probable"
    key: str  # which key matched
    candidate_id: str

    @property
    def reason(self) -> str:
        return f"{self.kind}:{self.key}"


def decide(found: dict[str, set[str]], *, refused_exact: set[str] | frozenset[str] = frozenset(),
           refused_probable: set[str] | frozenset[str] = frozenset()) -> Decision | None:
    """`found`: key kind → the other customers holding the same hash. An exact key wins over a probable one
    (by precedence, then the smallest customer id: the same input always gives the same decision). A pair a
    person separated (rejected, unmerged) is never linked automatically again (`refused_exact`); a pair
    already suggested is not suggested again (`refused_probable`)."""
    for key in EXACT_KEYS:
        ids = sorted(i for i in found.get(key) or () if i not in refused_exact)
        if ids:
            return Decision("exact", key, ids[0])
    for key in PROBABLE_KEYS:
        ids = sorted(i for i in found.get(key) or () if i not in refused_probable and i not in refused_exact)
        if ids:
            return Decision("probable", key, ids[0])
    return None
