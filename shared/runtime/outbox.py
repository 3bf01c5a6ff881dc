"""Outbox relay: publishes an eventsourcing application's stored domain events to Kafka.

The application's notification log *is* the outbox. The relay reads notifications after its last
published position, maps each domain event to zero or more envelopes (event ids derived from the stored
event, so a re-publication carries the same ids), waits for every broker acknowledgement, then records
its position as a Tracking row `outbox:<topic>`. A crash after storing but before publishing leads to
publication on restart; a crash after publishing but before recording the position re-publishes the same
ids, which consumers de-duplicate. Nothing that was not stored is ever published.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Tracking

from shared.events import Envelope, Payload, registry

from .eventstore import TrackingApplication, deterministic_event_id
from .kafka import EventProducer
from .logging import get_logger
from .metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG
from .wakeup import Waker, follow

log = get_logger("outbox")


@dataclass(frozen=True)
class Outgoing:
    payload: Payload
    occurred_at: datetime | None = None
    correlation_id: str | None = None
    causation_id: str | None = None


Mapper = Callable[[Any], Sequence[Outgoing]]  # domain event -> messages to publish


class OutboxRelay:
    def __init__(self, app: TrackingApplication, producer: EventProducer, mapper: Mapper, *, service: str,
                 batch_size: int = 500, interval_s: float = 0.1):
        self.app, self.producer, self.mapper, self.service = app, producer, mapper, service
        self.batch_size, self.interval_s = batch_size, interval_s
        self.name = f"outbox:{service}"
        self._wake = Waker()
        self._stopping = asyncio.Event()
        app.on_recorded(self.wake)
        self.published = 0
        self._position: int | None = None  # as last recorded by this relay; None: read it from the store

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def position(self) -> int:
        """The position recorded in the store (the last notification id published)."""
        return self.app.process_recorder.max_tracking_id(self.name) or 0

    def _read(self) -> tuple[list[Envelope], int | None, int, bool]:
        """The next batch: (envelopes, last notification id read or None, backlog, whether it was full).

        The position this relay last recorded is remembered: finding nothing new costs one query. When
        there is something, the recorded position is read too (another replica may have published it)."""
        rec = self.app.process_recorder
        hint = self._position
        notifications = rec.select_notifications(start=hint + 1, limit=self.batch_size) if hint is not None else None
        if hint is not None and not notifications:
            return [], None, 0, False
        start = self.position()
        if start != hint:
            notifications = rec.select_notifications(start=start + 1, limit=self.batch_size)
        self._position = start
        envelopes: list[Envelope] = []
        last = None
        for n in notifications or ():
            domain_event = self.app.mapper.to_domain_event(n)
            for i, out in enumerate(self.mapper(domain_event)):
                envelopes.append(
                    registry.envelope(
                        out.payload,
                        producer=f"whale-crm/{self.service}",
                        occurred_at=out.occurred_at or domain_event.timestamp,
                        event_id=deterministic_event_id(n.originator_id, n.originator_version, i),
                        correlation_id=out.correlation_id,
                        causation_id=out.causation_id,
                    )
                )
            last = n.id
        full = len(notifications or ()) >= self.batch_size
        # a batch shorter than the limit reached the end of the log: no backlog (and no query for it)
        backlog = (rec.max_notification_id() or 0) - (last or start) if full else 0
        return envelopes, last, backlog, full

    async def publish_once(self) -> int:
        """Publish the next batch; returns how many notifications were consumed from the log."""
        n, _ = await self._publish()
        return n

    async def _publish(self) -> tuple[int, bool]:
        try:
            envelopes, last, backlog, full = await asyncio.to_thread(self._read)
            OUTBOX_BACKLOG.labels(self.service).set(max(backlog, 0))
            if last is None:
                return 0, False
            await self.producer.publish_many(envelopes)
            await asyncio.to_thread(self.app.process_recorder.insert_tracking, Tracking(self.name, last))
        except BaseException:
            self._position = None  # read it from the store again
            raise
        self._position = last
        for env in envelopes:
            EVENTS_PUBLISHED.labels(self.service, self.producer.topic_for(env)).inc()
        self.published += len(envelopes)
        return len(envelopes) or 1, full

    async def _step(self) -> int:
        """For `follow`: a batch that was not full reached the end of the log, so the relay waits for the
        next wake-up instead of reading again at once (a recording meanwhile has set the wake-up)."""
        n, full = await self._publish()
        return n if full else 0

    async def run(self) -> None:
        log.info("outbox_relay_started", service=self.service, position=self.position())
        # Woken by recordings in this process and, on PostgreSQL, by NOTIFY from other processes (the API).
        await follow(self.app, self._wake, self._stopping, self._step, interval_s=self.interval_s,
                     on_error=lambda exc: log.warning("outbox_publish_failed", error=type(exc).__name__))
        log.info("outbox_relay_stopped", published=self.published)
