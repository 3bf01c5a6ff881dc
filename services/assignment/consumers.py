"""Topic handlers.

- `customers` (group `whale-assignment-customers`): crm.customer.events -> the `asg_customer` read model
  (which customers exist, their channel, regions, language and stage) for validating assignments, and
  `asg_customer_segment` (their saved segments now: re-routing a reclaimed customer matches them).
- `routing` (group `whale-assignment-routing`): crm.customer.events (`customer_registered`),
  crm.tasks.events (`follow_up_recorded`) and crm.usercrm.events (`owner_change_confirmed`: the platform
  completed a client/lead owner change) -> aggregates, saved with the Kafka position in one event-store
  transaction (`RetryingEsHandler`).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import RecordConflictError
from sqlalchemy import bindparam, func, or_, update
from sqlalchemy.orm import Session

from shared.events import Event
from shared.events.crm_customer import (
    CustomerOnboarded,
    RegionsChanged,
    SegmentMembershipChanged,
    StageChanged,
)
from shared.runtime.handlers import EventSourcedBatchHandler
from shared.runtime.logging import get_logger
from shared.runtime.sqlrows import dialect_insert, insert_ignore

from .projections import tables as t
from .projections.apply import utc

log = get_logger("assignment.consumers")


def apply_customer_events(session: Session, events: list[Event]) -> None:
    """Idempotent and order-tolerant, with a fixed number of statements per batch (not per event), and
    exactly the rows that applying the events one at a time would give:
    - registrations: one multi-row upsert; the last registration's channel, language and time; regions
      already on the row (or given by an earlier registration) are kept;
    - regions: a `regions_changed` overwrites them; a later registration only fills a region it left
      empty. The customer's regions after its last change are known without reading the row, so they are
      written with one executemany update;
    - customers known only from a regions or stage change get a bare row first (one multi-row insert);
    - stage: the latest fact per customer by its own timestamp (ties: the later delivered), one executemany
      update that only overwrites an older stage;
    - segments: the latest membership per (customer, segment) by its `as_of` (ties: the later delivered), one
      multi-row upsert that only overwrites an older one."""
    c = t.customers
    registered: dict[str, dict[str, Any]] = {}
    regions: dict[str, dict[str, Any]] = {}
    stages: dict[str, dict[str, Any]] = {}
    memberships: dict[tuple[str, str], dict[str, Any]] = {}
    for ev in events:
        p = ev.payload
        if isinstance(p, CustomerOnboarded):
            prev = registered.get(p.customer_id)
            registered[p.customer_id] = {
                "customer_id": p.customer_id, "channel": p.channel, "language": p.language,
                "registered_at": utc(p.registered_at),
                "user_region": prev["user_region"] if prev and prev["user_region"] is not None else p.user_region,
                "active_region": (prev["active_region"] if prev and prev["active_region"] is not None
                                  else p.active_region)}
            changed = regions.get(p.customer_id)
            if changed is not None:
                changed["ur"] = changed["ur"] if changed["ur"] is not None else p.user_region
                changed["ar"] = changed["ar"] if changed["ar"] is not None else p.active_region
        elif isinstance(p, RegionsChanged):
            regions[p.customer_id] = {"cid": p.customer_id, "ur": p.user_region, "ar": p.active_region}
        elif isinstance(p, StageChanged):
            at = utc(p.changed_at)
            cur = stages.get(p.customer_id)
            if cur is None or at >= cur["at"]:
                stages[p.customer_id] = {"cid": p.customer_id, "stage": p.to_stage.value, "at": at}
        elif isinstance(p, SegmentMembershipChanged):
            at = utc(p.as_of)
            cur = memberships.get((p.customer_id, p.segment_id))
            if cur is None or at >= cur["as_of"]:
                memberships[(p.customer_id, p.segment_id)] = {"customer_id": p.customer_id,
                                                              "segment_id": p.segment_id, "member": p.member,
                                                              "as_of": at}
    bare = [{"customer_id": cid} for cid in dict.fromkeys([*regions, *stages]) if cid not in registered]
    insert_ignore(session, c, bare, ["customer_id"])
    _upsert_registered(session, list(registered.values()))
    if regions:
        session.execute(update(c).where(c.c.customer_id == bindparam("cid"))
                        .values(user_region=bindparam("ur"), active_region=bindparam("ar"))
                        .execution_options(synchronize_session=False), list(regions.values()))
    if stages:
        session.execute(update(c).where(
            c.c.customer_id == bindparam("cid"),
            or_(c.c.stage_changed_at.is_(None), c.c.stage_changed_at <= bindparam("at")),
        ).values(stage=bindparam("stage"), stage_changed_at=bindparam("at"))
            .execution_options(synchronize_session=False), list(stages.values()))
    _upsert_memberships(session, list(memberships.values()))


def _upsert_memberships(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    m = t.customer_segments
    stmt = dialect_insert(session, m)
    stmt = stmt.on_conflict_do_update(index_elements=["customer_id", "segment_id"],
                                      set_={"member": stmt.excluded.member, "as_of": stmt.excluded.as_of},
                                      where=m.c.as_of <= stmt.excluded.as_of)
    for i in range(0, len(rows), 1000):
        session.execute(stmt, rows[i:i + 1000])


def _upsert_registered(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    c = t.customers
    stmt = dialect_insert(session, c)
    stmt = stmt.on_conflict_do_update(index_elements=["customer_id"], set_={
        "channel": stmt.excluded.channel, "language": stmt.excluded.language,
        "registered_at": stmt.excluded.registered_at,
        # a regions_changed applied before (or replayed after) keeps its newer regions
        "user_region": func.coalesce(c.c.user_region, stmt.excluded.user_region),
        "active_region": func.coalesce(c.c.active_region, stmt.excluded.active_region),
    })
    for i in range(0, len(rows), 1000):
        session.execute(stmt, rows[i:i + 1000])


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
