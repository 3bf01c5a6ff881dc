"""`UserRequest`: one action on a user's behalf, asked of the brokerage platform and tracked to its outcome.

    awaiting_approval ──approve──► submitted ──accepted──► accepted ──completed / failed──► done
            │                          └────────────completed / failed────────────────────► done
            └──decline──► declined

A request that needs no approval starts `submitted`. Only `submitted` and `approved` requests are sent (the
outbox publishes them). The platform's answers move it on; a late or repeated answer for a request already
done changes nothing; an answer for a request that was never sent is an error (dead-lettered).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from shared.events.crm_usercrm import RequestState as S

from .errors import InvalidTransition, SelfApproval

PENDING_STATES = frozenset({S.awaiting_approval, S.submitted, S.accepted})
DONE_STATES = frozenset({S.completed, S.failed, S.declined})
SENT_STATES = frozenset({S.submitted, S.accepted, S.completed, S.failed})

# The platform's answers: (state before, answer) -> state after. Anything missing is either a no-op (the
# request is already done: a late or repeated answer) or an error (the request was never sent).
ANSWERS: dict[tuple[S, str], S] = {
    (S.submitted, "accepted"): S.accepted,
    (S.submitted, "completed"): S.completed,
    (S.submitted, "failed"): S.failed,
    (S.accepted, "completed"): S.completed,
    (S.accepted, "failed"): S.failed,
}


def answer_transition(state: S, answer: str) -> S | None:
    """State after a platform answer; None when the answer changes nothing (late or repeated).
    Raises InvalidTransition for an answer to a request that was never sent."""
    if (state, answer) in ANSWERS:
        return ANSWERS[(state, answer)]
    if state in SENT_STATES:
        return None
    raise InvalidTransition(f"answer {answer!r} for a request in state {state} (never sent)")


class UserRequest(Aggregate):
    @staticmethod
    def create_id(request_id: str, **_: Any) -> uuid.UUID:
        return uuid.UUID(request_id)

    @event("Requested")
    def __init__(self, *, request_id: str, customer_id: str, action: str, params: dict[str, Any],
                 requested_by: str, requested_role: str | None, at: datetime, reason: str | None,
                 correlation_id: str | None, needs_approval: bool, amount: str | None,
                 currency: str | None) -> None:
        self.request_id, self.customer_id, self.action, self.params = request_id, customer_id, action, params
        self.requested_by, self.requested_role, self.requested_at = requested_by, requested_role, at
        self.reason, self.correlation_id = reason, correlation_id
        self.amount, self.currency = amount, currency
        self.needs_approval = needs_approval
        self.state = S.awaiting_approval if needs_approval else S.submitted
        self.approved_by: str | None = None
        self.decided_at: datetime | None = None
        self.result: dict[str, Any] = {}
        self.failure_code: str | None = None
        self.failure_reason: str | None = None
        self.done_at: datetime | None = None

    # ------------------------------------------------------------------------------ maker-checker
    def _check_checker(self, by: str, verb: str) -> None:
        if self.state != S.awaiting_approval:
            raise InvalidTransition(f"cannot {verb} a request in state {self.state}")
        if by == self.requested_by:
            raise SelfApproval(f"the requester cannot {verb} their own request")

    def approve(self, *, by: str, role: str | None, at: datetime) -> None:
        self._check_checker(by, "approve")
        self._approved(by=by, role=role, at=at)

    @event("Approved")
    def _approved(self, *, by: str, role: str | None, at: datetime) -> None:
        self.state, self.approved_by, self.decided_at = S.submitted, by, at

    def decline(self, *, by: str, role: str | None, at: datetime, note: str | None) -> None:
        self._check_checker(by, "decline")
        self._declined(by=by, role=role, at=at, note=note)

    @event("Declined")
    def _declined(self, *, by: str, role: str | None, at: datetime, note: str | None) -> None:
        self.state, self.approved_by, self.decided_at, self.done_at = S.declined, by, at, at

    # ------------------------------------------------------------------------------ platform answers
    def platform_answer(self, answer: str, *, at: datetime, upstream_event_id: str,
                        result: dict[str, Any] | None = None, reason_code: str | None = None,
                        reason: str | None = None) -> bool:
        """Apply the platform's answer; False when it changes nothing."""
        to = answer_transition(self.state, answer)
        if to is None:
            return False
        self._answered(answer=answer, to_state=str(to), at=at, upstream_event_id=upstream_event_id,
                       result=result or {}, reason_code=reason_code, reason=reason)
        return True

    @event("Answered")
    def _answered(self, *, answer: str, to_state: str, at: datetime, upstream_event_id: str,
                  result: dict[str, Any], reason_code: str | None, reason: str | None) -> None:
        self.state = S(to_state)
        if self.state in DONE_STATES:
            self.done_at = at
        self.result = {**self.result, **result}
        self.failure_code, self.failure_reason = reason_code or self.failure_code, reason or self.failure_reason
