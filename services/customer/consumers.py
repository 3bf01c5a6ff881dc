"""Topic handlers: upstream topics → Customer aggregates; crm.assignment.events → assignment read model."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import IntegrityError, Tracking
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from shared.events import Event
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned
from shared.runtime.errors import PermanentError
from shared.runtime.eventstore import ProcessingEvent
from shared.runtime.handlers import EventSourcedBatchHandler
from shared.runtime.logging import get_logger
from shared.runtime.pipeline import Part

from .application import Batch, CustomerApplication, IngestCache, MatchStep, apply_upstream
from .domain.customer import customer_uuid
from .domain.state import UnknownFact
from .facts import NotACustomerFact
from .projections.tables import Tables, upsert

log = get_logger("customer.consumers")
CONFLICT_RETRIES = 5


class UpstreamHandler(EventSourcedBatchHandler):
    """Applies a batch of one partition to the aggregates and records their events with the Kafka position
    in one event-store transaction. A version conflict (a CRM action saved the same customer meanwhile)
    evicts the cached aggregates and re-applies the batch."""

    def __init__(self, app: CustomerApplication, consumer: str, topics: list[str], cache: IngestCache,
                 match: MatchStep | None = None):
        self.cache = cache
        self.match = match
        super().__init__(app, consumer, self._fold, topics)

    def _fold(self, events: list[Event], optimistic: bool = True) -> tuple[ProcessingEvent, Batch]:
        try:
            return apply_upstream(self.app, self.cache, events, optimistic=optimistic,  # type: ignore[arg-type]
                                  match=self.match)
        except (NotACustomerFact, UnknownFact, KeyError) as exc:
            raise PermanentError(f"cannot apply: {type(exc).__name__}") from None

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        name = self.tracking_name(topic, partition)
        for attempt in range(CONFLICT_RETRIES):
            try:
                pe, batch = self._fold(events, optimistic=attempt == 0) if events else (ProcessingEvent(), Batch())
                self.app.record_processed(pe, [Tracking(name, next_offset)])
            except IntegrityError:
                self._evict(events)
                if (self.app.process_recorder.max_tracking_id(name) or 0) >= next_offset:
                    log.warning("ingest_batch_already_recorded", topic=topic, partition=partition)
                    return  # another member applied this batch (rebalance): nothing to do
                log.warning("ingest_version_conflict", topic=topic, partition=partition, attempt=attempt)
                if attempt == CONFLICT_RETRIES - 1:
                    raise
            except Exception:
                self._evict(events)
                raise
            else:
                self._done(pe, batch)
                return

    def apply_many(self, parts: list[Part]) -> None:
        """One poll's partitions in one event-store transaction, with every partition's tracking. Any
        failure (a version conflict included) evicts the aggregates and raises: the consumer then applies
        the partitions one by one through `apply`, which handles conflicts and poison records."""
        self.check_more_tracking()
        events = [e for _, _, evs, _ in parts for e in evs]
        try:
            pe, batch = self._fold(events) if events else (ProcessingEvent(), Batch())
            self.app.record_processed(pe, self.trackings(parts))
        except Exception:
            self._evict(events)
            raise
        self._done(pe, batch)

    def _done(self, pe: ProcessingEvent, batch: Batch) -> None:
        for key, aggregate in batch.customers.items():
            self.cache.put(key, aggregate, batch.views[key])

    def _evict(self, events: list[Event]) -> None:
        self.cache.evict(customer_uuid(e.envelope.payload["customer_id"]) for e in events
                         if isinstance(e.envelope.payload.get("customer_id"), str))


# ------------------------------------------------------------------------------ assignment projection
def apply_assignments(tables: Tables):  # type: ignore[no-untyped-def]
    """`apply(session, events)` for SqlBatchHandler: last-writer-wins per (customer, manager, stage) by the
    event's business time, so out-of-order and replayed assignment events give the same rows. A row holds
    only what its winning event says (nothing is carried over from the row it replaced), which is what
    keeps the result independent of delivery order."""
    t = tables.assignment

    def apply(session: Session, events: list[Event]) -> None:
        changes: dict[tuple[str, str, str], dict[str, Any]] = {}
        for e in events:
            p = e.payload
            if isinstance(p, CustomerAssigned):
                stage = p.stage or "*"
                _merge(changes, {"customer_id": p.customer_id, "manager_id": p.manager_id, "stage_key": stage,
                                 "team_id": p.team_id, "share": p.share, "active": True, "reason": p.reason,
                                 "assigned_at": p.assigned_at, "changed_at": p.assigned_at,
                                 "event_id": str(e.event_id)})
                if p.previous_manager_id and p.previous_manager_id != p.manager_id:
                    _merge(changes, {"customer_id": p.customer_id, "manager_id": p.previous_manager_id,
                                     "stage_key": stage, "team_id": None, "share": None, "active": False,
                                     "reason": "reassigned", "assigned_at": None, "changed_at": p.assigned_at,
                                     "event_id": str(e.event_id)})
            elif isinstance(p, CustomerUnassigned):
                _merge(changes, {"customer_id": p.customer_id, "manager_id": p.manager_id,
                                 "stage_key": p.stage or "*", "team_id": p.team_id, "share": None,
                                 "active": False, "reason": p.reason.value, "assigned_at": None,
                                 "changed_at": p.unassigned_at, "event_id": str(e.event_id)})
        if not changes:
            return
        keys = list(changes)
        existing = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = session.execute(select(t).where(tuple_(t.c.customer_id, t.c.manager_id, t.c.stage_key).in_(chunk)))
            existing.update({(r.customer_id, r.manager_id, r.stage_key): r._asdict() for r in rows})
        out = []
        for key, row in changes.items():
            cur = existing.get(key)
            if cur is not None and (_aware(cur["changed_at"]), cur["event_id"]) >= (row["changed_at"], row["event_id"]):
                continue
            out.append(row)
        if out:
            upsert(session, t, out, ["customer_id", "manager_id", "stage_key"])
        log.info("assignments_projected", rows=len(out), events=len(events))

    return apply


def _aware(value: Any) -> Any:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _merge(changes: dict[tuple[str, str, str], dict[str, Any]], row: dict[str, Any]) -> None:
    key = (row["customer_id"], row["manager_id"], row["stage_key"])
    cur = changes.get(key)
    if cur is None or (row["changed_at"], row["event_id"]) > (cur["changed_at"], cur["event_id"]):
        changes[key] = row
