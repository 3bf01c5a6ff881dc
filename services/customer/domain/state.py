"""The customer's state as a fold of facts, and the derived view the read model stores.

A *fact* is one upstream event (or one CRM action) in a plain, JSON-friendly shape:
`{"id": <event id>, "type": <event type>, "at": <business time, aware UTC datetime>, "data": {...}}`.

`evolve(state, fact)` is pure and copy-on-write (it never mutates `state`), and every field it keeps is
either a set keyed by a natural id (deposit transaction, trade, account, application) or a
last-writer-wins register ordered by `(business time, event id)`. So the same facts in any order, with
duplicates, give the same state: out-of-order delivery and replays are safe by construction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shared.events.crm_customer import VerificationStatus

SEEN_WINDOW = 1000  # upstream event ids remembered for de-duplication (re-publications arrive close together)
TRADE_WINDOW = 1000  # most recent trade ids remembered for de-duplication by trade id
RECENT_TRADES = 20
PROFILE_FIELDS = ("name", "phone", "email", "residence_country", "language", "registration_ip_country")

State = dict[str, Any]
Fact = dict[str, Any]


class UnknownFact(ValueError):
    """A fact type the reducer does not know (a programming or contract error, never retried)."""


def new_state(customer_id: str) -> State:
    return {
        "customer_id": customer_id,
        "registration": None,
        "profile": {},
        "identity": None,
        "applications": {},
        "accounts": {},
        "deposits": {},
        "withdrawals": {},
        "trades": {"count": 0, "first_at": None, "ids": [], "recent": []},
        "assets": {},
        "referrer": None,
        "imported": None,
        "risk": None,
        "verification": None,
        "verification_history": [],
        "tags": [],
        "remarks": 0,
        "merge": None,
        "absorbed": {},
        "suspects": {},
        "seen": [],
        "first_seen_at": None,
        "last_activity_at": None,
    }


def parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def _newer(candidate: tuple[datetime, str], current: tuple[datetime, str] | None) -> bool:
    return current is None or candidate > current


# ---------------------------------------------------------------------------------------- reducers
def _registered(s: State, f: Fact) -> None:
    d = f["data"]
    reg = {"at": f["at"], "channel": d.get("channel"), "campaign": d.get("campaign"),
           "referral_code": d.get("referral_code"), "id": f["id"]}
    current = s["registration"]
    if current is None or (reg["at"], reg["id"]) < (current["at"], current["id"]):
        s["registration"] = reg  # the first registration is the registration
    values = {
        "name": d.get("name"),
        "phone": [d["phone_dialing_code"], d["phone_number"]] if d.get("phone_dialing_code") else None,
        "email": d.get("email"),
        "residence_country": d.get("residence_country"),
        "language": d.get("language"),
        "registration_ip_country": d.get("registration_ip_country"),
        "customer_number": d.get("customer_number"),
    }
    if values["phone"] is not None:
        values["phone_verified"] = bool(d.get("phone_verified"))
    _set_profile(s, f, {k: v for k, v in values.items() if v is not None})


def _imported(s: State, f: Fact) -> None:
    """A row of a manual import (`domain/imports.py`): the customer enters the pool with source
    "manual import" (and its institution), unless a registration came first (the first one is kept);
    the contact details are last-writer-wins like a profile update; the ID document and date of birth are
    kept apart from the platform's verified identity (which wins where both exist)."""
    d = f["data"]
    reg = {"at": f["at"], "channel": "manual_import", "campaign": None, "referral_code": None, "id": f["id"],
           "institution_id": d.get("institution_id")}
    current = s["registration"]
    if current is None or (reg["at"], reg["id"]) < (current["at"], current["id"]):
        s["registration"] = reg
    values = {"name": d.get("name"), "email": d.get("email"), "language": d.get("language"),
              "residence_country": d.get("residence_country"),
              "phone": [d["phone_dialing_code"], d["phone_number"]] if d.get("phone_dialing_code") else None}
    _set_profile(s, f, {k: v for k, v in values.items() if v is not None})
    cur = s.get("imported")
    if _newer((f["at"], f["id"]), (cur["at"], cur["id"]) if cur else None):
        s["imported"] = {"at": f["at"], "id": f["id"], "id_type": d.get("id_type"), "id_number": d.get("id_number"),
                         "issuing_country": d.get("id_issuing_country"), "date_of_birth": d.get("date_of_birth")}


