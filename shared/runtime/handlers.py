"""Ready-made `BatchHandler`s: SQL read models (SQLAlchemy) and event-sourced aggregates (eventsourcing)."""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Tracking
from sqlalchemy.orm import Session, sessionmaker

from shared.events import Event

from .db import Tracker
from .eventstore import TrackingApplication, supports_more_tracking, tracking_kwargs

Part = tuple[str, int, list[Event], int]  # (topic, partition, events, next offset): see kafka.MultiPartitionHandler
SqlApply = Callable[[Session, list[Event]], None]


class SqlBatchHandler:
    """Applies a batch to SQLAlchemy tables with `apply(session, new_events)`; the event-id de-duplication
    and the partition position are written in the same transaction."""

    def __init__(self, sessions: sessionmaker[Session], tracker: Tracker, apply: SqlApply):
        self.sessions, self.tracker, self._apply = sessions, tracker, apply

    def positions(self) -> dict[tuple[str, int], int]:
        with self.sessions() as s:
            return self.tracker.positions(s)

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        with self.sessions.begin() as s:
            fresh = self.tracker.first_time(s, (str(e.event_id) for e in events))
            todo = [e for e in events if str(e.event_id) in fresh]
            if todo:
                self._apply(s, todo)
            self.tracker.advance(s, topic, partition, next_offset)

    def apply_many(self, parts: list[Part]) -> None:
        """Several partitions' batches in one transaction (one poll): the events in partition order, one
        partition after another, which is a delivery order the consumer could have seen anyway."""
        with self.sessions.begin() as s:
            events = [e for _, _, evs, _ in parts for e in evs]
            fresh = self.tracker.first_time(s, (str(e.event_id) for e in events))
            todo = [e for e in events if str(e.event_id) in fresh]
            if todo:
                self._apply(s, todo)
            for topic, partition, _, next_offset in parts:
                self.tracker.advance(s, topic, partition, next_offset)


EsApply = Callable[[list[Event]], ProcessingEvent]  # returns the processing event holding changed aggregates


class EventSourcedBatchHandler:
    """Applies a batch to aggregates and stores their new events together with a Tracking record
    `<consumer>:<topic>:<partition>` = next offset, in one event-store transaction.

    `apply(events) -> ProcessingEvent` loads and changes aggregates and collects them into a processing
    event (without tracking); this class attaches the tracking and records it. Aggregates are expected
    to ignore event ids they have already applied (upstream re-publication)."""

    def __init__(self, app: TrackingApplication, consumer: str, apply: EsApply, topics: list[str]):
        self.app, self.consumer, self._apply, self.topics = app, consumer, apply, topics

    def tracking_name(self, topic: str, partition: int) -> str:
        return f"{self.consumer}:{topic}:{partition}"

    def positions(self) -> dict[tuple[str, int], int]:
        out: dict[tuple[str, int], int] = {}
        rec = self.app.process_recorder
        for topic in self.topics:
            for partition in range(64):
                pos = rec.max_tracking_id(self.tracking_name(topic, partition))
                if pos is not None:
                    out[(topic, partition)] = pos
        return out

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        tracking = Tracking(self.tracking_name(topic, partition), next_offset)
        pe = self._apply(events) if events else ProcessingEvent()
        pe.tracking = tracking
        self.app._record(pe)  # noqa: SLF001 - the documented way ProcessApplication records with tracking
        self.app._take_snapshots(pe)  # noqa: SLF001

    def apply_many(self, parts: list[Part]) -> None:
        """Several partitions' batches as one unit of work, recorded with every partition's tracking in one
        event-store transaction. Raises (so the consumer goes partition by partition) when the recorder
        cannot store several tracking records."""
        self.check_more_tracking()
        events = [e for _, _, evs, _ in parts for e in evs]
        pe = self._apply(events) if events else ProcessingEvent()
        self.track_all(pe, parts)
        self.app._record(pe)  # noqa: SLF001
        self.app._take_snapshots(pe)  # noqa: SLF001

    def check_more_tracking(self) -> None:
        if not supports_more_tracking(self.app.process_recorder):
            raise NotImplementedError("recorder without more_tracking")

    def track_all(self, pe: ProcessingEvent, parts: list[Part]) -> None:
        """Attach every partition's tracking record (next offset) to the processing event."""
        trackings = [Tracking(self.tracking_name(topic, partition), nxt) for topic, partition, _, nxt in parts]
        pe.tracking = trackings[0]
        pe.saved_kwargs.update(tracking_kwargs(trackings))
