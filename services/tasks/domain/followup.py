"""`FollowUp`: one follow-up record (or one batch remark) about a customer. Immutable once recorded.

A follow-up captured from the telephony or SMS system (`capture.py`) is the same record, with its `source`
(call / sms), the call's `duration_s` and the capture's id, from which its id is derived: a capture seen twice
is recorded once."""

from __future__ import annotations

import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from .nodes import TASK_NAMESPACE


class FollowUp(Aggregate):
    KIND_FOLLOW_UP = "follow_up"
    KIND_REMARK = "remark"  # batch remarks: notes, not a contact with the customer

    @staticmethod
    def create_id(capture_id: str | None = None) -> uuid.UUID:
        return uuid.uuid5(TASK_NAMESPACE, f"capture-follow-up:{capture_id}") if capture_id else uuid.uuid4()

    @event("Recorded")
    def __init__(self, customer_id: str, manager_id: str, kind: str, task_id: str | None, intent: str | None,
                 tier: str | None, contact_methods: list[str], next_follow_up_at: datetime | None,
                 tags: list[str], remarks: str | None, recorded_at: datetime,
                 correlation_id: str | None = None, source: str | None = None, duration_s: int | None = None,
                 capture_id: str | None = None) -> None:
        self.customer_id, self.manager_id, self.kind, self.task_id = customer_id, manager_id, kind, task_id
        self.intent, self.tier = intent, tier
        self.contact_methods, self.tags = list(contact_methods), list(tags)
        self.next_follow_up_at, self.remarks, self.recorded_at = next_follow_up_at, remarks, recorded_at
        self.correlation_id = correlation_id
        self.source, self.duration_s, self.capture_id = source, duration_s, capture_id
