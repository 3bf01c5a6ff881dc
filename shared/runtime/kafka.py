"""Kafka producer and batched, at-least-once consumer with idempotent effects and a dead-letter topic.

Consumer contract: a `BatchHandler` applies a batch of one partition's decoded events *and* records the
partition's next offset in one transaction (its own database). On (re)assignment the consumer seeks to
the offsets the handler has stored, so re-delivered records are never applied twice; handlers also
de-duplicate on event id for events re-published upstream at other offsets.

Poison records (invalid JSON, unknown type, invalid payload, or a handler that keeps failing with a
non-transient error) go to the service's dead-letter topic with the error and their original
coordinates; the consumer keeps going. Transient infrastructure errors (database down) are retried with
back-off, never dead-lettered, so an outage stalls the consumer (visible as lag) instead of losing data.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.events import ContractError, Envelope, Event, encode, registry

from .logging import bind_contextvars, bound_contextvars, get_logger
from .metrics import (
    CONSUMER_LAG,
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
    EVENTS_FAILED,
    HANDLER_LATENCY,
)
from .settings import KafkaSettings

log = get_logger("kafka")


# ------------------------------------------------------------------------------------------ producer
class EventProducer:
    """Idempotent (enable_idempotence, acks=all), keyed by the envelope's partition key."""

    def __init__(self, settings: KafkaSettings, *, client_id: str):
        self.settings = settings
        self._producer = AIOKafkaProducer(
            **settings.client_kwargs(),
            client_id=f"{settings.client_id_prefix}-{client_id}",
            enable_idempotence=True,
            acks="all",
            linger_ms=settings.linger_ms,
            max_batch_size=256 * 1024,
        )
        self._started = False

    async def start(self) -> None:
        if not self._started:
            await self._producer.start()
            self._started = True

    async def stop(self) -> None:
        if self._started:
            await self._producer.stop()
            self._started = False

    def topic_for(self, envelope: Envelope) -> str:
        return self.settings.topic(registry.latest(envelope.event_type).topic)

    async def publish(self, envelope: Envelope, *, topic: str | None = None) -> None:
        await self.publish_many([envelope], topic=topic)

    async def publish_many(self, envelopes: Sequence[Envelope], *, topic: str | None = None) -> None:
        """Send all, then wait for every acknowledgement (raises if any failed)."""
        futures = [
            await self._producer.send(
                topic or self.topic_for(env), value=encode(env), key=env.partition_key.encode(),
                headers=[("event_type", env.event_type.encode())],
            )
            for env in envelopes
        ]
        if futures:
            await asyncio.gather(*futures)

    async def send_raw(self, topic: str, value: bytes, key: bytes | None = None,
                       headers: list[tuple[str, bytes]] | None = None) -> None:
        fut = await self._producer.send(topic, value=value, key=key, headers=headers or [])
        await fut

    async def flush(self) -> None:
        await self._producer.flush()


async def ensure_topics(settings: KafkaSettings, topics: Iterable[str], *, partitions: int = 3,
                        replication: int = 1) -> None:
    """Create topics that do not exist (development and tests; production uses KafkaTopic resources)."""
    admin = AIOKafkaAdminClient(**settings.client_kwargs())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [NewTopic(t, partitions, replication) for t in dict.fromkeys(topics) if t not in existing]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


async def broker_reachable(settings: KafkaSettings, timeout_s: float = 2.0) -> None:
    """Readiness: the first bootstrap server accepts a TCP connection (raises otherwise)."""
    host, _, port = settings.bootstrap_servers.split(",")[0].strip().rpartition(":")
    _, writer = await asyncio.wait_for(asyncio.open_connection(host or "127.0.0.1", int(port)), timeout=timeout_s)
    writer.close()
    await writer.wait_closed()


# ------------------------------------------------------------------------------------------ consumer
@dataclass(frozen=True)
class Inbound:
    """One record, with where it came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int


class BatchHandler(Protocol):
    """Applies events to one service's store. Methods are synchronous; the consumer calls them in a thread."""

    def positions(self) -> dict[tuple[str, int], int]:
        """Next offset per (topic, partition) as stored with the effects."""
        ...

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        """Apply `events` (in order; may be empty) and store `next_offset`, atomically."""
        ...


Part = tuple[str, int, list[Event], int]  # (topic, partition, events in partition order, next offset)


