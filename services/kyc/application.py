"""The KYC eventsourcing application: thin commands (load, call, save) and the upstream event processing.

Synchronous (eventsourcing is): async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from eventsourcing.application import AggregateNotFoundError

from shared.events import Event
from shared.events.upstream import AccountApplicationSubmitted, IdentityVerified
from shared.runtime.commands import save_retrying
from shared.runtime.eventstore import ProcessingEvent, TrackingApplication
from shared.runtime.logging import get_logger

from .domain.case import KycCase, case_id_for
from .domain.customer import CustomerKyc, customer_index_id
from .domain.rules import KycRules

log = get_logger("kyc.application")

T = TypeVar("T")

HANDLED_TYPES = frozenset({"account.application_submitted", "kyc.identity_verified"})


class CaseNotFound(LookupError):
    pass


class KycApplication(TrackingApplication):
    name = "kyc"
    rules: KycRules = KycRules()

    # ------------------------------------------------------------------------------ reading
    def get_case(self, case_id: uuid.UUID | str) -> KycCase:
        try:
            agg = self.repository.get(uuid.UUID(str(case_id)))
        except (AggregateNotFoundError, ValueError):
            raise CaseNotFound(str(case_id)) from None
        if not isinstance(agg, KycCase):
            raise CaseNotFound(str(case_id))
        return agg

    def case_history(self, case_id: uuid.UUID | str) -> list[Any]:
        case = self.get_case(case_id)
        return list(self.repository.event_store.get(case.id))

    # ------------------------------------------------------------------------------ commands
    def _command(
        self,
        case_id: uuid.UUID | str,
        call: Callable[[KycCase], T],
        *,
        attempts: int = 3,
        correlation_id: str | None = None,
    ) -> tuple[KycCase, T]:
        """Load, call, save; on a concurrent write (optimistic concurrency) reload and re-check the rules."""

        def step() -> tuple[KycCase, tuple[KycCase, T]]:
            case = self.get_case(case_id)
            case.correlate(correlation_id)
            return case, (case, call(case))

        return save_retrying(self, step, attempts=attempts, case_id=str(case_id))

    def claim(
        self, case_id: str, reviewer_id: str, at: datetime, correlation_id: str | None = None
    ) -> tuple[KycCase, bool]:
        return self._command(
            case_id, lambda c: c.claim(reviewer_id=reviewer_id, at=at), correlation_id=correlation_id
        )

    def assign(
        self, case_id: str, reviewer_id: str, by: str, at: datetime, correlation_id: str | None = None
    ) -> tuple[KycCase, bool]:
        return self._command(
            case_id, lambda c: c.assign(reviewer_id=reviewer_id, by=by, at=at), correlation_id=correlation_id
        )

    def release(
        self, case_id: str, by: str, at: datetime, admin: bool, correlation_id: str | None = None
    ) -> tuple[KycCase, None]:
        return self._command(
            case_id, lambda c: c.release(by=by, at=at, admin=admin), correlation_id=correlation_id
        )

    def decide_document(
        self,
        case_id: str,
        actor: str,
        document_id: str,
        decision: str,
        reason_code: str | None,
        note: str | None,
        at: datetime,
        correlation_id: str | None = None,
    ) -> tuple[KycCase, bool]:
        return self._command(
            case_id,
            lambda c: c.decide_document(
                rules=self.rules,
                actor=actor,
                document_id=document_id,
                decision=decision,
                reason_code=reason_code,
                note=note,
                at=at,
            ),
            correlation_id=correlation_id,
        )

    def request_more_info(
        self,
        case_id: str,
        actor: str,
        reasons: list[str],
        note: str | None,
        document_ids: list[str],
        fields: list[str],
        at: datetime,
        correlation_id: str | None = None,
    ) -> tuple[KycCase, None]:
        return self._command(
            case_id,
            lambda c: c.request_more_info(
                rules=self.rules,
                actor=actor,
                reasons=reasons,
                note=note,
                document_ids=document_ids,
                fields=fields,
                at=at,
            ),
            correlation_id=correlation_id,
        )

    def submit_review(
        self, case_id: str, actor: str, note: str | None, at: datetime, correlation_id: str | None = None
    ) -> tuple[KycCase, str]:
        return self._command(
            case_id,
            lambda c: c.submit_review(rules=self.rules, actor=actor, note=note, at=at),
            correlation_id=correlation_id,
        )

    def second_review(
        self,
        case_id: str,
        actor: str,
        decision: str,
        reasons: list[str],
        note: str | None,
        at: datetime,
        correlation_id: str | None = None,
    ) -> tuple[KycCase, None]:
        return self._command(
            case_id,
            lambda c: c.second_review(
                rules=self.rules, actor=actor, decision=decision, reasons=reasons, note=note, at=at
            ),
            correlation_id=correlation_id,
        )

    # ------------------------------------------------------------------------------ upstream
    def process_upstream(self, events: list[Event]) -> ProcessingEvent:
        """Apply a batch of upstream events to the aggregates; the caller records it with its tracking."""
        batch = _Batch(self)
        for ev in events:
            if isinstance(ev.payload, AccountApplicationSubmitted):
                self._on_submitted(batch, ev)
            elif isinstance(ev.payload, IdentityVerified):
                self._on_identity_verified(batch, ev)
            # Other account.* / kyc.* events are valid but carry nothing for KYC review: ignored.
        pe = ProcessingEvent()
        pe.collect_events(*batch.changed())
        return pe

    def _on_submitted(self, batch: _Batch, ev: Event) -> None:
        p: AccountApplicationSubmitted = ev.payload
        eid = str(ev.event_id)
        index = batch.customer(p.customer_id)
        if index.has_seen(eid):
            log.info("kyc_upstream_duplicate", event_id=eid, customer_id=p.customer_id)
            return
        case_id = index.case_for_application(p.application_id)
        if case_id is None and index.latest_case_id is not None:
            latest = batch.case(index.latest_case_id)
            if latest is not None and latest.state not in ("approved", "rejected"):
                case_id = index.latest_case_id
        docs = [d.model_dump() for d in p.documents]
        decl = p.declarations.model_dump()
        if case_id is None:
            case = KycCase.open(
                rules=self.rules,
                customer_id=p.customer_id,
                application_id=p.application_id,
                submitted_at=p.submitted_at,
                documents=docs,
                declarations=decl,
                id_issuing_country=p.id_issuing_country,
                verified_id_country=index.verified_country,
                account_type=str(p.account_type),
                upstream_event_id=eid,
                verified_at=index.verified_at,
            )
            batch.add_case(case)
            log.info(
                "kyc_case_opened",
                case_id=str(case.id),
                customer_id=p.customer_id,
                event_id=eid,
                high_risk=case.high_risk,
                documents=len(docs),
            )
        else:
            case = batch.case(case_id)
            if case is None:  # the index points at a case that does not exist: a bug, never silently skip
                raise LookupError(f"case {case_id} of customer index missing")
            if case.has_seen(eid):
                return
            if not case.resubmit(
                rules=self.rules,
                application_id=p.application_id,
                submitted_at=p.submitted_at,
                documents=docs,
                declarations=decl,
                id_issuing_country=p.id_issuing_country,
                upstream_event_id=eid,
            ):
                log.warning("kyc_stale_submission_ignored", case_id=str(case.id), event_id=eid)
            else:
                log.info(
                    "kyc_case_resubmitted",
                    case_id=str(case.id),
                    customer_id=p.customer_id,
                    event_id=eid,
                    state=case.state,
                    high_risk=case.high_risk,
                )
        index.link(application_id=p.application_id, case_id=str(case.id), upstream_event_id=eid)

    def _on_identity_verified(self, batch: _Batch, ev: Event) -> None:
        p: IdentityVerified = ev.payload
        eid = str(ev.event_id)
        index = batch.customer(p.customer_id)
        if index.has_seen(eid):
            return
        index.identity_verified(
            customer_id=p.customer_id,
            country=p.id_issuing_country,
            verified_at=p.verified_at,
            upstream_event_id=eid,
        )
        if index.latest_case_id:
            case = batch.case(index.latest_case_id)
            if case is not None and case.state != "rejected" and not case.has_seen(eid):
                case.identity_verified(
                    rules=self.rules,
                    country=p.id_issuing_country,
                    verified_at=p.verified_at,
                    upstream_event_id=eid,
                )
        log.info("kyc_identity_verified", customer_id=p.customer_id, event_id=eid)


class _Batch:
    """Aggregates loaded once per batch, so several events for one customer in a batch chain correctly."""

    def __init__(self, app: KycApplication):
        self.app = app
        self._aggs: dict[uuid.UUID, Any] = {}

    def customer(self, customer_id: str) -> CustomerKyc:
        agg_id = customer_index_id(customer_id)
        if agg_id not in self._aggs:
            try:
                self._aggs[agg_id] = self.app.repository.get(agg_id)
            except AggregateNotFoundError:
                self._aggs[agg_id] = CustomerKyc(customer_id=customer_id)
        return self._aggs[agg_id]

    def case(self, case_id: str | uuid.UUID) -> KycCase | None:
        agg_id = uuid.UUID(str(case_id))
        if agg_id not in self._aggs:
            try:
                self._aggs[agg_id] = self.app.repository.get(agg_id)
            except AggregateNotFoundError:
                return None
        return self._aggs[agg_id]

    def add_case(self, case: KycCase) -> None:
        self._aggs[case.id] = case

    def changed(self) -> list[Any]:
        return list(self._aggs.values())


__all__ = ["CaseNotFound", "HANDLED_TYPES", "KycApplication", "case_id_for"]
