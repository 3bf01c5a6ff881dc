"""The User CRM eventsourcing application: requests (load, call, save) and the platform's answers.

Synchronous (eventsourcing is): async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.events import Event
from shared.events.crm_usercrm import PARAM_BLOCKS
from shared.events.crm_usercrm import UserRequest as RequestContract
from shared.events.upstream_user import RequestAccepted, RequestCompleted, RequestFailed
from shared.runtime.commands import save_retrying
from shared.runtime.errors import PermanentError
from shared.runtime.eventstore import ProcessingEvent, TrackingApplication
from shared.runtime.logging import get_logger

from .domain.approval import ApprovalRules
from .domain.errors import InvalidTransition, UnknownRequest
from .domain.request import UserRequest

log = get_logger("usercrm.application")


class UsercrmApplication(TrackingApplication):
    name = "usercrm"
    rules: ApprovalRules = ApprovalRules()

    # ------------------------------------------------------------------------------ reading
    def get_request(self, request_id: str) -> UserRequest:
        try:
            key = uuid.UUID(str(request_id))
        except ValueError:
            raise UnknownRequest(f"request {request_id!r} not found") from None
        agg = self.load(key)
        if not isinstance(agg, UserRequest):
            raise UnknownRequest(f"request {request_id!r} not found")
        return agg

    # ------------------------------------------------------------------------------ commands
    def request(self, contract: RequestContract, *, correlation_id: str | None) -> UserRequest:
        """Store a new request (validated by its contract). It is sent by the outbox unless it needs approval."""
        money = contract.money
        params = {b: getattr(contract, b).model_dump(mode="json", exclude_none=True)
                  for b in PARAM_BLOCKS if getattr(contract, b) is not None}
        agg = UserRequest(
            request_id=contract.request_id, customer_id=contract.customer_id, action=str(contract.action),
            params=params, requested_by=contract.requested_by, requested_role=contract.requested_role,
            at=contract.requested_at, reason=contract.reason, correlation_id=correlation_id,
            needs_approval=self.rules.needs_approval(contract.action, money.amount if money else None,
                                                     money.currency if money else None),
            amount=str(money.amount) if money else None, currency=money.currency if money else None,
        )
        self.save(agg)
        return agg

    def _command(self, request_id: str, call: Callable[[UserRequest], Any], attempts: int = 3) -> UserRequest:
        """Load, call, save; on a concurrent write (optimistic concurrency) reload and re-check the rules."""

        def step() -> tuple[UserRequest, UserRequest]:
            agg = self.get_request(request_id)
            call(agg)
            return agg, agg

        return save_retrying(self, step, attempts=attempts, request_id=request_id)

    def approve(self, request_id: str, by: str, role: str | None, at: datetime) -> UserRequest:
        return self._command(request_id, lambda r: r.approve(by=by, role=role, at=at))

    def decline(self, request_id: str, by: str, role: str | None, at: datetime, note: str | None) -> UserRequest:
        return self._command(request_id, lambda r: r.decline(by=by, role=role, at=at, note=note))

    # ------------------------------------------------------------------------------ platform answers
    def process_answers(self, events: list[Event]) -> ProcessingEvent:
        """Apply a batch of the platform's answers; the caller records it with its tracking."""
        answers = [(e, _answer(e.payload)) for e in events]
        answers = [(e, a) for e, a in answers if a is not None]
        keys = list(dict.fromkeys(_key(e.payload.request_id) for e, _ in answers))
        loaded = self.load_many(keys) if keys else {}
        changed: dict[uuid.UUID, UserRequest] = {}
        for ev, answer in answers:
            p = ev.payload
            agg = loaded.get(_key(p.request_id))
            if not isinstance(agg, UserRequest):
                raise PermanentError(f"request.{answer}: unknown request_id {p.request_id}")
            if agg.customer_id != p.customer_id:
                raise PermanentError(f"request.{answer}: customer_id does not match request {p.request_id}")
            try:
                if self._apply_answer(agg, answer, ev):
                    changed[agg.id] = agg
            except InvalidTransition as exc:
                raise PermanentError(f"request.{answer}: {exc.message}") from None
            log.info("usercrm_request_answered", request_id=p.request_id, customer_id=p.customer_id,
                     answer=answer, state=str(agg.state))
        pe = ProcessingEvent()
        pe.collect_events(*changed.values())
        return pe

    @staticmethod
    def _apply_answer(agg: UserRequest, answer: str, ev: Event) -> bool:
        p, eid = ev.payload, str(ev.event_id)
        if isinstance(p, RequestAccepted):
            return agg.platform_answer(answer, at=p.accepted_at, upstream_event_id=eid)
        if isinstance(p, RequestCompleted):
            return agg.platform_answer(answer, at=p.completed_at, upstream_event_id=eid,
                                       result=p.result.model_dump(mode="json", exclude_none=True))
        return agg.platform_answer(answer, at=p.failed_at, upstream_event_id=eid,
                                   reason_code=p.reason_code, reason=p.reason)


ANSWER_OF: dict[type, str] = {RequestAccepted: "accepted", RequestCompleted: "completed", RequestFailed: "failed"}


def _answer(payload: Any) -> str | None:
    return ANSWER_OF.get(type(payload))


def _key(request_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(request_id)
    except ValueError:
        raise PermanentError(f"request_id {request_id!r} is not a request of this CRM") from None
