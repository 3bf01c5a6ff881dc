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

# by the stored domain event's class
STATE_EVENTS: frozenset[type] = frozenset({KycCase.Opened, KycCase.Resubmitted, KycCase.Claimed, KycCase.Released,
                                           KycCase.InfoRequested, KycCase.ReviewSubmitted, KycCase.SecondReviewed})
DECISION_EVENTS: frozenset[type] = frozenset({KycCase.InfoRequested, KycCase.ReviewSubmitted, KycCase.SecondReviewed})

CaseAt = Callable[[uuid.UUID, int], KycCase]  # (case id, version) -> the case at that version


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
        if type(ev) not in STATE_EVENTS:
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
        if type(ev) in DECISION_EVENTS and ev.to_state in DECIDED_STATES:
            second_review = isinstance(ev, KycCase.SecondReviewed)
            second = ev.by if second_review else None
            first = ev.first_reviewer if second_review else ev.by
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
