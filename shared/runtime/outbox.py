"""Outbox relay: publishes an eventsourcing application's stored domain events to Kafka.

The application's notification log *is* the outbox. After every commit the application hands the new
notifications (ids and domain events) to the relay in memory (`TrackingApplication.on_recordings`), with
the envelopes the outgoing check built for them before the commit (`commands.guard_outgoing`, `Checked`);
when they follow the relay's position it publishes those from memory, so in the steady state nothing is
read back from the store and each envelope is built once. Otherwise (a crash or a failed publish left
committed events unpublished, another process stored them, a gap in the ids) it reads the notifications
after its last recorded position from the store first and builds their envelopes. Each domain event maps to zero or more envelopes (event ids derived from the stored
event, `deterministic_event_id`, so a re-publication carries the same ids); the relay waits for every
broker acknowledgement, then records its position as a Tracking row `outbox:<service>`.

- A crash after storing but before publishing leads to publication on restart.
- Each batch is published in one Kafka transaction by the relay's own transactional producer
  (`transactional_id` `<client prefix>-<topic prefix><service>-outbox`, the same in every replica: a new
  one fences an old one). A publish that fails (a broker outage) is aborted, the producer rebuilt (a new
  producer id: no `OutOfOrderSequenceNumber` forever) and the batch sent again from the recorded position
  after a bounded back-off, so however long the outage, read_committed consumers get each stored event
  once per event id. Should a publisher without transactions report a partial failure, the position is
  recorded over the acknowledged prefix and only the rest re-sent.
- A crash between a commit and the recording of the position does not re-publish the batch: every record
  carries its notification id (header `outbox_position`), and on a start or after a failure the relay
  reads the last committed records of its topics and records a position found ahead of its own, if it is
  one of its store's events (`outbox_tail.py`). Consumers still de-duplicate by event id. Nothing that
  was not stored is ever published.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Recording, Tracking

from shared.events import Envelope, Payload, registry, topics

from .eventstore import TrackingApplication, deterministic_event_id
from .health import ComponentHealth, store_backlog, stuck_at
from .leader import Leadership
from .logging import get_logger
from .metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG
from .outbox_tail import POSITION_HEADER
from .producer import EventProducer, PublishFailed
from .settings import KafkaSettings
from .wakeup import Waker, follow

log = get_logger("outbox")


@dataclass(frozen=True)
class Outgoing:
    payload: Payload
    occurred_at: datetime | None = None
    correlation_id: str | None = None
    causation_id: str | None = None


Mapper = Callable[[Any], Sequence[Outgoing]]  # domain event -> messages to publish


def producer_name(service: str) -> str:
    """The envelopes' `producer` for a service's published events."""
    return f"whale-crm/{service}"


def envelope_of(out: Outgoing, domain_event: Any, index: int, *, producer: str) -> Envelope:
    """The envelope of the `index`-th message of a stored domain event, as the relay publishes it: its id is
    derived from the event's originator id and version (`deterministic_event_id`), so a re-publication carries
    the same id. The outgoing check (`commands.guard_outgoing`) builds the same ones before the event is stored."""
    return registry.envelope(
        out.payload,
        producer=producer,
        occurred_at=out.occurred_at or domain_event.timestamp,
        event_id=deterministic_event_id(domain_event.originator_id, domain_event.originator_version, index),
        correlation_id=out.correlation_id,
        causation_id=out.causation_id,
    )


@dataclass(frozen=True)
class Checked:
    """The envelopes the outgoing check built and validated for the events of one recording, handed to the
    relay with that recording (`TrackingApplication.checked_outgoing`) so that it publishes them instead of
    mapping and building them again. `source` is the check's mapper (`guard_outgoing`) or mapper class
    (`guard_outgoing_at`, whose mapper reads the aggregate at the event's version): a relay uses them only if
    its own mapper is that one (equal) or of that class, for the same producer; otherwise it builds its own."""

    source: Any
    producer: str
    envelopes: dict[int, tuple[Any, list[Envelope]]]  # id(domain event) -> (that event, its envelopes)

    def built_like(self, mapper: Any, producer: str) -> bool:
        return self.producer == producer and (self.source is type(mapper) or self.source == mapper)

    def of(self, domain_event: Any) -> list[Envelope] | None:
        """The envelopes built for this very event object, or None."""
        found = self.envelopes.get(id(domain_event))
        return found[1] if found is not None and found[0] is domain_event else None


def transactional_id(kafka: KafkaSettings, service: str) -> str:
    """The relay's Kafka transactional id: the same in every replica of the service (a new one fences an
    old one). The service's KafkaUser must allow it (deploy/k8s/base/kafka/users.yaml)."""
    return f"{kafka.client_id_prefix}-{kafka.topic_prefix}{service}-outbox"


