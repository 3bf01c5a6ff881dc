"""Case detail and history views built from the aggregate and its stored events.

Storage references and declarations are included only for reviewers (KycReview / KycSecondReview).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..domain.case import KycCase
from ..domain.rules import KycRules
from ..outbox import event_time
from ..projections.cases import utc


def case_detail(
    case: KycCase, rules: KycRules, *, reviewer: bool, now: datetime | None = None
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    docs = []
    for d in case.documents.values():
        item = {
            k: d[k]
            for k in ("document_id", "kind", "version", "status", "submission", "reason_code", "decided_by")
        }
        item["uploaded_at"] = utc(d["uploaded_at"])
        item["decided_at"] = utc(d["decided_at"])
        if reviewer:
            item["storage_ref"] = d["storage_ref"]
            item["note"] = d.get("note")
        docs.append(item)
    out: dict[str, Any] = {
        "case_id": str(case.id),
        "customer_id": case.customer_id,
        "application_id": case.application_ids[-1],
        "application_ids": list(case.application_ids),
        "account_type": case.account_type,
        "state": case.state,
        "high_risk": case.high_risk,
        "four_eyes_required": case.high_risk,
        "submission": case.submission,
        "reviewer_id": case.reviewer_id,
        "first_reviewer_id": case.first_reviewer_id,
        "submitted_at": utc(case.submitted_at),
        "queued_at": utc(case.queued_at),
        "claimed_at": utc(case.claimed_at),
        "completion_pct": case.completion_pct,
        "documents": docs,
        "flagged_fields": list(case.flagged_fields),
        "identity_verified": case.verified_id_country is not None,
        "last_decision": _decision(case.last_decision),
        "version": case.version,
        "missing_documents": rules.completion.missing_documents({d["kind"] for d in case.active_documents()}),
    }
    if reviewer:
        out["risk_reasons"] = list(case.risk_reasons)
        out["declarations"] = dict(case.declarations)
        out["id_issuing_country"] = case.id_issuing_country
        out["verified_id_country"] = case.verified_id_country
    return out


def _decision(d: dict[str, Any] | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {**d, "decided_at": utc(d["decided_at"])}


ACTIONS: dict[type, str] = {  # by the case event's class
    KycCase.Opened: "submitted",
    KycCase.Resubmitted: "resubmitted",
    KycCase.IdentityVerified: "identity_verified",
    KycCase.Claimed: "claimed",
    KycCase.Released: "released",
    KycCase.DocumentDecided: "document_decided",
    KycCase.InfoRequested: "more_info_requested",
    KycCase.ReviewSubmitted: "review_submitted",
    KycCase.SecondReviewed: "second_reviewed",
}
_HISTORY_FIELDS = (
    "from_state",
    "to_state",
    "reviewer_id",
    "document_id",
    "kind",
    "version",
    "decision",
    "reason_code",
    "reasons",
    "document_ids",
    "fields",
    "application_id",
    "high_risk",
    "completion_pct",
    "first_reviewer",
)


def history_entry(ev: Any, *, reviewer: bool) -> dict[str, Any]:
    """Who, when, what, why. Upstream events are attributed to the platform; notes only for reviewers."""
    by = getattr(ev, "by", None)
    entry: dict[str, Any] = {
        "version": ev.originator_version,
        "action": ACTIONS.get(type(ev), type(ev).__name__),  # a label; an event without one shows its name
        "at": utc(event_time(ev)),
        "recorded_at": utc(ev.timestamp),
        "actor": by or "platform",
    }
    if isinstance(ev, KycCase.Claimed):
        entry["action"] = "claimed" if ev.by == ev.reviewer_id else "assigned"
    for key in _HISTORY_FIELDS:
        if hasattr(ev, key):
            entry[key] = getattr(ev, key)
    if isinstance(ev, KycCase.Opened | KycCase.Resubmitted):
        entry["documents"] = [
            {
                "document_id": d["document_id"],
                "kind": d["kind"],
                "version": d["version"],
                "status": d["status"],
            }
            for d in ev.documents.values()
        ]
    if reviewer and getattr(ev, "note", None):
        entry["note"] = ev.note
    return entry
