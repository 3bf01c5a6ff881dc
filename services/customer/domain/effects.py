"""What changed when a fact was applied: the messages other services need (published via the outbox).

Effects are computed once, when the fact is first applied, and stored with the domain event, so the
outbox relay publishes exactly what was decided then (re-publication carries the same event ids).
"""

from __future__ import annotations

from typing import Any

from .state import Fact, State


def effects(before: State, after: State, v0: dict[str, Any], v1: dict[str, Any], fact: Fact) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cid = v1["customer_id"]
    if not v0["registered"] and v1["registered"]:
        out.append({"kind": "customer_registered", "customer_id": cid, "registered_at": v1["registered_at"],
                    "channel": v1["channel"], "campaign": v1["campaign"], "referral_code": v1["referral_code"],
                    "language": v1["language"], "user_region": v1["user_region"],
                    "active_region": v1["active_region"], "name": v1["name"],
                    # the outbox publishes the number's keyed hash only (`outbox.map_event`)
                    "phone_dialing_code": v1["phone_dialing_code"], "phone_number": v1["phone_number"],
                    **({"institution_id": v1["institution_id"]} if v1.get("institution_id") else {})})
    if v0["stage"] != v1["stage"] and v1["stage"]:
        out.append({"kind": "stage_changed", "customer_id": cid, "from_stage": v0["stage"],
                    "to_stage": v1["stage"], "changed_at": v1["stage_changed_at"] or fact["at"],
                    "cause_event_id": fact["id"], "cause_event_type": fact["type"]})
    if (v0["user_region"], v0["active_region"]) != (v1["user_region"], v1["active_region"]) and v0["registered"]:
        out.append({"kind": "regions_changed", "customer_id": cid, "user_region": v1["user_region"],
                    "active_region": v1["active_region"], "changed_at": fact["at"]})
    if v0["account_status"] != v1["account_status"]:
        out.append(_account_effect(cid, v1["account_status"], fact))
    for key, direction in (("deposits", "deposit"), ("withdrawals", "withdrawal")):
        for tx, move in after[key].items():
            if tx not in before[key]:
                out.append({"kind": "funds_moved", "customer_id": cid, "transaction_id": tx, "direction": direction,
                            "amount": move["amount"], "currency": move["currency"], "occurred_at": move["at"],
                            "first_deposit": direction == "deposit" and not before["deposits"]})
    if after["trades"]["count"] != before["trades"]["count"]:
        out.append({"kind": "trade_recorded", "customer_id": cid, "trade_id": fact["data"]["trade_id"],
                    "occurred_at": fact["at"], "first_trade": before["trades"]["count"] == 0})
    if v0["verification_status"] != v1["verification_status"]:
        ver = after["verification"]
        out.append({"kind": "verification_status_changed", "customer_id": cid, "status": v1["verification_status"],
                    "changed_at": ver["at"], "changed_by": ver["by"], "reason": ver["reason"]})
    if before["tags"] != after["tags"]:
        out.append({"kind": "tags_changed", "customer_id": cid, "tags": list(after["tags"]), "changed_at": fact["at"],
                    "changed_by": fact["data"].get("by")})
    out.extend(_merge_effects(v0, v1, fact))
    old, new = set(before.get("segments") or ()), set(after.get("segments") or ())
    for sid in sorted(old ^ new):
        out.append({"kind": "segment_membership_changed", "segment_id": sid, "customer_id": cid,
                    "member": sid in new, "as_of": fact["at"]})
    return out


def _merge_effects(v0: dict[str, Any], v1: dict[str, Any], fact: Fact) -> list[dict[str, Any]]:
    """One `merged` / `unmerged` per merge, from the merged customer's side; a newly suspected pair."""
    out: list[dict[str, Any]] = []
    cid, by = v1["customer_id"], fact["data"].get("by")
    if v1["merged_into"] and v1["merged_into"] != v0["merged_into"]:
        out.append({"kind": "merged", "survivor_id": v1["merged_into"], "merged_id": cid,
                    "reason": v1["merge_reason"], "merged_at": fact["at"], "merged_by": by})
    if v0["merged_into"] and v0["merged_into"] != v1["merged_into"]:
        out.append({"kind": "unmerged", "survivor_id": v0["merged_into"], "merged_id": cid,
                    "unmerged_at": fact["at"], "unmerged_by": by})
    before = {x["candidate_id"] for x in v0["suspects"]}
    for x in v1["suspects"]:
        if x["candidate_id"] not in before and x["status"] == "pending":
            out.append({"kind": "match_suspected", "customer_id": cid, "candidate_id": x["candidate_id"],
                        "reason": x["reason"], "suspected_at": fact["at"]})
    return out


def _account_effect(cid: str, status: str, fact: Fact) -> dict[str, Any]:
    d = fact["data"]
    return {"kind": "account_status_changed", "customer_id": cid, "status": status,
            "application_id": d.get("application_id"), "account_id": d.get("account_id"),
            "changed_at": fact["at"], "reason": d.get("reason")}
