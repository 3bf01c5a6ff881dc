"""The 360° customer detail, built from the aggregate's state (current, or folded up to a past time)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shared.events.crm_customer import Stage

from ..domain.derive import view
from ..domain.state import State
from .masking import mask_tail, mask_text, person

RECENT_MOVES = 20


def jsonable(value: Any) -> Any:
    """Decimals as strings (never floats), datetimes as ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):  # SQLite hands back naive UTC datetimes
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _moves(moves: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    items = sorted(moves.items(), key=lambda kv: (kv[1]["at"], kv[0]), reverse=True)[:RECENT_MOVES]
    return [{"transaction_id": tx, "amount": m["amount"], "currency": m["currency"], "at": m["at"],
             "account_id": m["account_id"], "method": m["method"]} for tx, m in items]


def build_detail(state: State, *, unmasked: bool) -> dict[str, Any]:
    v = view(state)
    ident = state["identity"] or {}
    doc = ident or state.get("imported") or {}  # the platform's verified identity, else a manual import's
    return jsonable({
        "customer_id": v["customer_id"],
        "basic": {
            **person(v, unmasked),
            "registered": v["registered"], "registered_at": v["registered_at"], "channel": v["channel"],
            "campaign": v["campaign"], "referral_code": v["referral_code"], "language": v["language"],
            "institution_id": v["institution_id"],
            "residence_country": v["residence_country"], "registration_ip_country": v["registration_ip_country"],
            "user_region": v["user_region"], "active_region": v["active_region"], "tags": v["tags"],
            "verification_status": v["verification_status"],
            "verification_history": [{k: h[k] for k in ("status", "at", "by", "reason", "source")}
                                     for h in state["verification_history"]],
        },
        "identity": {
            "verified_at": ident.get("at"), "id_type": doc.get("id_type"),
            "id_issuing_country": v["id_issuing_country"],
            "id_number": doc.get("id_number") if unmasked else mask_tail(doc.get("id_number")),
            "legal_name": ident.get("legal_name") if unmasked else mask_text(ident.get("legal_name")),
            "date_of_birth": doc.get("date_of_birth") if unmasked else ("****-**-**" if doc.get("date_of_birth")
                                                                         else None),
        },
        "account_opening": {
            "status": v["account_status"],
            "applications": [
                {"application_id": k, "submitted_at": a.get("submitted_at"), "account_type": a.get("account_type"),
                 "documents": a.get("documents", 0), "rejected_at": a.get("rejected_at"), "reason": a.get("reason")}
                for k, a in sorted(state["applications"].items())],
            "accounts": [
                {"account_id": k, "account_type": a.get("account_type"), "opened_at": a.get("opened_at"),
                 "closed_at": a.get("closed_at"), "application_id": a.get("application_id")}
                for k, a in sorted(state["accounts"].items())],
        },
        "referral": {"referrer_customer_id": v["referrer_customer_id"],
                     "referral_code": (state["referrer"] or {}).get("referral_code") or v["referral_code"],
                     "linked_at": (state["referrer"] or {}).get("at"), "referees": []},
        "assets": {
            "total_assets": v["total_assets"], "currency": v["assets_currency"], "as_of": v["assets_as_of"],
            "deposits_total": v["deposits"], "withdrawals_total": v["withdrawals"],
            "accounts": [{"account_id": k, "currency": a["currency"], "total_assets": a["total_assets"],
                          "cash": a["cash"], "as_of": a["as_of"]} for k, a in sorted(state["assets"].items())],
            "positions": [{**p, "account_id": k} for k, a in sorted(state["assets"].items()) for p in a["positions"]],
            "ada": None,  # average daily assets: from the read model, on the current detail only
        },
        "funding": {"recent_deposits": _moves(state["deposits"]),
                    "recent_withdrawals": _moves(state["withdrawals"]),
                    "first_deposit_at": v["first_deposit_at"]},
        "trading": {"trades_count": v["trades_count"], "first_trade_at": v["first_trade_at"],
                    "recent_trades": state["trades"]["recent"]},
        "lifecycle": {"stage": v["stage"] or Stage.registered.value, "stage_changed_at": v["stage_changed_at"],
                      "timeline": [{"stage": k, "entered_at": t} for k, t in v["stage_entered_at"].items()]},
        "first_seen_at": v["first_seen_at"], "last_activity_at": v["last_activity_at"],
        "remarks_count": state["remarks"],
        "merge": {"merged_into": v["merged_into"], "reason": v["merge_reason"], "merged_ids": v["merged_ids"]},
        "risk": _risk(state.get("risk")),  # states folded before risk ratings existed have no key
    })


def _risk(risk: dict[str, Any] | None) -> dict[str, Any] | None:
    """The latest suitability assessment (None without one)."""
    if not risk:
        return None
    return {"rating": risk["rating"], "score": risk.get("score"), "assessment_id": risk["assessment_id"],
            "assessed_at": risk["at"], "valid_until": risk.get("valid_until")}
