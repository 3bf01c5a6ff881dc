"""Per-customer KYC index: which case each application belongs to, and the platform's identity check.

It lets a resubmission find its case (same application id, or the customer's open case under a new
application id), and lets an identity verification that arrives before the application be applied later.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from .case import NAMESPACE

SEEN_IDS_KEPT = 200


def customer_index_id(customer_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"customer:{customer_id}")


class CustomerKyc(Aggregate):
    @staticmethod
    def create_id(customer_id: str, **_: Any) -> uuid.UUID:
        return customer_index_id(customer_id)

    @event("Registered")
    def __init__(self, *, customer_id: str) -> None:
        self.customer_id = customer_id
        self.applications: dict[str, str] = {}
        self.latest_case_id: str | None = None
        self.verified_country: str | None = None
        self.verified_at: datetime | None = None
        self.seen_event_ids: list[str] = []

    def has_seen(self, upstream_event_id: str) -> bool:
        return upstream_event_id in self.seen_event_ids

    def case_for_application(self, application_id: str) -> str | None:
        return self.applications.get(application_id)

    @event("ApplicationLinked")
    def link(self, *, application_id: str, case_id: str, upstream_event_id: str) -> None:
        self.applications = {**self.applications, application_id: case_id}
        self.latest_case_id = case_id
        self.seen_event_ids = (self.seen_event_ids + [upstream_event_id])[-SEEN_IDS_KEPT:]

    @event("IdentityVerified")
    def identity_verified(
        self, *, customer_id: str, country: str, verified_at: datetime, upstream_event_id: str
    ) -> None:
        if self.verified_at is None or verified_at >= self.verified_at:
            self.verified_country, self.verified_at = country, verified_at
        self.seen_event_ids = (self.seen_event_ids + [upstream_event_id])[-SEEN_IDS_KEPT:]
