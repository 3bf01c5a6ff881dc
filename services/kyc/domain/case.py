"""The KYC case aggregate: one per account-opening application (resubmissions reopen the same case).

States: pending → in_review → (approved | rejected | more_info_requested | awaiting_second_review) →
resubmitted → in_review → … Every event records who did what, when and why; the command methods check
the rules and compute derived values (risk flags, completion) so that the events are self-contained facts.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from . import documents as D
from .errors import (
    ClaimedByOther,
    FourEyesViolation,
    InvalidTransition,
    NotClaimed,
    UnknownDocument,
    UnknownReason,
)
from .rules import (
    ACCEPTED,
    DOCUMENT_DECISIONS,
    KNOWN_FIELDS,
    MISSING_REQUIRED_DOCUMENT,
    MISSING_REQUIRED_FIELD,
    MORE_INFO,
    PENDING,
    REJECTED,
    SUPERSEDED,
    KycRules,
)

NAMESPACE = uuid.UUID("0f4b3d8e-7a51-4d6c-9c1e-6b0a6e2d7c41")

# Case states (the values of shared.events.crm_kyc.CaseState).
S_PENDING = "pending"
S_IN_REVIEW = "in_review"
S_SECOND = "awaiting_second_review"
S_MORE_INFO = "more_info_requested"
S_RESUBMITTED = "resubmitted"
S_APPROVED = "approved"
S_REJECTED = "rejected"
QUEUE_STATES = (S_PENDING, S_RESUBMITTED)
OPEN_STATES = (S_PENDING, S_RESUBMITTED, S_IN_REVIEW, S_SECOND)
DECIDED_STATES = (S_APPROVED, S_REJECTED, S_MORE_INFO)
SECOND_REVIEW_DECISIONS = (S_APPROVED, S_REJECTED, S_MORE_INFO)
SEEN_IDS_KEPT = 200


def case_id_for(customer_id: str, application_id: str) -> uuid.UUID:
    """Deterministic: rebuilding from the topics gives every case the same id."""
    return uuid.uuid5(NAMESPACE, f"case:{customer_id}:{application_id}")


def _pending(docs: Mapping[str, Any]) -> int:
    return sum(1 for d in docs.values() if d["status"] == PENDING)


class KycCase(Aggregate):
    @staticmethod
    def create_id(customer_id: str, application_id: str, **_: Any) -> uuid.UUID:
        return case_id_for(customer_id, application_id)

    # ------------------------------------------------------------------------------------ opening
    @classmethod
    def open(
        cls,
        *,
        rules: KycRules,
        customer_id: str,
        application_id: str,
        submitted_at: datetime,
        documents: Sequence[Mapping[str, Any]],
        declarations: Mapping[str, Any] | None,
        id_issuing_country: str | None,
        verified_id_country: str | None,
        account_type: str,
        upstream_event_id: str,
        verified_at: datetime | None = None,
    ) -> KycCase:
        decl = D.declarations_dict(declarations)
        docs = D.merge_documents({}, documents, 1)
        risk = rules.risk.assess(
            id_countries=(id_issuing_country, verified_id_country),
            is_pep=decl["is_pep"],
            net_worth=D.as_decimal(decl["net_worth"]),
            currency=decl["net_worth_currency"],
        )
        pct = D.completion(rules.completion, docs, decl, (id_issuing_country, verified_id_country), ())
        return cls(
            customer_id=customer_id,
            application_id=application_id,
            submitted_at=submitted_at,
            documents=docs,
            declarations=decl,
            id_issuing_country=id_issuing_country,
            verified_id_country=verified_id_country,
            verified_at=verified_at if verified_id_country else None,
            account_type=account_type,
            high_risk=bool(risk),
            risk_reasons=risk,
            completion_pct=pct,
            upstream_event_id=upstream_event_id,
        )

    @event("Opened")
    def __init__(
        self,
        *,
        customer_id: str,
        application_id: str,
        submitted_at: datetime,
        documents: dict[str, Any],
        declarations: dict[str, Any],
        id_issuing_country: str | None,
        verified_id_country: str | None,
        verified_at: datetime | None,
        account_type: str,
        high_risk: bool,
        risk_reasons: list[str],
        completion_pct: int,
        upstream_event_id: str,
    ) -> None:
        self.customer_id = customer_id
        self.application_id = application_id
        self.application_ids = [application_id]
        self.account_type = account_type
        self.submitted_at = submitted_at
        self.queued_at = submitted_at
        self.submission = 1
        self.documents: dict[str, dict[str, Any]] = copy.deepcopy(documents)
        self.declarations: dict[str, Any] = dict(declarations)
        self.id_issuing_country = id_issuing_country
        self.verified_id_country = verified_id_country
        self.verified_at = verified_at
        self.high_risk = high_risk
        self.risk_reasons = list(risk_reasons)
        self.completion_pct = completion_pct
        self.state = S_PENDING
        self.queue_state = S_PENDING
        self.reviewer_id: str | None = None
        self.claimed_at: datetime | None = None
        self.first_reviewer_id: str | None = None
        self.round_reviewers: list[str] = []
        self.flagged_fields: list[str] = []
        self.last_decision: dict[str, Any] | None = None
        self.second_requested_at: datetime | None = None
        self.seen_event_ids: list[str] = [upstream_event_id]

    # ------------------------------------------------------------------------------ helpers
    def correlate(self, correlation_id: str | None) -> None:
        """The correlation id of the request driving the next command, recorded on its events (not state)."""
        self._correlation_id = correlation_id

    def _corr(self) -> str | None:
        """Correlation id of the request driving the current command (set by the application; not state)."""
        return getattr(self, "_correlation_id", None)

    def has_seen(self, upstream_event_id: str) -> bool:
        return upstream_event_id in self.seen_event_ids

    def _remember(self, upstream_event_id: str) -> None:
        self.seen_event_ids = (self.seen_event_ids + [upstream_event_id])[-SEEN_IDS_KEPT:]

    def _pct(
        self,
        rules: KycRules,
        docs: Mapping[str, Any] | None = None,
        declarations: Mapping[str, Any] | None = None,
        flagged: Iterable[str] | None = None,
        verified_country: str | None = None,
        id_country: str | None = None,
    ) -> int:
        return D.completion(
            rules.completion,
            self.documents if docs is None else docs,
            self.declarations if declarations is None else declarations,
            (id_country or self.id_issuing_country, verified_country or self.verified_id_country),
            self.flagged_fields if flagged is None else flagged,
        )

    def _assess(
        self,
        rules: KycRules,
        declarations: Mapping[str, Any],
        id_country: str | None,
        verified_country: str | None,
    ) -> list[str]:
        new = rules.risk.assess(
            id_countries=(id_country, verified_country),
            is_pep=bool(declarations.get("is_pep")),
            net_worth=D.as_decimal(declarations.get("net_worth")),
            currency=declarations.get("net_worth_currency"),
        )
        return sorted(set(self.risk_reasons) | set(new))  # sticky: a flag is never dropped within a case

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def active_documents(self) -> list[dict[str, Any]]:
        return [d for d in self.documents.values() if d["status"] != SUPERSEDED]

    def _require_reviewer(self, actor: str) -> None:
        if self.state != S_IN_REVIEW:
            if self.state in QUEUE_STATES:
                raise NotClaimed(f"case is {self.state} and not claimed; claim it before deciding")
            raise InvalidTransition(f"case is {self.state}; only a case in review can be decided")
        if self.reviewer_id != actor:
            raise ClaimedByOther("case is claimed by another reviewer")

    @staticmethod
    def _check_reasons(rules: KycRules, codes: Iterable[str], field: str) -> None:
        unknown = rules.reasons.unknown(codes)
        if unknown:
            raise UnknownReason(f"unknown reason code {unknown[0]!r}", field=field)

    # -------------------------------------------------------------------------- resubmission
    def resubmit(
        self,
        *,
        rules: KycRules,
        application_id: str,
        submitted_at: datetime,
        documents: Sequence[Mapping[str, Any]],
        declarations: Mapping[str, Any] | None,
        id_issuing_country: str | None,
        upstream_event_id: str,
    ) -> bool:
        """A new submission for this case. Returns False (nothing recorded) for a stale one."""
        if submitted_at < self.submitted_at:
            return False
        decl = D.declarations_dict(declarations)
        docs = D.merge_documents(self.documents, documents, self.submission + 1)
        id_country = id_issuing_country or self.id_issuing_country
        risk = self._assess(rules, decl, id_country, self.verified_id_country)
        to_state = self.state if self.state in (S_PENDING, S_IN_REVIEW) else S_RESUBMITTED
        pct = self._pct(rules, docs=docs, declarations=decl, flagged=(), id_country=id_country)
        self._resubmitted(
            application_id=application_id,
            submitted_at=submitted_at,
            documents=docs,
            declarations=decl,
            id_issuing_country=id_country,
            high_risk=bool(risk),
            risk_reasons=risk,
            completion_pct=pct,
            from_state=self.state,
            to_state=to_state,
            upstream_event_id=upstream_event_id,
        )
        return True

    @event("Resubmitted")
    def _resubmitted(
        self,
        *,
        application_id: str,
        submitted_at: datetime,
        documents: dict[str, Any],
        declarations: dict[str, Any],
        id_issuing_country: str | None,
        high_risk: bool,
        risk_reasons: list[str],
        completion_pct: int,
        from_state: str,
        to_state: str,
        upstream_event_id: str,
    ) -> None:
        if application_id not in self.application_ids:
            self.application_ids = [*self.application_ids, application_id]
        self.submitted_at = submitted_at
        self.submission += 1
        self.documents = copy.deepcopy(documents)
        self.declarations = dict(declarations)
        self.id_issuing_country = id_issuing_country
        self.high_risk, self.risk_reasons, self.completion_pct = high_risk, list(risk_reasons), completion_pct
        self.flagged_fields = []
        self.state = to_state
        if to_state == S_RESUBMITTED:
            self.queue_state = S_RESUBMITTED
            self.queued_at = submitted_at
            self.reviewer_id = self.claimed_at = self.first_reviewer_id = None
            self.round_reviewers = []
        self._remember(upstream_event_id)

    # --------------------------------------------------------------------- platform identity check
    def identity_verified(
        self, *, rules: KycRules, country: str, verified_at: datetime, upstream_event_id: str
    ) -> None:
        risk = self._assess(rules, self.declarations, self.id_issuing_country, country)
        pct = self._pct(rules, verified_country=country)
        self._identity_verified(
            country=country,
            verified_at=verified_at,
            high_risk=bool(risk),
            risk_reasons=risk,
            completion_pct=pct,
            upstream_event_id=upstream_event_id,
        )

    @event("IdentityVerified")
    def _identity_verified(
        self,
        *,
        country: str,
        verified_at: datetime,
        high_risk: bool,
        risk_reasons: list[str],
        completion_pct: int,
        upstream_event_id: str,
    ) -> None:
        self.verified_id_country, self.verified_at = country, verified_at
        self.high_risk, self.risk_reasons, self.completion_pct = high_risk, list(risk_reasons), completion_pct
        self._remember(upstream_event_id)

    # ---------------------------------------------------------------------------- claim / assign
    def claim(self, *, reviewer_id: str, at: datetime) -> bool:
        """The reviewer takes the case. Returns False when they already hold it (idempotent)."""
        if self.state == S_IN_REVIEW:
            if self.reviewer_id == reviewer_id:
                return False
            raise ClaimedByOther("case is already claimed by another reviewer")
        if self.state not in QUEUE_STATES:
            raise InvalidTransition(f"case is {self.state}; only pending or resubmitted cases can be claimed")
        self._claimed(
            reviewer_id=reviewer_id,
            by=reviewer_id,
            at=at,
            from_state=self.state,
            to_state=S_IN_REVIEW,
            correlation_id=self._corr(),
        )
        return True

    def assign(self, *, reviewer_id: str, by: str, at: datetime) -> bool:
        """An admin gives the case to a reviewer (also re-assigns a case in review)."""
        if self.state == S_IN_REVIEW and self.reviewer_id == reviewer_id:
            return False
        if self.state not in (*QUEUE_STATES, S_IN_REVIEW):
            raise InvalidTransition(
                f"case is {self.state}; only pending, resubmitted or in-review cases can be assigned"
            )
        self._claimed(
            reviewer_id=reviewer_id,
            by=by,
            at=at,
            from_state=self.state,
            to_state=S_IN_REVIEW,
            correlation_id=self._corr(),
        )
        return True

    @event("Claimed")
    def _claimed(
        self,
        *,
        reviewer_id: str,
        by: str,
        at: datetime,
        from_state: str,
        to_state: str,
        correlation_id: str | None = None,
    ) -> None:
        self.reviewer_id, self.claimed_at, self.state = reviewer_id, at, to_state

    def release(self, *, by: str, at: datetime, admin: bool) -> None:
        if self.state != S_IN_REVIEW:
            raise InvalidTransition(f"case is {self.state}; only a case in review can be released")
        if self.reviewer_id != by and not admin:
            raise ClaimedByOther("case is claimed by another reviewer")
        self._released(
            by=by, at=at, from_state=self.state, to_state=self.queue_state, correlation_id=self._corr()
        )

    @event("Released")
    def _released(
        self, *, by: str, at: datetime, from_state: str, to_state: str, correlation_id: str | None = None
    ) -> None:
        self.reviewer_id, self.claimed_at, self.state = None, None, to_state

    # ---------------------------------------------------------------------------- document decisions
    def decide_document(
        self,
        *,
        rules: KycRules,
        actor: str,
        document_id: str,
        decision: str,
        reason_code: str | None,
        note: str | None,
        at: datetime,
    ) -> bool:
        self._require_reviewer(actor)
        doc = self.documents.get(document_id)
        if doc is None:
            raise UnknownDocument(f"document {document_id!r} is not part of this case", field="document_id")
        if doc["status"] == SUPERSEDED:
            raise InvalidTransition(f"document {document_id!r} was superseded by a newer submission")
        if decision not in DOCUMENT_DECISIONS:
            raise UnknownReason(f"unknown decision {decision!r}", field="decision")
        if decision != ACCEPTED and not reason_code:
            raise UnknownReason(
                "a reason code is required to reject or ask for more information", field="reason_code"
            )
        if reason_code:
            self._check_reasons(rules, [reason_code], "reason_code")
        current = doc["status"]
        if (
            current == decision
            and doc.get("reason_code") == reason_code
            and (doc.get("note") or None) == (note or None)
        ):
            return False
        if current in (REJECTED, MORE_INFO) and decision != current:
            raise InvalidTransition(
                f"document {document_id!r} version {doc['version']} was {current.replace('_', ' ')}; "
                "it can only be decided again after the customer resubmits it"
            )
        docs = copy.deepcopy(self.documents)
        docs[document_id]["status"] = decision
        pct = self._pct(rules, docs=docs)
        self._document_decided(
            document_id=document_id,
            kind=doc["kind"],
            version=doc["version"],
            decision=decision,
            reason_code=reason_code,
            note=note,
            by=actor,
            at=at,
            completion_pct=pct,
            previous=current,
            documents_pending=_pending(docs),
            correlation_id=self._corr(),
        )
        return True

    @event("DocumentDecided")
    def _document_decided(
        self,
        *,
        document_id: str,
        kind: str,
        version: int,
        decision: str,
        reason_code: str | None,
        note: str | None,
        by: str,
        at: datetime,
        completion_pct: int,
        previous: str,
        documents_pending: int,
        correlation_id: str | None = None,
    ) -> None:
        doc = self.documents[document_id]
        doc.update(status=decision, reason_code=reason_code, note=note, decided_by=by, decided_at=at)
        self.completion_pct = completion_pct
        if by not in self.round_reviewers:
            self.round_reviewers = [*self.round_reviewers, by]

    # ---------------------------------------------------------------------------- case decisions
    def request_more_info(
        self,
        *,
        rules: KycRules,
        actor: str,
        reasons: Sequence[str],
        note: str | None,
        document_ids: Sequence[str],
        fields: Sequence[str],
        at: datetime,
    ) -> None:
        self._require_reviewer(actor)
        if not reasons:
            raise UnknownReason("at least one reason code is required", field="reasons")
        self._check_reasons(rules, reasons, "reasons")
        for doc_id in document_ids:
            doc = self.documents.get(doc_id)
            if doc is None or doc["status"] == SUPERSEDED:
                raise UnknownDocument(
                    f"document {doc_id!r} is not an active document of this case", field="document_ids"
                )
        unknown = [f for f in fields if f not in KNOWN_FIELDS]
        if unknown:
            raise UnknownReason(f"unknown field {unknown[0]!r}", field="fields")
        docs = copy.deepcopy(self.documents)
        for doc_id in document_ids:
            if docs[doc_id]["status"] != REJECTED:
                docs[doc_id]["status"] = MORE_INFO
        flagged = sorted(set(self.flagged_fields) | set(fields))
        pct = self._pct(rules, docs=docs, flagged=flagged)
        self._info_requested(
            by=actor,
            at=at,
            reasons=sorted(set(reasons)),
            note=note,
            document_ids=list(dict.fromkeys(document_ids)),
            fields=flagged,
            from_state=self.state,
            to_state=S_MORE_INFO,
            completion_pct=pct,
            documents_pending=_pending(docs),
            correlation_id=self._corr(),
        )

    @event("InfoRequested")
    def _info_requested(
        self,
        *,
        by: str,
        at: datetime,
        reasons: list[str],
        note: str | None,
        document_ids: list[str],
        fields: list[str],
        from_state: str,
        to_state: str,
        completion_pct: int,
        documents_pending: int,
        correlation_id: str | None = None,
    ) -> None:
        for doc_id in document_ids:
            doc = self.documents[doc_id]
            if doc["status"] != REJECTED:
                doc.update(status=MORE_INFO, reason_code=reasons[0], decided_by=by, decided_at=at)
        self.flagged_fields = list(fields)
        self.completion_pct = completion_pct
        self._close_round(S_MORE_INFO, by=by, at=at, reasons=reasons, second=None)

    def outcome(self, rules: KycRules) -> tuple[str, list[str]]:
        """The case decision that follows from the document decisions (raises if one is undecided)."""
        docs = self.active_documents()
        undecided = [d["document_id"] for d in docs if d["status"] == PENDING]
        if undecided:
            raise InvalidTransition(
                f"document {undecided[0]!r} has no decision yet; decide every document first"
            )
        rejected = [d for d in docs if d["status"] == REJECTED]
        if rejected:
            return S_REJECTED, sorted({d["reason_code"] for d in rejected if d["reason_code"]})
        reasons = {d["reason_code"] or "other" for d in docs if d["status"] == MORE_INFO}
        if rules.completion.missing_documents({d["kind"] for d in docs}):
            reasons.add(MISSING_REQUIRED_DOCUMENT)
        fields = D.present_fields(self.declarations, (self.id_issuing_country, self.verified_id_country))
        if rules.completion.missing_fields(fields - set(self.flagged_fields)):
            reasons.add(MISSING_REQUIRED_FIELD)
        if reasons:
            return S_MORE_INFO, sorted(reasons)
        return (S_SECOND if self.high_risk else S_APPROVED), []

    def submit_review(self, *, rules: KycRules, actor: str, note: str | None, at: datetime) -> str:
        """The reviewer closes their review; the decision follows from the document decisions."""
        self._require_reviewer(actor)
        to_state, reasons = self.outcome(rules)
        self._review_submitted(
            by=actor,
            at=at,
            reasons=reasons,
            note=note,
            from_state=self.state,
            to_state=to_state,
            correlation_id=self._corr(),
        )
        return to_state

    @event("ReviewSubmitted")
    def _review_submitted(
        self,
        *,
        by: str,
        at: datetime,
        reasons: list[str],
        note: str | None,
        from_state: str,
        to_state: str,
        correlation_id: str | None = None,
    ) -> None:
        if by not in self.round_reviewers:
            self.round_reviewers = [*self.round_reviewers, by]
        if to_state == S_SECOND:
            self.first_reviewer_id = by
            self.state = S_SECOND
            self.second_requested_at = at
            return
        self._close_round(to_state, by=by, at=at, reasons=reasons, second=None)

    def second_review(
        self,
        *,
        rules: KycRules,
        actor: str,
        decision: str,
        reasons: Sequence[str],
        note: str | None,
        at: datetime,
    ) -> None:
        if self.state != S_SECOND:
            raise InvalidTransition(
                f"case is {self.state}; only a case awaiting second review can be second-reviewed"
            )
        if actor == self.first_reviewer_id or actor in self.round_reviewers:
            raise FourEyesViolation("a reviewer cannot second-review a case they reviewed first")
        if decision not in SECOND_REVIEW_DECISIONS:
            raise UnknownReason(f"unknown decision {decision!r}", field="decision")
        if decision != S_APPROVED and not reasons:
            raise UnknownReason("a reason code is required unless approving", field="reasons")
        self._check_reasons(rules, reasons, "reasons")
        self._second_reviewed(
            by=actor,
            at=at,
            decision=decision,
            reasons=sorted(set(reasons)),
            note=note,
            first_reviewer=self.first_reviewer_id or "",
            from_state=self.state,
            to_state=decision,
            correlation_id=self._corr(),
        )

    @event("SecondReviewed")
    def _second_reviewed(
        self,
        *,
        by: str,
        at: datetime,
        decision: str,
        reasons: list[str],
        note: str | None,
        first_reviewer: str,
        from_state: str,
        to_state: str,
        correlation_id: str | None = None,
    ) -> None:
        self._close_round(to_state, by=first_reviewer, at=at, reasons=reasons, second=by)

    def _close_round(
        self, state: str, *, by: str, at: datetime, reasons: list[str], second: str | None
    ) -> None:
        self.state = state
        self.last_decision = {
            "decision": state,
            "decided_by": by,
            "second_reviewer": second,
            "decided_at": at,
            "reasons": list(reasons),
        }
        self.reviewer_id = None
        self.claimed_at = None
