"""`FollowUp`: one follow-up record (or one batch remark) about a customer. Immutable once recorded."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import Aggregate, event


class FollowUp(Aggregate):
    KIND_FOLLOW_UP = "follow_up"
    KIND_REMARK = "remark"  # batch remarks: notes, not a contact with the customer

    @event("Recorded")
    def __init__(self, customer_id: str, manager_id: str, kind: str, task_id: str | None, intent: str | None,
                 tier: str | None, contact_methods: list[str], next_follow_up_at: datetime | None,
                 tags: list[str], remarks: str | None, recorded_at: datetime,
                 correlation_id: str | None = None) -> None:
        self.customer_id, self.manager_id, self.kind, self.task_id = customer_id, manager_id, kind, task_id
        self.intent, self.tier = intent, tier
        self.contact_methods, self.tags = list(contact_methods), list(tags)
        self.next_follow_up_at, self.remarks, self.recorded_at = next_follow_up_at, remarks, recorded_at
        self.correlation_id = correlation_id