class MultiPartitionHandler(BatchHandler, Protocol):
    """A handler that can also apply one poll's batches of several partitions in one transaction
    (`apply_many`), storing every partition's next offset with the effects. If it raises, the consumer
    falls back to `apply` partition by partition (where a poison record is isolated)."""

    def apply_many(self, parts: list[Part]) -> None: ...


class PermanentError(Exception):
    """A handler error that will not go away on retry (the event is poison for this handler)."""


def is_transient(exc: BaseException) -> bool:
    """Infrastructure errors that a retry can fix: never dead-letter these."""
    try:
        from sqlalchemy.exc import DBAPIError, OperationalError
    except ImportError:  # pragma: no cover
        OperationalError = DBAPIError = ()  # type: ignore[misc,assignment]
    try:
        import psycopg
        pg_transient: tuple[type[BaseException], ...] = (psycopg.OperationalError,)
    except ImportError:  # pragma: no cover
        pg_transient = ()
    if isinstance(exc, PermanentError | ContractError):
        return False
    if isinstance(exc, (OperationalError, ConnectionError, TimeoutError, sqlite3.OperationalError, *pg_transient)):
        return True
    if isinstance(exc, DBAPIError) and getattr(exc, "connection_invalidated", False):
        return True
    # eventsourcing wraps driver errors in its own OperationalError / InterfaceError
    return type(exc).__name__ in {"OperationalError", "InterfaceError", "PoolTimeout", "PgOperationalError"}


