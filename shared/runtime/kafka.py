"""Kafka producer, and `BatchConsumer`: the aiokafka driver of the processing pipeline (`pipeline.py`).

The consumer keeps group membership, fetching, seeking and offset commits; everything else (skipping what
was applied, decoding, applying, retries, isolating and dead-lettering poison records) is the pipeline's.
On (re)assignment it seeks to the positions the handler stored with its effects, so re-delivered records
are never applied twice; the Kafka commit (one per poll) only feeds lag monitoring.

A broker outage of any length never ends the consumer. aiokafka rides out most of one by itself (it retries
its requests and rejoins the group), but not all: a start while the broker cannot be reached raises, and its
background tasks can end under it. Once the group coordinator's task has ended cancelled, every later
`getmany` raises `CancelledError` in the caller's task (`check_errors` re-raises the task's outcome): the
consumer's task then ends as if it had been cancelled on purpose, after logging `consumer_stopped` (a KYC
worker in the fault suite's broker outage). Once the fetcher's task has ended (it swallows a cancellation),
nothing is fetched again and nothing says so. `BatchConsumer.run` therefore supervises its client: any
failure (an error, a cancellation nobody asked for, an ended background task) is logged at ERROR
(`consumer_failed`), the client is closed and, after a back-off, a new one joins the group and resumes from
the stored positions; a start that fails is retried the same way for as long as the broker cannot be
reached. Only a client that keeps failing (`max_restarts` in a row, without a poll that applied something or
a minute of healthy polls in between) while the broker answers ends `run`, with `ConsumerGaveUp`: the
process exits non-zero and its supervisor restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.events import Event, registry
from shared.events import topics as topic_names

from .deadletter import Inbound
from .logging import bind_contextvars, get_logger
from .metrics import CONSUMER_LAG, CONSUMER_RESTARTS
from .pipeline import BatchHandler, Key, Pipeline
from .producer import EventProducer
from .settings import KafkaSettings

log = get_logger("kafka")

RESTART_BACKOFF_S = 0.5  # the first wait before a new client; doubles up to MAX_RESTART_BACKOFF_S
MAX_RESTART_BACKOFF_S = 10.0
MAX_RESTARTS = 8  # failures in a row, the broker answering, before `run` gives up (the process is restarted)
HEALTHY_AFTER_S = 60.0  # a client that polled this long without failing wipes the count of failures
CLOSE_TIMEOUT_S = 10.0  # closing a failed client (it may try to leave the group on a broker that is away)


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
        wanted = [NewTopic(t, topic_names.partitions(t.removeprefix(settings.topic_prefix), partitions), replication,
                           topic_configs=topic_config(settings, t))
                  for t in dict.fromkeys(topics) if t not in existing]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


async def delete_topics_with_prefix(settings: KafkaSettings, prefixes: Iterable[str], *, chunk: int = 200) -> int:
    """Delete every topic whose name starts with one of `prefixes` (development and tests: the topics of a test
    session or of an e2e stack, so a long-lived broker does not collect them); returns how many."""
    wanted = tuple(p for p in prefixes if p)  # an empty prefix would be every topic
    if not wanted:
        return 0
    admin = AIOKafkaAdminClient(**settings.client_kwargs())
    await admin.start()
    try:
        names = sorted(t for t in await admin.list_topics() if t.startswith(wanted))
        for i in range(0, len(names), chunk):
            await admin.delete_topics(names[i:i + chunk], timeout_ms=30_000)
        return len(names)
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
        max_restarts: int = MAX_RESTARTS,
        restart_backoff_s: float = RESTART_BACKOFF_S,
    ):
        self.settings, self.service, self.group_id = settings, service, group_id
        self.max_restarts, self.restart_backoff_s = max_restarts, restart_backoff_s
        self.restarts = 0  # clients replaced after a failure
        self.topics = list(topics)
        self.handler = handler
        self.batch_size = batch_size
        self.linger_s = settings.consumer_linger_ms / 1000
        self.pipeline = Pipeline([handler], producer=producer, dead_letter_topic=dead_letter_topic,
                                 service=service, group=group_id, attempts=retries, backoff_s=backoff_s,
                                 on_applied=on_applied, decode=decode)
        self._consumer: AIOKafkaConsumer | None = None
        self._committed: dict[TopicPartition, int] = {}
        self._progress = False  # the current client's polls applied something

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
            await _close(consumer)  # a half-started client keeps its connections and tasks otherwise
            raise

    async def stop(self) -> None:
        """Graceful: the batch in hand is finished and committed before the consumer leaves the group."""
        self.pipeline.stopping.set()

    async def run(self) -> None:
        """Consume until `stop`, replacing the client whenever it fails (see the module's docstring)."""
        bind_contextvars(service=self.service, consumer=self.group_id)
        stopping = self.pipeline.stopping
        loop = asyncio.get_running_loop()
        failures, delay = 0, self.restart_backoff_s
        try:
            while not stopping.is_set():
                self._progress = False
                began = loop.time()
                error: BaseException
                try:
                    if self._consumer is None and not await self._start_unless_stopped():
                        break
                    log.info("consumer_started", topics=self.topics, restarts=self.restarts)
                    await self._poll_until_stopped()
                    break
                except asyncio.CancelledError as exc:
                    if _cancel_requested():
                        raise  # asked from outside: the process is going down
                    error = ClientBroken("cancelled inside the Kafka client (one of its tasks ended cancelled)")
                    error.__cause__ = exc
                except Exception as exc:  # noqa: BLE001 - any failure: a new client below, or give up
                    error = exc
                await self._drop_client()
                if stopping.is_set():
                    log.warning("consumer_failed_while_stopping", error=type(error).__name__)
                    break
                if self._progress or loop.time() - began >= HEALTHY_AFTER_S:
                    failures, delay = 0, self.restart_backoff_s  # that client worked: a new series of failures
                failures += 1
                if failures >= self.max_restarts and await _answers(self.settings):
                    log.error("consumer_gave_up", error=type(error).__name__, detail=str(error)[:300],
                              failures=failures)
                    raise ConsumerGaveUp(f"{self.group_id}: {failures} failures in a row, the broker answering; "
                                         f"last {type(error).__name__}: {error}") from error
                log.error("consumer_failed", error=type(error).__name__, detail=str(error)[:300],
                          failures=failures, retry_in_s=delay, exc_info=error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=delay)  # back-off, cut short by a stop
                delay = min(delay * 2, MAX_RESTART_BACKOFF_S)
                self.restarts += 1
                CONSUMER_RESTARTS.labels(self.service, self.group_id).inc()
        finally:
            await self._drop_client()
            self.pipeline.close()
            log.info("consumer_stopped", applied=self.applied_count, dead_lettered=self.dead_lettered,
                     restarts=self.restarts)

    async def _start_unless_stopped(self) -> bool:
        """`start` (it waits for the first assignment, for as long as the broker is away); False if a stop
        came first."""
        starting = asyncio.create_task(self.start())
        stopped = asyncio.create_task(self.pipeline.stopping.wait())
        try:
            await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not starting.done():
                starting.cancel()
                with contextlib.suppress(BaseException):
                    await starting  # start() closes the half-started client
        if not starting.done() or starting.cancelled():
            return False
        starting.result()  # raises what the start raised
        return True

    async def _poll_until_stopped(self) -> None:
        while not self.pipeline.stopping.is_set():
            consumer = self._consumer
            assert consumer is not None
            if (ended := _ended_task(consumer)) is not None:
                raise ClientBroken(f"aiokafka's {ended} task has ended; nothing would be fetched again")
            batch = await self._poll(consumer)
            if batch:
                applied = self.applied_count
                await self.pipeline.process(
                    [Inbound(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp)
                     for records in batch.values() for r in records], commit=self._commit)
                self._progress = self._progress or self.applied_count > applied
            await self._commit_past_markers(batch)
            self._update_lag()

    async def _poll(self, consumer: AIOKafkaConsumer) -> dict[TopicPartition, list[Any]]:
        """One batch: what the client has (waiting up to 200 ms for a first record); short of a full batch,
        what else arrives within `consumer_linger_ms` joins it. Every batch costs a transaction, its
        statements and an outbox publish whatever its size: at a steady trickle, a few records at a time
        cost several times the CPU per record of batches gathered over a few tens of milliseconds."""
        batch = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
        n = sum(len(records) for records in batch.values())
        if not n or n >= self.batch_size or self.linger_s <= 0:
            return batch
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.linger_s
        while n < self.batch_size and not self.pipeline.stopping.is_set():
            left = deadline - loop.time()
            if left <= 0:
                break
            more = await consumer.getmany(timeout_ms=max(1, int(left * 1000)), max_records=self.batch_size - n)
            for tp, records in more.items():
                batch.setdefault(tp, []).extend(records)  # a partition's records stay in offset order
                n += len(records)
        return batch

    async def _drop_client(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            self.pipeline.forget()  # the next assignment reads the stored positions again
            await _close(consumer)

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


class ClientBroken(Exception):
    """The aiokafka client failed under the consumer (a background task ended, a cancellation nobody asked
    for): the consumer starts a new one."""


class ConsumerGaveUp(RuntimeError):
    """The consumer's clients kept failing while the broker answered: the process must be restarted."""


def _cancel_requested() -> bool:
    """The current task was asked to stop (`Task.cancel`), as opposed to a cancelled future it awaited."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _ended_task(consumer: AIOKafkaConsumer) -> str | None:
    """Which of aiokafka's background tasks (the fetcher's, the group coordinator's) has ended, if any: a
    running consumer needs both. (Private attributes of aiokafka 0.14, pinned by the unit tests.)"""
    for owner, attr, name in (("_fetcher", "_fetch_task", "fetcher"),
                              ("_coordinator", "_coordination_task", "group coordinator")):
        task = getattr(getattr(consumer, owner, None), attr, None)
        if task is not None and task.done():
            return name
    return None


async def _close(consumer: AIOKafkaConsumer) -> None:
    """Stop a client that may be broken, bounded and without raising."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(consumer.stop(), timeout=CLOSE_TIMEOUT_S)


async def _answers(settings: KafkaSettings) -> bool:
    try:
        await broker_reachable(settings)
    except Exception:  # noqa: BLE001 - refused, unreachable, timed out
        return False
    return True


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
