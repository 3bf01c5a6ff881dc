"""`Segment`: a saved customer group — a static list of customer ids, or a dynamic segment (a saved filter
definition over the customer list's filters, evaluated when read). Created, edited and deleted from the API;
each change is published as `crm.customer.segment_changed` (the whole definition after the change), so the
campaigns and assignment services can target a segment later."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from .imports import JOB_NAMESPACE

STATIC, DYNAMIC = "static", "dynamic"


def segment_uuid(segment_id: str) -> uuid.UUID:
    return uuid.uuid5(JOB_NAMESPACE, f"segment:{segment_id}")


class Segment(Aggregate):
    @staticmethod
    def create_id(segment_id: str, **_: Any) -> uuid.UUID:  # type: ignore[override]
        return segment_uuid(segment_id)

    @event("Created")
    def __init__(self, segment_id: str, name: str, kind: str, filter: dict[str, Any] | None,
                 customer_ids: list[str], by: str, at: datetime):
        self.segment_id, self.kind, self.owner_id, self.created_at = segment_id, kind, by, at
        self._set(name, filter, customer_ids, at)
        self.deleted = False

    @event("Updated")
    def update(self, segment_id: str, name: str, kind: str, filter: dict[str, Any] | None, customer_ids: list[str],
               by: str, at: datetime) -> None:
        self._set(name, filter, customer_ids, at)

    @event("Deleted")
    def delete(self, segment_id: str, name: str, kind: str, by: str, at: datetime) -> None:
        self.deleted, self.updated_at = True, at

    def _set(self, name: str, filter: dict[str, Any] | None, customer_ids: list[str], at: datetime) -> None:
        self.name, self.filter, self.customer_ids, self.updated_at = name, filter, list(customer_ids), at