class BatchConsumer:
    """At-least-once batched consumer for one consumer group, with DLQ and graceful shutdown."""

    def __init__(
        self,
        *,
        settings: KafkaSettings,
        service: str,
        group_id: str,
        topics: Sequence[str],
        handler: BatchHandler,
        producer: EventProducer,
        dead_letter_topic: str,
        batch_size: int = 500,
        retries: int = 3,
        backoff_s: float = 0.2,
        on_applied: Callable[[], None] | None = None,
        decode: Callable[[bytes], Event] = registry.decode,
    ):
        self.settings, self.service, self.group_id = settings, service, group_id
        self.topics = list(topics)
        self.handler, self.producer = handler, producer
        self.dead_letter_topic = dead_letter_topic
        self.batch_size, self.retries, self.backoff_s = batch_size, retries, backoff_s
        self.on_applied, self._decode = on_applied, decode
        self._consumer: AIOKafkaConsumer | None = None
        self._stopping = asyncio.Event()
        self._started = asyncio.Event()
        self._positions: dict[TopicPartition, int] = {}
        self._floor: dict[TopicPartition, int] = {}  # next offset stored with the effects, per partition
        self.applied_count = 0
        self.dead_lettered = 0

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            **self.settings.client_kwargs(),
            group_id=self.group_id,
            client_id=f"{self.settings.client_id_prefix}-{self.group_id}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=self.settings.session_timeout_ms,
            heartbeat_interval_ms=self.settings.heartbeat_interval_ms,
            max_poll_records=self.batch_size,
            fetch_max_wait_ms=self.settings.fetch_max_wait_ms,
        )
        consumer.subscribe(self.topics, listener=_SeekToStored(self))
        # Set before start(): aiokafka's start() waits for the first assignment, and the listener that seeks
        # to the positions stored with the effects needs the consumer then.
        self._consumer = consumer
        try:
            await consumer.start()
        except BaseException:
            self._consumer = None
            raise

    async def stop(self) -> None:
        """Graceful: the batch in hand is finished and committed before the consumer leaves the group."""
        self._stopping.set()

    async def run(self) -> None:
        if self._consumer is None:
            await self.start()
        assert self._consumer is not None
        bind_contextvars(service=self.service, consumer=self.group_id)
        log.info("consumer_started", topics=self.topics)
        try:
            while not self._stopping.is_set():
                batch = await self._consumer.getmany(timeout_ms=200, max_records=self.batch_size)
                if batch:
                    self._started.set()
                    await self._process_poll(batch)
                self._update_lag()
        finally:
            await self._consumer.stop()
            self._consumer = None
            log.info("consumer_stopped", applied=self.applied_count, dead_lettered=self.dead_lettered)

    # -- processing ----------------------------------------------------------------------------
    async def _process_poll(self, batch: dict[TopicPartition, list[Any]]) -> None:
        """One poll: decode, dead-letter undecodable records, apply, commit. With a `MultiPartitionHandler`
        every partition of the poll goes into one transaction (one round of database work per poll, not
        per partition); if that fails for a reason other than a transient one, each partition is applied
        on its own, which isolates a poison record."""
        parts: list[tuple[TopicPartition, list[tuple[Inbound, Event]], int]] = []
        for tp, records in batch.items():
            # Records below the position stored with the effects were applied already: a fetch that raced
            # the seek on assignment may still deliver them.
            floor = self._floor.get(tp)
            if floor is not None:
                records = [r for r in records if r.offset >= floor]
                if not records:
                    continue
            good: list[tuple[Inbound, Event]] = []
            for r in records:
                inbound = Inbound(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp)
                try:
                    if r.value is None:
                        raise ContractError("$", "empty record (tombstone)")
                    good.append((inbound, self._decode(r.value)))
                except ContractError as exc:
                    await self._dead_letter(inbound, exc, stage="decode")
            parts.append((tp, good, records[-1].offset + 1))
        if not parts:
            return
        loop = asyncio.get_running_loop()
        start = loop.time()
        apply_many = getattr(self.handler, "apply_many", None)
        together = False
        if apply_many is not None and len(parts) > 1:
            together = await self._apply_together(apply_many, parts)
        if not together:
            done = []
            for tp, good, next_offset in parts:
                await self._apply_with_retries(tp, good, next_offset)
                done.append((tp, good, next_offset))
                if self._stopping.is_set():
                    break
            parts = done
        HANDLER_LATENCY.labels(self.service, self.group_id).observe(loop.time() - start)
        await self._commit({tp: next_offset for tp, _, next_offset in parts})
        if self.on_applied:
            self.on_applied()

    async def _apply_together(self, apply_many: Callable[[list[Any]], None],
                              parts: list[tuple[TopicPartition, list[tuple[Inbound, Event]], int]]) -> bool:
        """All partitions of a poll in one transaction; transient errors are retried (without limit, as in
        `_call_apply`), any other error returns False so the caller applies partition by partition."""
        arg = [(tp.topic, tp.partition, [e for _, e in good], next_offset) for tp, good, next_offset in parts]
        delay = self.backoff_s
        while True:
            try:
                await asyncio.to_thread(apply_many, arg)
            except Exception as exc:  # noqa: BLE001 - decided below
                if not is_transient(exc) or self._stopping.is_set():
                    log.info("poll_apply_split", partitions=len(parts), error=type(exc).__name__)
                    return False
                log.warning("handler_transient_error", partitions=len(parts), error=type(exc).__name__)
                await asyncio.sleep(min(delay, 5.0))
                delay *= 2
                continue
            for tp, good, _ in parts:
                self._count(tp, len(good))
            return True

    async def _apply_with_retries(self, tp: TopicPartition, good: list[tuple[Inbound, Event]],
                                  next_offset: int) -> None:
        events = [e for _, e in good]
        try:
            await self._call_apply(tp, events, next_offset, attempts=self.retries)
            self._count(tp, len(events))
            return
        except Exception as exc:  # noqa: BLE001 - isolate the poison record below
            if not good:
                raise
            log.warning("batch_failed_isolating", topic=tp.topic, partition=tp.partition,
                        error=type(exc).__name__, size=len(good))
        # One by one: the failing record is dead-lettered, the rest applied in order.
        for inbound, event in good:
            with bound_contextvars(event_id=str(event.event_id), correlation_id=event.envelope.correlation_id):
                try:
                    await self._call_apply(tp, [event], inbound.offset + 1, attempts=self.retries)
                    self._count(tp, 1)
                except Exception as exc:  # noqa: BLE001
                    await self._dead_letter(inbound, exc, stage="handler", event=event)
                    await self._call_apply(tp, [], inbound.offset + 1, attempts=self.retries)
        # Past the records that failed to decode at the end of the batch (if any). Not the same position
        # again: an event store's single-row tracking refuses to record a position twice.
        if good[-1][0].offset + 1 != next_offset:
            await self._call_apply(tp, [], next_offset, attempts=self.retries)

    async def _call_apply(self, tp: TopicPartition, events: list[Event], next_offset: int, *, attempts: int) -> None:
        attempt, delay = 0, self.backoff_s
        while True:
            try:
                await asyncio.to_thread(self.handler.apply, tp.topic, tp.partition, events, next_offset)
                return
            except Exception as exc:
                EVENTS_FAILED.labels(self.service, self.group_id, tp.topic).inc()
                transient = is_transient(exc)
                attempt += 1
                if not transient and attempt >= attempts:
                    raise
                if transient:
                    log.warning("handler_transient_error", topic=tp.topic, partition=tp.partition,
                                error=type(exc).__name__, attempt=attempt)
                if self._stopping.is_set() and transient:
                    raise
                await asyncio.sleep(min(delay, 5.0))
                delay *= 2

    def _count(self, tp: TopicPartition, n: int) -> None:
        self.applied_count += n
        if n:
            EVENTS_CONSUMED.labels(self.service, self.group_id, tp.topic).inc(n)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        # The database holds the authoritative position; the Kafka commit (one per poll) feeds lag monitoring
        # (and KEDA).
        assert self._consumer is not None
        self._positions.update(offsets)
        self._floor.update(offsets)
        try:
            await self._consumer.commit(offsets)
        except Exception as exc:  # noqa: BLE001 - a rebalance may revoke the partition; DB position wins
            log.warning("offset_commit_failed", partitions=len(offsets), error=type(exc).__name__)

    def _update_lag(self) -> None:
        assert self._consumer is not None
        for tp in self._consumer.assignment():
            hw, pos = self._consumer.highwater(tp), self._positions.get(tp)
            if hw is not None and pos is not None:
                CONSUMER_LAG.labels(self.service, self.group_id, tp.topic, str(tp.partition)).set(max(hw - pos, 0))

    async def _dead_letter(self, inbound: Inbound, exc: BaseException, *, stage: str,
                           event: Event | None = None) -> None:
        reason = "contract" if isinstance(exc, ContractError) else "handler"
        record = dead_letter_record(inbound, exc, consumer=self.group_id, service=self.service, stage=stage)
        await self.producer.send_raw(
            self.dead_letter_topic, json.dumps(record).encode(), key=inbound.key,
            headers=[("dlq_reason", reason.encode()), ("original_topic", inbound.topic.encode())],
        )
        self.dead_lettered += 1
        EVENTS_DEAD_LETTERED.labels(self.service, self.group_id, inbound.topic, reason).inc()
        log.error("event_dead_lettered", topic=inbound.topic, partition=inbound.partition, offset=inbound.offset,
                  event_id=str(event.event_id) if event else None, reason=reason, error_type=type(exc).__name__,
                  error=str(exc)[:300] if isinstance(exc, ContractError) else type(exc).__name__)


