"""Outbox mapper: stored KYC domain events -> crm.kyc.* messages (through shared.runtime.outbox.OutboxRelay).

Free-text notes, storage references and declarations are never published; reason codes are.
Derived values (completion, risk flag, document outcomes) are those of the case right after the event —
the relay may publish an old notification after a restart, so it loads the case *at that version*.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from shared.events.crm_kyc import DocumentOutcome, KycCaseDecided, KycCaseStateChanged
from shared.runtime.outbox import Outgoing

from .domain.case import DECIDED_STATES, KycCase
from .domain.rules import SUPERSEDED

STATE_EVENTS = frozenset(
    {"Opened", "Resubmitted", "Claimed", "Released", "InfoRequested", "ReviewSubmitted", "SecondReviewed"}
)
DECISION_EVENTS = frozenset({"InfoRequested", "ReviewSubmitted", "SecondReviewed"})

CaseAt = Callable[[uuid.UUID, int], KycCase]  # (case id, version) -> the case at that version


def event_name(domain_event: Any) -> str:
    return type(domain_event).__qualname__.rsplit(".", 1)[-1]


def document_outcomes(case: KycCase) -> list[DocumentOutcome]:
    return [
        DocumentOutcome(
            document_id=d["document_id"],
            kind=d["kind"],
            version=d["version"],
            decision=d["status"],
            reason_code=d.get("reason_code"),
        )
        for d in case.documents.values()
        if d["status"] != SUPERSEDED
    ]


def event_time(ev: Any) -> Any:
    for attr in ("at", "submitted_at", "verified_at"):
        value = getattr(ev, attr, None)
        if value is not None:
            return value
    return ev.timestamp


class KycOutboxMapper:
    def __init__(self, case_at: CaseAt):
        self._case_at = case_at

    def __call__(self, ev: Any) -> Sequence[Outgoing]:
        if not type(ev).__qualname__.startswith("KycCase."):
            return []
        name = event_name(ev)
        if name not in STATE_EVENTS:
            return []
        case = self._case_at(ev.originator_id, ev.originator_version)
        at = event_time(ev)
        upstream = getattr(ev, "upstream_event_id", None)
        correlation = getattr(ev, "correlation_id", None) or upstream
        out = [
            Outgoing(
                KycCaseStateChanged(
                    case_id=str(case.id),
                    customer_id=case.customer_id,
                    application_id=case.application_ids[-1],
                    from_state=getattr(ev, "from_state", None),
                    to_state=getattr(ev, "to_state", "pending"),
                    changed_at=at,
                    actor_id=getattr(ev, "by", None),
                    high_risk=case.high_risk,
                    completion_pct=case.completion_pct,
                    submission=case.submission,
                ),
                occurred_at=at,
                correlation_id=correlation,
                causation_id=upstream,
            )
        ]
        if name in DECISION_EVENTS and ev.to_state in DECIDED_STATES:
            second = ev.by if name == "SecondReviewed" else None
            first = ev.first_reviewer if name == "SecondReviewed" else ev.by
            out.append(
                Outgoing(
                    KycCaseDecided(
                        case_id=str(case.id),
                        customer_id=case.customer_id,
                        application_id=case.application_ids[-1],
                        decision=ev.to_state,
                        reasons=list(ev.reasons),
                        decided_by=first,
                        second_reviewer=second,
                        decided_at=at,
                        completion_pct=case.completion_pct,
                        high_risk=case.high_risk,
                        documents=document_outcomes(case),
                        submission=case.submission,
                        account_type=case.account_type,
                    ),
                    occurred_at=at,
                    correlation_id=correlation,
                )
            )
        return out
