"""Topic handlers.

- `customers` (group `whale-assignment-customers`): crm.customer.events -> the `asg_customer` read model
  (which customers exist, their channel, regions, language and stage) for validating assignments.
- `routing` (group `whale-assignment-routing`): crm.customer.events (`customer_registered`) and
  crm.tasks.events (`follow_up_recorded`) -> aggregates, saved with the Kafka position in one
  event-store transaction (`RetryingEsHandler`).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import RecordConflictError
from sqlalchemy import func, or_, update
from sqlalchemy.orm import Session

from shared.events import Event
from shared.runtime.handlers import EventSourcedBatchHandler
from shared.runtime.logging import get_logger

from .projections import tables as t
from .projections.apply import _insert, utc

log = get_logger("assignment.consumers")


def apply_customer_events(session: Session, events: list[Event]) -> None:
    """Idempotent and order-tolerant: the latest fact (by its own timestamp) wins for the stage.
    Registrations are written with one multi-row upsert per run of consecutive registrations."""
    c = t.customers
    pending: list[dict[str, Any]] = []
    for ev in events:
        p = ev.payload
        if ev.event_type == "crm.customer.customer_registered":
            pending.append({"customer_id": p.customer_id, "channel": p.channel, "user_region": p.user_region,
                            "active_region": p.active_region, "language": p.language,
                            "registered_at": utc(p.registered_at)})
            continue
        _upsert_registered(session, pending)
        pending = []
        if ev.event_type == "crm.customer.regions_changed":
            _ensure(session, p.customer_id)
            session.execute(update(c).where(c.c.customer_id == p.customer_id).values(
                user_region=p.user_region, active_region=p.active_region))
        elif ev.event_type == "crm.customer.stage_changed":
            _ensure(session, p.customer_id)
            at = utc(p.changed_at)
            session.execute(update(c).where(
                c.c.customer_id == p.customer_id,
                or_(c.c.stage_changed_at.is_(None), c.c.stage_changed_at <= at),
            ).values(stage=p.to_stage.value, stage_changed_at=at))
    _upsert_registered(session, pending)


def _upsert_registered(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    c = t.customers
    rows = list({r["customer_id"]: r for r in rows}.values())  # one row per customer per statement
    stmt = _insert(session, c)
    stmt = stmt.on_conflict_do_update(index_elements=["customer_id"], set_={
        "channel": stmt.excluded.channel, "language": stmt.excluded.language,
        "registered_at": stmt.excluded.registered_at,
        # a regions_changed applied before (or replayed after) keeps its newer regions
        "user_region": func.coalesce(c.c.user_region, stmt.excluded.user_region),
        "active_region": func.coalesce(c.c.active_region, stmt.excluded.active_region),
    })
    for i in range(0, len(rows), 1000):
        session.execute(stmt, rows[i:i + 1000])


def _ensure(session: Session, customer_id: str) -> None:
    session.execute(_insert(session, t.customers).values(customer_id=customer_id)
                    .on_conflict_do_nothing(index_elements=["customer_id"]))


class RetryingEsHandler(EventSourcedBatchHandler):
    """Re-runs a batch whose save lost an optimistic-concurrency race (an API command or another replica
    changed the same aggregate); skips it when another replica already recorded this position."""

    attempts = 5

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        for attempt in range(self.attempts):
            try:
                super().apply(topic, partition, events, next_offset)
                return
            except RecordConflictError:
                done: Any = self.app.process_recorder.max_tracking_id(self.tracking_name(topic, partition))
                if done is not None and done >= next_offset:
                    log.info("batch_already_applied", topic=topic, partition=partition, next_offset=next_offset)
                    return
                if attempt == self.attempts - 1:
                    raise
                log.info("batch_conflict_retry", topic=topic, partition=partition, attempt=attempt + 1)