def dead_letter_record(inbound: Inbound, exc: BaseException, *, consumer: str, service: str,
                       stage: str) -> dict[str, Any]:
    value = inbound.value or b""
    try:
        text: str | None = value.decode()
    except UnicodeDecodeError:
        text = None
    return {
        "original": {
            "topic": inbound.topic,
            "partition": inbound.partition,
            "offset": inbound.offset,
            "timestamp": inbound.timestamp,
            "key": inbound.key.decode(errors="replace") if inbound.key else None,
        },
        "error": {
            "stage": stage,
            "type": type(exc).__name__,
            "field": getattr(exc, "field", None),
            "message": str(exc)[:2000],
        },
        "consumer": consumer,
        "service": service,
        "failed_at": datetime.now(UTC).isoformat(),
        "value_b64": base64.b64encode(value).decode(),
        "value_text": text,
    }


class _SeekToStored(ConsumerRebalanceListener):
    """On assignment, seek to the positions stored with the effects.

    aiokafka may already fetch for newly assigned partitions while this callback runs, so it does not await:
    positions are read synchronously (a short database read, only on rebalance), the per-partition floors
    are set and the seeks issued in one step. Records below a floor that a racing fetch still delivers are
    dropped by the consumer."""

    def __init__(self, owner: BatchConsumer):
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        return None

    async def on_partitions_assigned(self, assigned: Any) -> None:
        owner = self.owner
        consumer = owner._consumer  # noqa: SLF001
        if consumer is None:
            return
        stored = owner.handler.positions()
        for tp in assigned:
            pos = stored.get((tp.topic, tp.partition))
            if pos is None:
                pos = 0  # nothing applied yet: from the start (out of range -> earliest retained offset)
            owner._floor[tp] = pos  # noqa: SLF001
            consumer.seek(tp, pos)
