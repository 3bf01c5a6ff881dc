"""`Capture`: a call or SMS the brokerage's telephony / SMS system captured (`brokerage.telephony`,
`brokerage.sms`), as the tasks service matched it: to a customer (by id, or by the keyed hash of the phone
number through the phone map) and to the staff member, or unmatched with the reason (the end-of-day
reconciliation lists those). One per call / message id (the id is derived from it): a re-published capture
changes nothing; an SMS's later delivery state is recorded on it. The phone number itself is never kept."""

from __future__ import annotations

import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from .nodes import TASK_NAMESPACE

UNKNOWN_CUSTOMER = "unknown_customer"  # the customer id is not a customer the CRM knows
UNKNOWN_PHONE = "unknown_phone"  # no customer has that number
AMBIGUOUS_PHONE = "ambiguous_phone"  # several customers have that number
INVALID_PHONE = "invalid_phone"  # not a phone number


class Capture(Aggregate):
    @staticmethod
    def create_id(kind: str, capture_id: str) -> uuid.UUID:
        return uuid.uuid5(TASK_NAMESPACE, f"capture:{kind}:{capture_id}")

    @event("Recorded")
    def __init__(self, kind: str, capture_id: str, staff_id: str, customer_id: str | None, reason: str | None,
                 at: datetime, direction: str | None, duration_s: int | None, outcome: str,
                 recording_ref: str | None, follow_up_id: str | None, cause: str) -> None:
        self.kind, self.capture_id, self.staff_id, self.customer_id = kind, capture_id, staff_id, customer_id
        self.reason, self.at, self.direction, self.duration_s = reason, at, direction, duration_s
        self.outcome, self.recording_ref, self.follow_up_id, self.cause = outcome, recording_ref, follow_up_id, cause

    def observe(self, outcome: str, cause: str) -> None:
        """An SMS's later delivery state (sent → delivered / failed); the same state again changes nothing."""
        if outcome != self.outcome and self.outcome == "sent":
            self._outcome_changed(outcome=outcome, cause=cause)

    @event("OutcomeChanged")
    def _outcome_changed(self, outcome: str, cause: str) -> None:
        self.outcome = outcome
