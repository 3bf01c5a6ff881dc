"""Derived view of a customer's state: lifecycle stage and stage times, account and verification status,
regions, money totals. Pure functions of the state (so of the set of facts, whatever their order)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.events.crm_customer import STAGE_ORDER, AccountStatus, Stage, VerificationStatus

from .lifecycle import derive_stage, stage_timeline
from .matching import match_inputs
from .regions import active_region, user_region
from .state import State, parse_time


def milestones(s: State) -> dict[Stage, datetime | None]:
    apps = [a.get("first_submitted_at") for a in s["applications"].values() if a.get("first_submitted_at")]
    opened = [a["opened_at"] for a in s["accounts"].values() if a.get("opened_at")]
    deposits = [m["at"] for m in s["deposits"].values()]
    own = {
        Stage.registered: s["registration"]["at"] if s["registration"] else None,
        Stage.pending_account_opening: min(apps) if apps else None,
        Stage.pending_funding: min(opened) if opened else None,
        Stage.funded: min(deposits) if deposits else None,
        Stage.traded: s["trades"]["first_at"],
    }
    for absorbed in merged_milestones(s):  # a registration merged into an existing customer converts it
        for stage, at in absorbed.items():
            at = parse_time(at)
            if at is not None and (own[stage] is None or at < own[stage]):
                own[stage] = at
    return own


def merged_milestones(s: State) -> list[dict[Stage, Any]]:
    """The milestones of the customers merged into this one (active links only)."""
    out = []
    for entry in (s.get("absorbed") or {}).values():
        if entry["link"] and entry["link"]["active"] and entry["milestones"]:
            out.append({Stage(k): v for k, v in entry["milestones"]["values"].items()})
    return out


def own_milestones(s: State) -> dict[str, str | None]:
    """This customer's own milestones (ISO times), what a survivor takes over when it is merged into one."""
    copy = {**s, "absorbed": {}}
    return {k.value: (v.isoformat() if v else None) for k, v in milestones(copy).items()}


def merge_view(s: State) -> dict[str, Any]:
    merge = s.get("merge")
    absorbed = s.get("absorbed") or {}
    suspects = s.get("suspects") or {}
    return {
        "merged_into": merge["survivor_id"] if merge and merge["active"] else None,
        "merge_reason": merge["reason"] if merge and merge["active"] else None,
        "merged_ids": sorted(k for k, e in absorbed.items() if e["link"] and e["link"]["active"]),
        "separated_ids": sorted(k for k, e in absorbed.items() if e["link"] and not e["link"]["active"]),
        "suspects": [{"candidate_id": k, "status": e["status"], "reason": e["reason"], "by": e["by"],
                      "comment": e["comment"], "suggested_at": _iso(e["suggested_at"]), "decided_at": _iso(e["at"])}
                     for k, e in sorted(suspects.items())],
        "match": match_inputs(s),
    }


def _iso(value: Any) -> str | None:
    t = parse_time(value)
    return t.isoformat() if t else None


def account_status(s: State) -> AccountStatus:
    accounts = s["accounts"].values()
    if any(a.get("opened_at") and (a.get("closed_at") is None or a["closed_at"] < a["opened_at"]) for a in accounts):
        return AccountStatus.opened
    if any(a.get("closed_at") for a in accounts):
        return AccountStatus.closed
    apps = [a for a in s["applications"].values() if a.get("submitted_at") or a.get("rejected_at")]
    if not apps:
        return AccountStatus.none
    latest = max(apps, key=lambda a: (a.get("submitted_at") or a["rejected_at"], a.get("id") or ""))
    if latest.get("rejected_at") and (latest.get("submitted_at") is None or latest["rejected_at"] >= latest["submitted_at"]):
        return AccountStatus.rejected
    return AccountStatus.applied


def id_issuing_country(s: State) -> str | None:
    if s["identity"] and s["identity"].get("issuing_country"):
        return s["identity"]["issuing_country"]
    imported = s.get("imported")
    if imported and imported.get("issuing_country"):
        return imported["issuing_country"]
    apps = [a for a in s["applications"].values() if a.get("id_issuing_country") and a.get("submitted_at")]
    if not apps:
        return None
    return max(apps, key=lambda a: (a["submitted_at"], a["id"]))["id_issuing_country"]


def profile_value(s: State, key: str) -> Any:
    entry = s["profile"].get(key)
    return entry[0] if entry else None


def _totals(moves: dict[str, dict[str, Any]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for m in moves.values():
        out[m["currency"]] = out.get(m["currency"], Decimal(0)) + m["amount"]
    return dict(sorted(out.items()))


def assets_total(s: State) -> tuple[Decimal | None, str | None, datetime | None]:
    """Total assets over the accounts valued in the currency of the most recent snapshot."""
    if not s["assets"]:
        return None, None, None
    latest = max(s["assets"].values(), key=lambda a: (a["as_of"], a["id"]))
    currency = latest["currency"]
    total = sum((a["total_assets"] for a in s["assets"].values() if a["currency"] == currency), Decimal(0))
    return total, currency, latest["as_of"]


def view(s: State) -> dict[str, Any]:
    """The derived, denormalised view of a customer (what the list row and the effects are made of)."""
    ms = milestones(s)
    stage = derive_stage(ms)
    timeline = stage_timeline(ms)
    phone = profile_value(s, "phone") or [None, None]
    residence = profile_value(s, "residence_country")
    ip_country = profile_value(s, "registration_ip_country")
    ur = user_region(residence, phone[0], phone[1], ip_country)
    issuing = id_issuing_country(s)
    total, currency, as_of = assets_total(s)
    reg = s["registration"]
    referrer = s["referrer"]
    return {
        "customer_id": s["customer_id"],
        "registered": reg is not None,
        "registered_at": reg["at"] if reg else None,
        "channel": reg["channel"] if reg else None,
        "campaign": reg["campaign"] if reg else None,
        "referral_code": reg["referral_code"] if reg else None,
        "institution_id": reg.get("institution_id") if reg else None,
        "name": profile_value(s, "name"),
        "phone_dialing_code": phone[0],
        "phone_number": phone[1],
        "email": profile_value(s, "email"),
        "language": profile_value(s, "language"),
        "residence_country": residence,
        "registration_ip_country": ip_country,
        "id_issuing_country": issuing,
        "user_region": ur,
        "active_region": active_region(issuing, ur),
        "stage": stage.value if stage else None,
        "stage_rank": STAGE_ORDER[stage] if stage else -1,
        "stage_entered_at": {k.value: v for k, v in timeline.items()},
        "stage_changed_at": timeline[stage] if stage else None,
        "account_status": account_status(s).value,
        "verification_status": (s["verification"]["status"] if s["verification"]
                                else VerificationStatus.unverified.value),
        "deposits": _totals(s["deposits"]),
        "withdrawals": _totals(s["withdrawals"]),
        "first_deposit_at": ms[Stage.funded],
        "first_trade_at": ms[Stage.traded],
        "trades_count": s["trades"]["count"],
        "total_assets": total,
        "assets_currency": currency,
        "assets_as_of": as_of,
        "referrer_customer_id": referrer["customer_id"] if referrer else None,
        "tags": list(s["tags"]),
        "date_of_birth": (s["identity"] or {}).get("date_of_birth") or (s.get("imported") or {}).get("date_of_birth"),
        "risk_rating": (s.get("risk") or {}).get("rating"),
        "first_seen_at": s["first_seen_at"],
        "last_activity_at": s["last_activity_at"],
        **merge_view(s),
    }