def _profile_updated(s: State, f: Fact) -> None:
    d = f["data"]
    values = {k: d[k] for k in ("name", "email", "residence_country", "language") if d.get(k) is not None}
    if d.get("phone_dialing_code") and d.get("phone_number"):
        values["phone"] = [d["phone_dialing_code"], d["phone_number"]]
        values["phone_verified"] = False  # a changed phone is not the one the platform verified
    _set_profile(s, f, values)


def _set_profile(s: State, f: Fact, values: dict[str, Any]) -> None:
    profile = dict(s["profile"])
    for key, value in values.items():
        cur = profile.get(key)
        if _newer((f["at"], f["id"]), (cur[1], cur[2]) if cur else None):
            profile[key] = [value, f["at"], f["id"]]
    s["profile"] = profile


def _identity_verified(s: State, f: Fact) -> None:
    d = f["data"]
    cur = s["identity"]
    if _newer((f["at"], f["id"]), (cur["at"], cur["id"]) if cur else None):
        s["identity"] = {"at": f["at"], "id": f["id"], "id_type": d.get("id_type"),
                         "issuing_country": d.get("id_issuing_country"), "id_number": d.get("id_number"),
                         "legal_name": d.get("legal_name"), "date_of_birth": d.get("date_of_birth")}
    _set_verification(s, {"status": VerificationStatus.verified.value, "at": f["at"], "id": f["id"],
                          "by": None, "reason": None, "source": "platform"})


def _set_verification(s: State, entry: dict[str, Any]) -> None:
    history = [h for h in s["verification_history"] if h["id"] != entry["id"]] + [entry]
    history.sort(key=lambda h: (h["at"], h["id"]))
    s["verification_history"] = history
    s["verification"] = history[-1]


def _application_submitted(s: State, f: Fact) -> None:
    d = f["data"]
    apps = dict(s["applications"])
    cur = dict(apps.get(d["application_id"]) or {"rejected_at": None, "reason": None})
    if _newer((f["at"], f["id"]), (cur["submitted_at"], cur["id"]) if cur.get("submitted_at") else None):
        first = cur.get("first_submitted_at")
        cur.update(submitted_at=f["at"], id=f["id"], account_type=d.get("account_type"),
                   documents=len(d.get("documents") or []), declarations=d.get("declarations") or {},
                   id_issuing_country=d.get("id_issuing_country"))
        cur["first_submitted_at"] = min(first, f["at"]) if first else f["at"]
    elif cur.get("first_submitted_at") and f["at"] < cur["first_submitted_at"]:
        cur["first_submitted_at"] = f["at"]
    apps[d["application_id"]] = cur
    s["applications"] = apps


def _account_rejected(s: State, f: Fact) -> None:
    d = f["data"]
    apps = dict(s["applications"])
    cur = dict(apps.get(d["application_id"]) or {"submitted_at": None, "first_submitted_at": None, "id": None})
    if cur.get("rejected_at") is None or (f["at"], f["id"]) > (cur["rejected_at"], cur.get("rejected_id") or ""):
        cur.update(rejected_at=f["at"], rejected_id=f["id"], reason=d.get("reason"))
    apps[d["application_id"]] = cur
    s["applications"] = apps


def _account_opened(s: State, f: Fact) -> None:
    d = f["data"]
    accounts = dict(s["accounts"])
    cur = dict(accounts.get(d["account_id"]) or {"closed_at": None, "close_reason": None})
    if cur.get("opened_at") is None or f["at"] < cur["opened_at"]:
        cur.update(opened_at=f["at"], application_id=d.get("application_id"), account_type=d.get("account_type"))
    accounts[d["account_id"]] = cur
    s["accounts"] = accounts


def _account_closed(s: State, f: Fact) -> None:
    d = f["data"]
    accounts = dict(s["accounts"])
    cur = dict(accounts.get(d["account_id"]) or {"opened_at": None, "application_id": None, "account_type": None})
    if cur.get("closed_at") is None or f["at"] > cur["closed_at"]:
        cur.update(closed_at=f["at"], close_reason=d.get("reason"))
    accounts[d["account_id"]] = cur
    s["accounts"] = accounts


def _money_moved(key: str):  # type: ignore[no-untyped-def]
    def reduce(s: State, f: Fact) -> None:
        d = f["data"]
        if d["transaction_id"] in s[key]:
            return
        moves = dict(s[key])
        moves[d["transaction_id"]] = {"amount": Decimal(str(d["amount"])), "currency": d["currency"],
                                      "at": f["at"], "account_id": d.get("account_id"), "method": d.get("method")}
        s[key] = moves

    return reduce