@dataclass(frozen=True)
class Handed:
    """A notification handed over in memory, with what health reports name it by (`stuck_at`)."""

    id: int
    originator_id: uuid.UUID
    originator_version: int
    topic: str

    @classmethod
    def of(cls, notification_id: int, domain_event: Any) -> Handed:
        kind = type(domain_event)
        return cls(notification_id, domain_event.originator_id, domain_event.originator_version,
                   f"{kind.__module__}:{kind.__qualname__}")


@dataclass(frozen=True)
class Pending:
    """One stored event to publish: its notification id and its envelopes."""

    notification_id: int
    envelopes: list[Envelope]
    stored_at: datetime | None = None  # the domain event's timestamp


class OutboxRelay:
    def __init__(self, app: TrackingApplication, producer: EventProducer, mapper: Mapper, *, service: str,
                 batch_size: int = 500, interval_s: float = 0.1):
        """`producer` gives the Kafka settings; the relay publishes through a transactional producer of its
        own, started on first use and stopped by `stop()`."""
        self.app, self.mapper, self.service = app, mapper, service
        kafka = producer.settings
        self.producer = EventProducer(kafka, client_id=f"{service}-outbox",
                                      transactional_id=transactional_id(kafka, service))
        self.batch_size, self.interval_s = batch_size, interval_s
        # the topics this service publishes on (crm.<service>.*): where its committed batches are read back
        self.topics = [kafka.topic(t) for t in topics.CRM_TOPICS if t.startswith(f"crm.{service}.")]
        self.name = f"outbox:{service}"
        self._wake = Waker()
        self._stopping = asyncio.Event()
        # committed, handed over in memory: notification id -> (domain event, its checked envelopes or None)
        self._fresh: dict[int, tuple[Any, list[Envelope] | None]] = {}
        self._fresh_lock = threading.Lock()
        self.from_memory = 0  # notifications published from memory (the rest were read from the store)
        self.reused = 0  # of those, published with the envelopes the outgoing check built (not built again)
        self.gaps_skipped = 0  # gaps before a hand-over found empty in the store (ids never committed)
        self.deferred = 0  # reads left to the hand-over of a recording under way in this process
        self.producer_name = producer_name(service)
        app.on_recordings(self.offer)
        app.on_recorded(self.wake)
        self.published = 0
        self._running = False
        self._position: int | None = None  # as last recorded by this relay; None: read it from the store
        self._acked: dict[uuid.UUID, int] = {}  # acknowledged beyond the recorded position: id -> notification
        self.health = ComponentHealth(service, self.name)
        self._narrow = False  # after a failure: one event at a time, so a stall names its event
        self._attempt: tuple[Any, Any] | None = None  # (first notification not published, its domain event)
        self._resume_due = True  # read the committed tail of the topics before the next publish

    def wake(self) -> None:
        self._wake.set()

    fresh_max = 20_000  # hand-overs kept while this replica does not publish (not the leader, stalled)

    def offer(self, recordings: Sequence[Recording]) -> None:  # type: ignore[type-arg]
        """Committed notifications, in memory (from any thread): published from here if they follow the
        position, else read from the store like any backlog. Called during the recording, which hands over
        the envelopes its outgoing check built, if they are this relay's (`Checked.built_like`)."""
        checked = self.app.checked_outgoing()
        if checked is not None and not checked.built_like(self.mapper, self.producer_name):
            checked = None
        with self._fresh_lock:
            for r in recordings:
                self._fresh[r.notification.id] = (r.domain_event,
                                                  checked.of(r.domain_event) if checked is not None else None)
            if len(self._fresh) > self.fresh_max:  # the oldest are read from the store when their turn comes
                for key in sorted(self._fresh)[:len(self._fresh) - self.fresh_max]:
                    del self._fresh[key]

    def _take_fresh(self, after: int, limit: int) -> list[tuple[int, tuple[Any, list[Envelope] | None]]]:
        """The handed-over notifications that follow `after` without a gap (at most `limit`); forgets those
        at or before it."""
        with self._fresh_lock:
            fresh = self._fresh
            for key in [k for k in fresh if k <= after]:
                del fresh[key]
            run = []
            while len(run) < limit and (after + 1) in fresh:
                after += 1
                run.append((after, fresh[after]))
            return run

    def _first_fresh(self, after: int) -> int | None:
        """The lowest handed-over notification id after `after`, or None."""
        with self._fresh_lock:
            return min((k for k in self._fresh if k > after), default=None)

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if not self._running:
            await self.producer.stop()

    def position(self) -> int:
        """The position recorded in the store (the last notification id published)."""
        return self.app.process_recorder.max_tracking_id(self.name) or 0

    # ---- reading ------------------------------------------------------------------------------
    def envelopes(self, domain_event: Any) -> list[Envelope]:
        """The envelopes of one stored domain event (ids derived from its originator id and version)."""
        return [envelope_of(out, domain_event, i, producer=self.producer_name)
                for i, out in enumerate(self.mapper(domain_event))]

    def _read(self) -> tuple[list[Pending], int, bool]:
        """The next batch from the notification log: (pending events, backlog, whether the batch was full).

        The position this relay last recorded is remembered: finding nothing new costs one query. When
        there is something, the recorded position is read too (another replica may have published it)."""
        rec = self.app.process_recorder
        hint = self._position
        limit = 1 if self._narrow else self.batch_size
        stop = None
        if hint is not None:
            fresh = self._take_fresh(hint, limit)
            if fresh:
                return self._from_memory(fresh, limit)
            # a gap before what was handed over: a recording of this process whose hand-over comes after a later
            # one's, a commit of another process, or ids never committed (a transaction rolled back after taking
            # them). Only the gap is read: ids are taken and committed in order (the recorder locks the table), so
            # what is not stored below the first handed-over id never will be, and the rest follows from memory.
            first = self._first_fresh(hint)
            if first is not None:
                stop = first - 1
            elif self.app.recording_now():
                # A recording of this process is committing or handing over: what it commits comes from memory
                # when it wakes this relay (reading it now would map it again). Another process's commits are
                # read as a gap below the hand-over, or at the next wake-up without a recording under way.
                self.deferred += 1
                return [], 0, False
        notifications = rec.select_notifications(start=hint + 1, limit=limit, stop=stop) if hint is not None else None
        if hint is not None and not notifications:
            if stop is None:
                return [], 0, False
            self.gaps_skipped += 1
            fresh = self._take_fresh(stop, limit)
            return self._from_memory(fresh, limit) if fresh else ([], 0, False)
        start = self.position()
        if start != hint:
            notifications = rec.select_notifications(start=start + 1, limit=limit,
                                                     stop=stop if stop is not None and stop > start else None)
        self._position = start
        batch, first = [], None
        for n in notifications or ():
            self._attempt = (n, None)  # an event that cannot be read or mapped is the one to name
            domain_event = self.app.mapper.to_domain_event(n)
            self._attempt = (n, domain_event)
            batch.append(Pending(n.id, self.envelopes(domain_event),
                                 domain_event.timestamp))
            first = first or (n, domain_event)
        self._attempt = first  # a failed publish: the first of the batch (one at a time after a failure)
        full = len(batch) >= limit
        # a batch shorter than the limit reached the end of the log: no backlog (and no query for it)
        backlog = (rec.max_notification_id() or 0) - (batch[-1].notification_id if batch else start) if full else 0
        return batch, backlog, full

    def _from_memory(self, fresh: list[tuple[int, tuple[Any, list[Envelope] | None]]],
                     limit: int) -> tuple[list[Pending], int, bool]:
        """A batch of handed-over notifications that follow the position this relay recorded (it is the
        only publisher: the leader lock), without reading the store: with the envelopes the outgoing check
        built for them, else mapped here."""
        batch = []
        for notification_id, (domain_event, envelopes) in fresh:
            self._attempt = (Handed.of(notification_id, domain_event), domain_event)
            if envelopes is None:
                envelopes = self.envelopes(domain_event)
            else:
                self.reused += 1
            batch.append(Pending(notification_id, envelopes, domain_event.timestamp))
        first_id, (first_event, _) = fresh[0]
        self._attempt = (Handed.of(first_id, first_event), first_event)
        self.from_memory += len(batch)
        full = len(batch) >= limit
        backlog = (self.app.process_recorder.max_notification_id() or 0) - batch[-1].notification_id if full else 0
        return batch, backlog, full

    # ---- publishing ---------------------------------------------------------------------------
    async def publish_once(self) -> int:
        """Publish the next batch; returns how many notifications were consumed from the log."""
        n, _ = await self._publish()
        return n

    async def _publish(self) -> tuple[int, bool]:
        self._attempt = None
        try:
            batch, backlog, full = await asyncio.to_thread(self._read)
            if batch and self._resume_due and await self._resume():  # a batch committed but not recorded
                batch, backlog, full = await asyncio.to_thread(self._read)
            OUTBOX_BACKLOG.labels(self.service).set(max(backlog, 0))
            if not batch:
                self.health.progressed(position=self._position)
                return 0, False
            sent = await self._send(batch)
        except BaseException as exc:
            self._position = None  # read it from the store again
            self._resume_due = True
            self._failed(exc)
            raise
        self._narrow = False
        self.health.progressed(position=batch[-1].notification_id, backlog=backlog,
                               oldest=batch[-1].stored_at if full else None)
        return sent or 1, full

    async def _resume(self) -> bool:
        """Before the first publish after a start, a failure or a new leadership: record the position of the
        last batch committed to Kafka if the store does not have it yet (the process died between the
        commit and the recording); True if it did. The producer is started first: a new transactional
        session aborts whatever a previous holder of the id left open."""
        await self.producer.start()
        try:
            tail = await self.producer.committed_tail(self.topics) if self.topics else None
        except Exception as exc:  # noqa: BLE001 - e.g. no Read ACL on its own topics: at-least-once as before
            log.warning("outbox_tail_unreadable", service=self.service, error=type(exc).__name__)
            tail = None
        self._resume_due = False
        if tail is None or tail.position <= await asyncio.to_thread(self.position):
            return False
        if not await asyncio.to_thread(self._is_ours, tail.position, tail.event_id):
            return False
        await asyncio.to_thread(self._record, tail.position)
        log.warning("outbox_position_recovered", service=self.service, position=tail.position)
        return True

    def _is_ours(self, position: int, event_id: str) -> bool:
        """Whether `event_id` is an envelope of this store's event `position` (the topics may hold another
        store's events: a store that was replaced, a test's)."""
        found = self.app.process_recorder.select_notifications(start=position, limit=1)
        if not found or found[0].id != position:
            return False
        return event_id in {str(env.event_id) for env in self.envelopes(self.app.mapper.to_domain_event(found[0]))}

    def _failed(self, exc: BaseException) -> None:
        """Report the first event this relay could not publish (one at a time from now on, so it is named)."""
        if self._attempt is None:  # the store could not be read: no event to name
            return
        n, event = self._attempt
        self._narrow = True
        self.health.failed(stuck_at(n), exc, oldest=getattr(event, "timestamp", None), backlog=store_backlog(self.app, n.id))

    async def _send(self, batch: list[Pending]) -> int:
        """Publish what of `batch` was not acknowledged yet, then record the position: after the batch, or
        after its contiguous acknowledged prefix if a send failed (and re-raise). Returns envelopes sent."""
        todo = [(p.notification_id, env) for p in batch for env in p.envelopes if env.event_id not in self._acked]
        try:
            await self.producer.publish_many([env for _, env in todo],
                                             headers=[[(POSITION_HEADER, str(n).encode())] for n, _ in todo])
        except PublishFailed as failed:
            self._count([item for item, ok in zip(todo, failed.acked, strict=True) if ok])
            done = self._acknowledged_prefix(batch)
            log.warning("outbox_publish_failed", service=self.service, error=type(failed.error).__name__,
                        acknowledged=failed.acked.count(True), failed=failed.acked.count(False),
                        position=done)
            if done is not None:
                await asyncio.to_thread(self._record, done)
            raise
        self._count(todo)
        await asyncio.to_thread(self._record, batch[-1].notification_id)
        return len(todo)

    def _count(self, acknowledged: list[tuple[int, Envelope]]) -> None:
        for notification_id, env in acknowledged:
            self._acked[env.event_id] = notification_id
            EVENTS_PUBLISHED.labels(self.service, self.producer.topic_for(env)).inc()
        self.published += len(acknowledged)

    def _acknowledged_prefix(self, batch: list[Pending]) -> int | None:
        """The last notification id up to which every envelope of `batch` was acknowledged."""
        done = None
        for p in batch:
            if any(env.event_id not in self._acked for env in p.envelopes):
                break
            done = p.notification_id
        return done

    def _record(self, position: int) -> None:
        self.app.process_recorder.insert_tracking(Tracking(self.name, position))
        self._position = position
        self._acked = {k: v for k, v in self._acked.items() if v > position}

    # ---- running ------------------------------------------------------------------------------
    async def _step(self) -> int:
        """For `follow`: a batch that was not full reached the end of the log, so the relay waits for the
        next wake-up instead of reading again at once (a recording meanwhile has set the wake-up)."""
        n, full = await self._publish()
        return n if full else 0

    async def run(self) -> None:
        """Publish while this replica holds the service's relay lock (PostgreSQL); wait for it otherwise."""
        log.info("outbox_relay_started", service=self.service, position=self.position())
        self._running = True
        leadership = Leadership(self.app, self.name)
        try:
            while await leadership.acquire(self._stopping):
                self._position, self._resume_due = None, True  # another replica may have published meanwhile
                try:
                    with self.health:
                        await self._follow_while(leadership.lost)
                finally:
                    await leadership.release()
                if self._stopping.is_set():
                    break
                await self.producer.stop()  # a new leader's producer fences whatever this one left open
        finally:
            self._running = False
            await self.producer.stop()
        log.info("outbox_relay_stopped", published=self.published)

    async def _follow_while(self, lost: asyncio.Event) -> None:
        """`follow` until the relay is stopped or the lock is lost."""
        until = asyncio.Event()

        async def either() -> None:
            waits = [asyncio.create_task(self._stopping.wait()), asyncio.create_task(lost.wait())]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
            until.set()
            self._wake.set()

        watcher = asyncio.create_task(either())
        try:
            # Woken by recordings in this process and, on PostgreSQL, by NOTIFY from other processes.
            await follow(self.app, self._wake, until, self._step, interval_s=self.interval_s,
                         on_error=lambda exc: None)  # reported by `health` (WARNING per retry, one ERROR)
        finally:
            watcher.cancel()
