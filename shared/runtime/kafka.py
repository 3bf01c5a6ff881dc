"""Kafka producer, and `BatchConsumer`: the aiokafka driver of the processing pipeline (`pipeline.py`).

The consumer keeps group membership, fetching, seeking and offset commits; everything else (skipping what
was applied, decoding, applying, retries, isolating and dead-lettering poison records) is the pipeline's.
On (re)assignment it seeks to the positions the handler stored with its effects, so re-delivered records
are never applied twice; the Kafka commit (one per poll) only feeds lag monitoring.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.events import Event, registry
from shared.events import topics as topic_names

from .deadletter import Inbound
from .logging import bind_contextvars, get_logger
from .metrics import CONSUMER_LAG
from .pipeline import BatchHandler, Key, Pipeline
from .producer import EventProducer
from .settings import KafkaSettings

log = get_logger("kafka")


# ------------------------------------------------------------------------------------------ producer
# `EventProducer` (rebuilt after a failed send) lives in producer.py; imported here for its users.


async def ensure_topics(settings: KafkaSettings, topics: Iterable[str], *, partitions: int = 3,
                        replication: int = 1) -> None:
    """Create topics that do not exist (development and tests; production uses KafkaTopic resources), with the
    retention of `shared.events.topics.retention_ms` (the manifests' policy) for ours."""
    admin = AIOKafkaAdminClient(**settings.client_kwargs())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [NewTopic(t, partitions, replication, topic_configs=topic_config(settings, t))
                  for t in dict.fromkeys(topics) if t not in existing]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


def topic_config(settings: KafkaSettings, name: str) -> dict[str, str]:
    """Creation config of one (possibly prefixed) topic name: its retention when it is one of ours."""
    base = name.removeprefix(settings.topic_prefix)
    retention = topic_names.retention_ms(base)
    return {} if retention is None else {"retention.ms": str(retention)}


async def topic_partitions(settings: KafkaSettings, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of these topics, from the cluster's metadata (a topic that does not exist has none)."""
    admin = AIOKafkaAdminClient(**settings.client_kwargs())
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return [TopicPartition(d["topic"], p["partition"]) for d in described if d.get("error_code") == 0
            for p in d["partitions"]]


async def broker_reachable(settings: KafkaSettings, timeout_s: float = 2.0) -> None:
    """Readiness: the first bootstrap server accepts a TCP connection (raises otherwise)."""
    host, _, port = settings.bootstrap_servers.split(",")[0].strip().rpartition(":")
    _, writer = await asyncio.wait_for(asyncio.open_connection(host or "127.0.0.1", int(port)), timeout=timeout_s)
    writer.close()
    await writer.wait_closed()


# ------------------------------------------------------------------------------------------ consumer
class BatchConsumer:
    """At-least-once batched consumer for one consumer group (aiokafka), with graceful shutdown: a thin
    driver over `Pipeline`."""

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
        self.handler = handler
        self.batch_size = batch_size
        self.pipeline = Pipeline([handler], producer=producer, dead_letter_topic=dead_letter_topic,
                                 service=service, group=group_id, attempts=retries, backoff_s=backoff_s,
                                 on_applied=on_applied, decode=decode)
        self._consumer: AIOKafkaConsumer | None = None
        self._committed: dict[TopicPartition, int] = {}

    @property
    def applied_count(self) -> int:
        return self.pipeline.applied

    @property
    def dead_lettered(self) -> int:
        return self.pipeline.dead_lettered

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
        consumer.subscribe(self.topics, listener=_SeekToStored(self, consumer))
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
        self.pipeline.stopping.set()

    async def run(self) -> None:
        if self._consumer is None:
            await self.start()
        assert self._consumer is not None
        bind_contextvars(service=self.service, consumer=self.group_id)
        log.info("consumer_started", topics=self.topics)
        try:
            while not self.pipeline.stopping.is_set():
                batch = await self._consumer.getmany(timeout_ms=200, max_records=self.batch_size)
                if batch:
                    await self.pipeline.process(
                        [Inbound(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp)
                         for records in batch.values() for r in records], commit=self._commit)
                await self._commit_past_markers(batch)
                self._update_lag()
        finally:
            await self._consumer.stop()
            self._consumer = None
            self.pipeline.close()
            log.info("consumer_stopped", applied=self.applied_count, dead_lettered=self.dead_lettered)

    def committed_positions(self) -> dict[Key, int]:
        """Next offset per (topic, partition) committed by this consumer after applying: past the control
        records that end transactions, which the positions stored with the effects never pass. A replay is at
        the end of a partition when either one reaches the end offset."""
        return {(tp.topic, tp.partition): o for tp, o in self._committed.items()}

    async def _commit(self, offsets: dict[Key, int]) -> None:
        # The database holds the authoritative position; the Kafka commit (one per poll) feeds lag monitoring
        # (and KEDA).
        assert self._consumer is not None
        tps = {TopicPartition(t, p): o for (t, p), o in offsets.items()}
        self._committed.update(tps)
        try:
            await self._consumer.commit(tps)
        except Exception as exc:  # noqa: BLE001 - a rebalance may revoke the partition; DB position wins
            log.warning("offset_commit_failed", partitions=len(tps), error=type(exc).__name__)

    async def _commit_past_markers(self, batch: dict[TopicPartition, Any]) -> None:
        """Transactional producers (the outbox relays) end each transaction with a control record that the
        consumer skips without returning it: past the last record applied, a partition's position is then
        beyond the offset committed for it. Commit that position (only for partitions without records in
        this poll, whose position moved by skipping alone) so that lag reads 0 when everything is applied."""
        assert self._consumer is not None
        ahead = {}
        for tp, committed in self._committed.items():
            if tp in batch or tp not in self._consumer.assignment():
                continue
            position = await self._consumer.position(tp)
            if position > committed:
                ahead[tp] = position
        if ahead:
            await self._commit({(tp.topic, tp.partition): o for tp, o in ahead.items()})

    def _update_lag(self) -> None:
        assert self._consumer is not None
        for tp in self._consumer.assignment():
            hw, pos = self._consumer.highwater(tp), self._committed.get(tp)
            if hw is not None and pos is not None:
                CONSUMER_LAG.labels(self.service, self.group_id, tp.topic, str(tp.partition)).set(max(hw - pos, 0))


class _SeekToStored(ConsumerRebalanceListener):
    """On assignment, seek to the positions stored with the effects.

    aiokafka may already fetch for newly assigned partitions while this callback runs, so it does not await:
    positions are read synchronously (a short database read, only on rebalance), the pipeline's positions set
    and the seeks issued in one step. Records below them that a racing fetch still delivers are skipped by
    the pipeline."""

    def __init__(self, owner: BatchConsumer, consumer: AIOKafkaConsumer):
        self.owner, self.consumer = owner, consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.owner.pipeline.forget((tp.topic, tp.partition) for tp in revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        # nothing applied yet: from the start (0; out of range -> the earliest retained offset)
        floors = self.owner.pipeline.assign((tp.topic, tp.partition) for tp in assigned)
        for tp in assigned:
            self.consumer.seek(tp, floors[(tp.topic, tp.partition)])