def _trade_executed(s: State, f: Fact) -> None:
    d = f["data"]
    t = s["trades"]
    if d["trade_id"] in t["ids"]:
        return
    trade = {"trade_id": d["trade_id"], "at": f["at"], "symbol": d.get("symbol"), "market": d.get("market"),
             "side": d.get("side"), "quantity": Decimal(str(d["quantity"])), "price": Decimal(str(d["price"])),
             "currency": d.get("currency"), "account_id": d.get("account_id")}
    recent = sorted([*t["recent"], trade], key=lambda x: (x["at"], x["trade_id"]), reverse=True)[:RECENT_TRADES]
    ids = [*t["ids"], d["trade_id"]][-TRADE_WINDOW:]
    first = t["first_at"]
    s["trades"] = {"count": t["count"] + 1, "first_at": min(first, f["at"]) if first else f["at"],
                   "ids": ids, "recent": recent}


def _asset_snapshot(s: State, f: Fact) -> None:
    d = f["data"]
    cur = s["assets"].get(d["account_id"])
    if not _newer((f["at"], f["id"]), (cur["as_of"], cur["id"]) if cur else None):
        return
    assets = dict(s["assets"])
    assets[d["account_id"]] = {
        "as_of": f["at"], "id": f["id"], "currency": d["currency"],
        "total_assets": Decimal(str(d["total_assets"])), "cash": Decimal(str(d["cash"])),
        "positions": [
            {"symbol": p["symbol"], "market": p["market"], "quantity": Decimal(str(p["quantity"])),
             "market_value": Decimal(str(p["market_value"])), "currency": p["currency"]}
            for p in d.get("positions") or []
        ],
    }
    s["assets"] = assets


def _referral_linked(s: State, f: Fact) -> None:
    d = f["data"]
    cur = s["referrer"]
    if _newer((f["at"], f["id"]), (cur["at"], cur["id"]) if cur else None):
        s["referrer"] = {"customer_id": d["referrer_customer_id"], "referral_code": d.get("referral_code"),
                         "at": f["at"], "id": f["id"]}


def _risk_assessed(s: State, f: Fact) -> None:
    """The latest assessment by (assessed_at, event id) is the customer's risk rating (any order, duplicates)."""
    d = f["data"]
    cur = s.get("risk")  # states folded before this version have no key
    if _newer((f["at"], f["id"]), (cur["at"], cur["id"]) if cur else None):
        s["risk"] = {"rating": d["risk_rating"], "score": d.get("score"), "assessment_id": d["assessment_id"],
                     "valid_until": d.get("valid_until"), "at": f["at"], "id": f["id"]}


def _crm_verification(s: State, f: Fact) -> None:
    d = f["data"]
    _set_verification(s, {"status": d["status"], "at": f["at"], "id": f["id"], "by": d.get("by"),
                          "reason": d.get("reason"), "source": "crm"})


def _crm_tags(s: State, f: Fact) -> None:
    d = f["data"]
    tags = (set(s["tags"]) | set(d.get("add") or [])) - set(d.get("remove") or [])
    s["tags"] = sorted(tags)


def _crm_remark(s: State, f: Fact) -> None:
    s["remarks"] = s["remarks"] + 1


def _crm_note(s: State, f: Fact) -> None:
    return None  # private notes live in the read model only (visible to their author), not in the state


# ------------------------------------------------------------------ merge, unmerge, suspected matches
# Every one is a last-writer-wins register by (time, fact id): the merge of a merged customer, each absorbed
# customer's link and milestones on the survivor, each suspected pair's status.
def _register(cur: dict[str, Any] | None, f: Fact, value: dict[str, Any]) -> dict[str, Any] | None:
    if _newer((f["at"], f["id"]), (cur["at"], cur["id"]) if cur else None):
        return {**value, "at": f["at"], "id": f["id"]}
    return None


def _set_suspect(s: State, f: Fact, candidate: str, status: str, reason: str | None = None) -> None:
    """A pair's status: any decision (merged, rejected, unmerged) supersedes the suggestion, whatever the
    times; decisions follow each other by (time, fact id)."""
    suspects = dict(s.get("suspects") or {})
    cur = suspects.get(candidate)
    if cur is not None and cur["status"] == "pending" and status != "pending":
        cur = None
    new = _register(cur, f, {"status": status, "reason": reason or (cur or {}).get("reason"),
                             "by": f["data"].get("by"), "comment": f["data"].get("comment"),
                             "suggested_at": (suspects.get(candidate) or {}).get("suggested_at", f["at"])})
    if new is not None:
        suspects[candidate] = new
        s["suspects"] = suspects


