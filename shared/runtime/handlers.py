"""Ready-made `BatchHandler`s: SQL read models (SQLAlchemy) and event-sourced aggregates (eventsourcing)."""

from __future__ import annotations

import time
from collections.abc import Callable

from eventsourcing.persistence import Tracking
from sqlalchemy.orm import Session, sessionmaker

from shared.events import Event

from .db import Tracker
from .eventstore import ProcessingEvent, TrackingApplication, supports_more_tracking
from .pipeline import Part

SqlApply = Callable[[Session, list[Event]], None]


class SqlBatchHandler:
    """Applies a batch to SQLAlchemy tables with `apply(session, new_events)`; the event-id de-duplication
    and the partition position are written in the same transaction.

    With `relevant` (a cheap test on the event alone: True for every event `apply` may change something
    for), the other events are neither applied nor remembered as processed (a topic shared with other
    handlers: the tasks cards and 100,000 campaign follow-up requests); the positions move on all the same."""

    def __init__(self, sessions: sessionmaker[Session], tracker: Tracker, apply: SqlApply, *,
                 name: str | None = None, relevant: Callable[[Event], bool] | None = None):
        self.sessions, self.tracker, self._apply, self.name = sessions, tracker, apply, name
        self.relevant = relevant

    def positions(self) -> dict[tuple[str, int], int]:
        with self.sessions() as s:
            return self.tracker.positions(s)

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        self.apply_many([(topic, partition, events, next_offset)])

    def apply_many(self, parts: list[Part]) -> None:
        """Several partitions' batches in one transaction (one poll): the events in partition order, one
        partition after another, which is a delivery order the consumer could have seen anyway."""
        with self.sessions.begin() as s:
            events = [e for _, _, evs, _ in parts for e in evs if self.relevant is None or self.relevant(e)]
            fresh = self.tracker.first_time(s, (str(e.event_id) for e in events))
            todo = [e for e in events if str(e.event_id) in fresh]
            if todo:
                self._apply(s, todo)
            for topic, partition, _, next_offset in parts:
                self.tracker.advance(s, topic, partition, next_offset)


EsApply = Callable[[list[Event]], ProcessingEvent]  # returns the processing event holding changed aggregates


class EventSourcedBatchHandler:
    """Applies a batch to aggregates and stores their new events together with a Tracking record
    `<consumer>:<topic>:<partition>` = next offset, in one event-store transaction
    (`TrackingApplication.record_processed`).

    `apply(events) -> ProcessingEvent` loads and changes aggregates and collects them into a processing
    event (without tracking); this class attaches the tracking and records it. Aggregates are expected
    to ignore event ids they have already applied (upstream re-publication).

    With `relevant` (a cheap test on the event alone), only relevant events reach `apply`, and a batch
    without any stores its position lazily (`LazyPosition`): most records of a busy topic change nothing."""

    def __init__(self, app: TrackingApplication, consumer: str, apply: EsApply, topics: list[str], *,
                 name: str | None = None, relevant: Callable[[Event], bool] | None = None):
        self.app, self.consumer, self._apply, self.topics = app, consumer, apply, topics
        self.name, self.relevant = name, relevant
        self.lazy = LazyPosition() if relevant is not None else None

    def tracking_name(self, topic: str, partition: int) -> str:
        return f"{self.consumer}:{topic}:{partition}"

    def position(self, topic: str, partition: int) -> int | None:
        return self.app.process_recorder.max_tracking_id(self.tracking_name(topic, partition))

    def positions(self) -> dict[tuple[str, int], int]:
        out: dict[tuple[str, int], int] = {}
        for topic in self.topics:
            for partition in range(64):
                pos = self.position(topic, partition)
                if pos is not None:
                    out[(topic, partition)] = pos
        return out

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        for _, _, todo, _ in self._select([(topic, partition, events, next_offset)]):
            pe = self._apply(todo) if todo else ProcessingEvent()
            self.app.record_processed(pe, [Tracking(self.tracking_name(topic, partition), next_offset)])

    def apply_many(self, parts: list[Part]) -> None:
        """Several partitions' batches as one unit of work, recorded with every partition's tracking in one
        event-store transaction. Raises (so the pipeline goes partition by partition) when the recorder
        cannot store several tracking records."""
        self.check_more_tracking()
        parts = self._select(parts)
        if parts:
            events = [e for _, _, evs, _ in parts for e in evs]
            pe = self._apply(events) if events else ProcessingEvent()
            self.app.record_processed(pe, self.trackings(parts))

    def _select(self, parts: list[Part]) -> list[Part]:
        """The relevant events of each part; parts that have none and whose position can wait, left out."""
        if self.relevant is None:
            return parts
        out = []
        for topic, partition, events, nxt in parts:
            todo = [e for e in events if self.relevant(e)]
            if not self.lazy.skip(topic, partition, bool(todo)):  # type: ignore[union-attr]
                out.append((topic, partition, todo, nxt))
        return out

    def check_more_tracking(self) -> None:
        if not supports_more_tracking(self.app.process_recorder):
            raise NotImplementedError("recorder without more_tracking")

    def trackings(self, parts: list[Part]) -> list[Tracking]:
        """Every partition's tracking record (its next offset)."""
        return [Tracking(self.tracking_name(topic, partition), nxt) for topic, partition, _, nxt in parts]


class LazyPosition:
    """Most records of a busy topic change nothing for a given handler (ordinary deposits, trades…). For a
    batch of only those, storing the position is postponed: stored once per `flush_s` while such batches
    keep coming, and the postponed one with the partition's next batch (nothing stores it on a timer: after a
    partition's last records the stored position may stay behind them until more arrive). Re-reading such
    records after a restart is a no-op, and it saves a transaction per batch. A batch with effects always
    stores its position with them. The group's committed offsets follow every batch all the same."""

    flush_s = 5.0

    def __init__(self) -> None:
        self._stored_at: dict[tuple[str, int], float] = {}

    def skip(self, topic: str, partition: int, effective: bool) -> bool:
        now = time.monotonic()
        if not effective and now - self._stored_at.get((topic, partition), 0.0) < self.flush_s:
            return True
        self._stored_at[(topic, partition)] = now
        return False
