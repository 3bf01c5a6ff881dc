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

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def position(self) -> int:
        return self.app.process_recorder.max_tracking_id(self.name) or 0

    def _read(self) -> tuple[list[Envelope], int | None, int]:
        rec = self.app.process_recorder
        start = self.position()
        notifications = rec.select_notifications(start=start + 1, limit=self.batch_size)
        envelopes: list[Envelope] = []
        last = None
        for n in notifications:
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
        backlog = (rec.max_notification_id() or 0) - (last or start)
        return envelopes, last, backlog

    async def publish_once(self) -> int:
        """Publish the next batch; returns how many notifications were consumed from the log."""
        envelopes, last, backlog = await asyncio.to_thread(self._read)
        OUTBOX_BACKLOG.labels(self.service).set(max(backlog, 0))
        if last is None:
            return 0
        await self.producer.publish_many(envelopes)
        await asyncio.to_thread(self.app.process_recorder.insert_tracking, Tracking(self.name, last))
        for env in envelopes:
            EVENTS_PUBLISHED.labels(self.service, self.producer.topic_for(env)).inc()
        self.published += len(envelopes)
        return len(envelopes) or 1

    async def run(self) -> None:
        log.info("outbox_relay_started", service=self.service, position=self.position())
        # Woken by recordings in this process and, on PostgreSQL, by NOTIFY from other processes (the API).
        await follow(self.app, self._wake, self._stopping, self.publish_once, interval_s=self.interval_s,
                     on_error=lambda exc: log.warning("outbox_publish_failed", error=type(exc).__name__))
        log.info("outbox_relay_stopped", published=self.published)