def _merged_into(s: State, f: Fact) -> None:
    d = f["data"]
    new = _register(s.get("merge"), f, {"survivor_id": d["survivor_id"], "reason": d["reason"],
                                        "by": d.get("by"), "active": True})
    if new is not None:
        s["merge"] = new
    if d["survivor_id"] in (s.get("suspects") or {}):
        _set_suspect(s, f, d["survivor_id"], "merged")


def _absorbed(s: State, f: Fact) -> None:
    """On the survivor: a customer merged into it (`link`), or its milestones changed since (`milestones`
    only: a refresh never re-links an unmerged customer)."""
    d = f["data"]
    absorbed = dict(s.get("absorbed") or {})
    cur = dict(absorbed.get(d["merged_id"]) or {"link": None, "milestones": None})
    if d.get("reason"):
        link = _register(cur["link"], f, {"active": True, "reason": d["reason"]})
        cur["link"] = link or cur["link"]
    ms = _register(cur["milestones"], f, {"values": d.get("milestones") or {}})
    cur["milestones"] = ms or cur["milestones"]
    absorbed[d["merged_id"]] = cur
    s["absorbed"] = absorbed


def _unmerged(s: State, f: Fact) -> None:
    d = f["data"]
    if d["role"] == "merged":
        cur = s.get("merge")
        new = _register(cur, f, {**(cur or {"survivor_id": d["other_id"], "reason": None}),
                                 "by": d.get("by"), "active": False})
        if new is not None:
            s["merge"] = new
        _set_suspect(s, f, d["other_id"], "unmerged", (cur or {}).get("reason"))
        return
    absorbed = dict(s.get("absorbed") or {})
    cur = dict(absorbed.get(d["other_id"]) or {"link": None, "milestones": None})
    link = _register(cur["link"], f, {"active": False, "reason": None})
    cur["link"] = link or cur["link"]
    absorbed[d["other_id"]] = cur
    s["absorbed"] = absorbed


def _match_suspected(s: State, f: Fact) -> None:
    d = f["data"]
    if d["candidate_id"] not in (s.get("suspects") or {}):
        _set_suspect(s, f, d["candidate_id"], "pending", d["reason"])


def _segments(s: State, f: Fact) -> None:
    """The saved segments the customer is in (the segment evaluator's decision: `segments.py` at the service)."""
    s["segments"] = sorted(set(f["data"]["segments"]))


def _match_rejected(s: State, f: Fact) -> None:
    _set_suspect(s, f, f["data"]["candidate_id"], "rejected")


REDUCERS = {
    "registration.customer_registered": _registered,
    "registration.profile_updated": _profile_updated,
    "kyc.identity_verified": _identity_verified,
    "account.application_submitted": _application_submitted,
    "account.opened": _account_opened,
    "account.rejected": _account_rejected,
    "account.closed": _account_closed,
    "funding.deposit_completed": _money_moved("deposits"),
    "funding.withdrawal_completed": _money_moved("withdrawals"),
    "trading.trade_executed": _trade_executed,
    "trading.asset_snapshot_taken": _asset_snapshot,
    "referral.referral_linked": _referral_linked,
    "import.customer_imported": _imported,
    "suitability.risk_assessed": _risk_assessed,
    "crm.verification_changed": _crm_verification,
    "crm.tags_changed": _crm_tags,
    "crm.remark_added": _crm_remark,
    "crm.note_added": _crm_note,
    "crm.merged_into": _merged_into,
    "crm.absorbed": _absorbed,
    "crm.unmerged": _unmerged,
    "crm.match_suspected": _match_suspected,
    "crm.match_rejected": _match_rejected,
    "crm.segments_changed": _segments,
}
UPSTREAM_TYPES = frozenset(t for t in REDUCERS if not t.startswith("crm."))


def already_applied(state: State, fact: Fact) -> bool:
    return fact["id"] in state["seen"]


def evolve(state: State, fact: Fact) -> State:
    """A new state with `fact` applied (the input is not modified)."""
    reducer = REDUCERS.get(fact["type"])
    if reducer is None:
        raise UnknownFact(fact["type"])
    if already_applied(state, fact):
        return state
    s = dict(state)
    reducer(s, fact)
    s["seen"] = [*state["seen"], fact["id"]][-SEEN_WINDOW:]
    if fact["type"] in UPSTREAM_TYPES:
        at = fact["at"]
        s["first_seen_at"] = min(state["first_seen_at"], at) if state["first_seen_at"] else at
        s["last_activity_at"] = max(state["last_activity_at"], at) if state["last_activity_at"] else at
    return s
