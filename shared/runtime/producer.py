"""Kafka producer that recovers from a broken idempotent session by itself (no process restart).

aiokafka's idempotent producer numbers the batches of each partition. A batch that expires in the
accumulator while its partition has no leader (a broker outage longer than `request_timeout_ms`, then
`LeaderNotAvailableError`) has already taken its sequence numbers but never reaches the broker: every later
batch to that partition is refused with `OutOfOrderSequenceNumber`, for as long as that producer lives.

`EventProducer` therefore:
- waits for the acknowledgement of every envelope of a `publish_many`, failed or not, so it never gives
  up on a send that is still in flight (whose outcome would be unknown);
- reports which envelopes were acknowledged (`PublishFailed.acked`), so a caller re-sends only the others
  and nothing acknowledged is published twice;
- after any failed send discards its AIOKafkaProducer; the next use starts a new one (a new producer id,
  sequence numbers from 0). A start that fails (broker still down) raises, and the caller retries later.

A send that failed is not proof that the broker has not written it: a batch sent once, retried after the
connection dropped and then expired reports `LeaderNotAvailableError` although its first attempt may have
reached the log. A producer with a `transactional_id` (the outbox relay's) therefore publishes each
`publish_many` in one Kafka transaction, committed only when every envelope was acknowledged; on any
failure the transaction is aborted (or, if the abort cannot be sent, aborted by the broker when the next
producer with the same transactional id starts, which also fences a zombie), so read_committed consumers
see every envelope of a batch once or not at all. aiokafka does not fail a transaction whose produce
request failed, hence the explicit wait for every acknowledgement before the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from shared.events import Envelope, encode, registry

from .logging import get_logger
from .metrics import PRODUCER_REBUILDS
from .outbox_tail import Committed, committed_tail
from .settings import KafkaSettings

log = get_logger("producer")


class PublishFailed(Exception):
    """Some envelopes of a `publish_many` were not acknowledged. `acked[i]` tells, per envelope, whether
    the broker acknowledged it; `error` is the first failure."""

    def __init__(self, acked: list[bool], error: BaseException):
        super().__init__(f"{acked.count(False)} of {len(acked)} not acknowledged: {type(error).__name__}")
        self.acked, self.error = acked, error


class EventProducer:
    """Idempotent (enable_idempotence, acks=all), keyed by the envelope's partition key; rebuilt after a
    failed send; transactional with a `transactional_id` (see the module's docstring)."""

    def __init__(self, settings: KafkaSettings, *, client_id: str, transactional_id: str | None = None):
        self.settings = settings
        self.client_id = f"{settings.client_id_prefix}-{client_id}"
        self.transactional_id = transactional_id
        self._producer: AIOKafkaProducer | None = None
        self._lock: asyncio.Lock | None = None
        self.rebuilds = 0

    def _new(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **self.settings.client_kwargs(),
            client_id=self.client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=self.settings.linger_ms,
            max_batch_size=256 * 1024,
            transactional_id=self.transactional_id,
        )

    async def start(self) -> None:
        await self._ready()

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def _ready(self) -> AIOKafkaProducer:
        """The current producer, started; a new one if the last was discarded (raises if it cannot start)."""
        producer = self._producer
        if producer is not None:
            return producer
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._producer is None:
                producer = self._new()
                try:  # a transactional start waits for the coordinator: bounded
                    await asyncio.wait_for(producer.start(), timeout=2 * self.settings.request_timeout_ms / 1000)
                except BaseException:
                    await _close(producer, timeout_s=5)
                    raise
                self._producer = producer
            return self._producer

    async def _discard(self, producer: AIOKafkaProducer, error: BaseException) -> None:
        """Drop a producer whose session may be broken; the next use starts a new one."""
        if self._producer is not producer:
            return  # another caller discarded it already
        self._producer = None
        self.rebuilds += 1
        PRODUCER_REBUILDS.labels(self.client_id).inc()
        log.warning("producer_discarded", client_id=self.client_id, error=type(error).__name__)
        await _close(producer, timeout_s=self.settings.request_timeout_ms / 1000)

    def topic_for(self, envelope: Envelope) -> str:
        return self.settings.topic(registry.latest(envelope.event_type).topic)

    async def publish(self, envelope: Envelope, *, topic: str | None = None) -> None:
        await self.publish_many([envelope], topic=topic)

    async def publish_many(self, envelopes: Sequence[Envelope], *, topic: str | None = None,
                           headers: Sequence[list[tuple[str, bytes]]] | None = None) -> None:
        """Send all (`headers[i]`: extra headers of envelope i), then wait for every acknowledgement (and
        commit, if transactional). Raises `PublishFailed` with the per-envelope outcome if any was not
        acknowledged, after discarding the producer (transactional: after aborting, so none counts as
        acknowledged)."""
        if not envelopes:
            return
        producer = await self._ready()
        transactional = self.transactional_id is not None
        futures: list[asyncio.Future[object]] = []
        error: BaseException | None = None
        try:
            if transactional:
                await producer.begin_transaction()
            for i, env in enumerate(envelopes):
                futures.append(await producer.send(
                    topic or self.topic_for(env), value=encode(env), key=env.partition_key.encode(),
                    headers=[("event_type", env.event_type.encode()), *(headers[i] if headers else ())]))
        except Exception as exc:  # noqa: BLE001 - the ones already sent are awaited below
            error = exc
        results = await asyncio.gather(*futures, return_exceptions=True)
        acked = [not isinstance(r, BaseException) for r in results] + [False] * (len(envelopes) - len(futures))
        if error is None:
            error = next((r for r in results if isinstance(r, BaseException)), None)
        if transactional:
            error = await self._end_transaction(producer, error)
            if error is not None:
                acked = [False] * len(envelopes)
        if error is not None:
            await self._discard(producer, error)
            raise PublishFailed(acked, error) from error

    async def _end_transaction(self, producer: AIOKafkaProducer, error: BaseException | None) -> BaseException | None:
        """Commit if nothing failed, else abort (bounded; an abort that cannot be sent is done by the broker
        when the next producer with this transactional id starts). Returns the error, if any."""
        timeout_s = self.settings.request_timeout_ms / 1000
        if error is None:
            try:
                await asyncio.wait_for(producer.commit_transaction(), timeout=timeout_s)
                return None
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                return exc
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producer.abort_transaction(), timeout=min(timeout_s, 5.0))
        return error

    async def committed_tail(self, topics: Sequence[str]) -> Committed | None:
        """The last record with an outbox position that transactions committed to `topics` (`outbox_tail`)."""
        return await committed_tail(self.settings, topics)

    async def send_raw(self, topic: str, value: bytes, key: bytes | None = None,
                       headers: list[tuple[str, bytes]] | None = None) -> None:
        producer = await self._ready()
        try:
            fut = await producer.send(topic, value=value, key=key, headers=headers or [])
            await fut
        except Exception as exc:
            await self._discard(producer, exc)
            raise

    async def flush(self) -> None:
        if self._producer is not None:
            await self._producer.flush()


async def _close(producer: AIOKafkaProducer, *, timeout_s: float) -> None:
    """Stop a producer that may be broken, without waiting longer than `timeout_s` or raising."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(producer.stop(), timeout=timeout_s)
