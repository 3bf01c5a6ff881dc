"""faust-streaming as a driver of the processing pipeline (`pipeline.py`), beside the aiokafka
`BatchConsumer`.

faust keeps group membership and fetching: one tiny agent per input topic takes batches of records
(`take_events`, acknowledged only after the batch is applied) and hands them to `Pipeline.process`, which
does everything else. Where to resume is decided by the positions stored with the effects (records below
them are skipped), not by faust's committed offsets. No tables: nothing in RocksDB, the in-memory store only.

The group's committed offsets (lag monitoring, KEDA, the start of a replay after a restart) are the stored
positions, committed after each applied batch (`commit_stored`), as `BatchConsumer` does. faust's own
commit follows its bookkeeping of acknowledged offsets and of gaps in them; with transactional producers
(the outbox relays) in the topics — the control records that end each transaction are offsets no stream
is handed — its committed offsets trailed the stored positions by minutes (ops lag 12k+ after everything
was applied; the fault suite saw 1,149 → 0 over 9 minutes with nothing consumed; a restarted worker
re-read all of it). Its timer still runs (it keeps that bookkeeping drained) but does not move an offset
back: faust commits only offsets above the last one committed, which `commit_stored` updates.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from faust.exceptions import ConsumerNotStarted
from faust.types import TP

from .deadletter import Inbound
from .kafka import topic_partitions
from .logging import get_logger
from .pipeline import Key, Pipeline
from .settings import KafkaSettings

log = get_logger("streams")


def broker_options(kafka: KafkaSettings) -> dict[str, Any]:
    """faust's broker settings from the same `KAFKA_*` settings as every other client: the TLS context
    (CA bundle, client certificate) of `KafkaSettings.ssl_context`, SASL credentials."""
    opts: dict[str, Any] = {
        "broker": [f"kafka://{h.strip()}" for h in kafka.bootstrap_servers.split(",") if h.strip()],
    }
    ssl_context = kafka.ssl_context()
    if kafka.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL") and kafka.sasl_mechanism:
        opts["broker_credentials"] = faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password.get_secret_value() if kafka.sasl_password else None,
            mechanism=kafka.sasl_mechanism,
            ssl_context=ssl_context,
        )
    elif ssl_context is not None:
        opts["broker_credentials"] = faust.SSLCredentials(ssl_context)
    return opts


def inbound_from(message: Any, value: Any) -> Inbound:
    """A faust message as the pipeline's `Inbound` record."""
    ts = getattr(message, "timestamp", 0) or 0
    return Inbound(message.topic, message.partition, message.offset, message.key, value, int(ts * 1000))


class FaustDriver:
    """A faust app whose agents feed one pipeline; a runtime component (`run`/`stop`) inside the service's
    own event loop. `agent_for(topic)` is the agent of one input topic (tests use its `test_context()`)."""

    def __init__(self, kafka: KafkaSettings, pipeline: Pipeline, *, group: str, topics: Sequence[str],
                 client_id: str, batch_size: int = 500, window_s: float = 0.05, rebalance_timeout_s: float = 10.0,
                 commit_interval_s: float = 5.0, datadir: str | None = None):
        self.kafka, self.pipeline, self.group, self.topics = kafka, pipeline, group, list(topics)
        session_s = kafka.session_timeout_ms / 1000
        # faust keeps a versioned data directory even with the memory store; its default, "<id>-data" in the
        # working directory, would leave one behind for every test's group id (and fails on a read-only root)
        data = Path(datadir) if datadir else Path(tempfile.gettempdir()) / "whale-faust" / group
        data.mkdir(parents=True, exist_ok=True)
        self.app = faust.App(
            group,
            **broker_options(kafka),
            store="memory://",
            datadir=str(data),
            autodiscover=False,
            web_enabled=False,
            topic_disable_leader=True,
            topic_allow_declare=False,  # never create (or re-partition) other services' topics
            broker_session_timeout=session_s,
            broker_heartbeat_interval=kafka.heartbeat_interval_ms / 1000,
            broker_rebalance_timeout=rebalance_timeout_s,
            broker_request_timeout=max(kafka.request_timeout_ms / 1000, session_s + 5),
            broker_commit_interval=commit_interval_s,
            broker_client_id=f"{kafka.client_id_prefix}-{client_id}",
            consumer_auto_offset_reset="earliest",
            consumer_max_fetch_size=4 * 1024 * 1024,
            stream_buffer_maxsize=max(4 * batch_size, 1000),
            key_serializer="raw",
            value_serializer="raw",
        )

        async def rebalanced(sender: Any, assigned: Any = None, **_: Any) -> None:
            pipeline.forget()  # another member may have moved on: read the stored positions again

        self.app.on_partitions_assigned.connect(rebalanced)
        self._agents: dict[str, Any] = {}
        for topic in self.topics:
            channel = self.app.topic(topic, key_type=bytes, value_type=bytes, key_serializer="raw",
                                     value_serializer="raw")
            name = f"{group}-{topic}".replace(".", "-")
            self._agents[topic] = self.app.agent(channel, name=name)(self._agent(batch_size, window_s))
        self._stopping = asyncio.Event()

    def _agent(self, batch_size: int, window_s: float) -> Callable[[Any], Any]:
        async def agent(stream: Any) -> None:
            async for events in stream.take_events(batch_size, within=window_s):
                await self.pipeline.process([inbound_from(ev.message, ev.value) for ev in events],
                                            commit=self.commit_stored)

        return agent

    async def commit_stored(self, offsets: dict[Key, int]) -> None:
        """The pipeline's `commit`: the next offset per partition as stored with the effects of the batch just
        applied, committed for the group through faust's consumer (its member id and generation), for the
        partitions still assigned and ahead of what it last committed. A failure (a rebalance under way, the
        broker away) is logged and left to the next batch: the database holds the positions."""
        if not offsets:
            return
        consumer = self.app.consumer
        try:
            assigned = consumer.assignment()
        except ConsumerNotStarted:  # agents fed by a test context (`agent.test_context()`): no group to commit for
            return
        ahead = {}
        for (topic, partition), offset in offsets.items():
            tp = TP(topic, partition)
            last = consumer._committed_offset.get(tp)  # faust keeps no public view of it (faust-streaming 0.15)
            if tp in assigned and (last is None or offset > last):
                ahead[tp] = offset
        if not ahead:
            return
        try:
            # faust's own commit path for a set of offsets: the same member, its bookkeeping updated, so its
            # timer's commits of acknowledged offsets below these are skipped from now on
            await asyncio.wait_for(consumer._commit_offsets(ahead, start_new_transaction=False),
                                   timeout=self.kafka.request_timeout_ms / 1000)
        except Exception as exc:  # noqa: BLE001 - lag monitoring only; the next batch commits again
            log.warning("offset_commit_failed", group=self.group, partitions=len(ahead), error=type(exc).__name__)

    def agent_for(self, topic: str) -> Any:
        return self._agents[topic]

    async def run(self) -> None:
        try:
            await align_group_offsets(self.kafka, self.group, self.topics, self.pipeline.floor)
        except Exception as exc:  # noqa: BLE001 - e.g. other members active: they hold the positions
            log.warning("group_offsets_align_failed", group=self.group, error=type(exc).__name__)
        await self.app.start()
        log.info("faust_engine_started", group=self.group)
        try:
            await self._until_stopped_or_ended()
        finally:
            await self.app.stop()
            self.pipeline.close()
            log.info("faust_engine_stopped", applied=self.pipeline.applied, dead_lettered=self.pipeline.dead_lettered)

    async def _until_stopped_or_ended(self) -> None:
        """Until `stop`, or until the faust app stops or crashes by itself: faust ends its app on a crash of
        one of its services (its consumer's, an agent's supervisor giving up) and nothing else would notice,
        the engine waiting for a stop that never comes while nothing is consumed. That ends `run` with
        `EngineEnded`: the process exits non-zero and its supervisor restarts it."""
        stopping = asyncio.create_task(self._stopping.wait())
        ended = asyncio.create_task(self.app.wait_until_stopped())
        try:
            await asyncio.wait({stopping, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (stopping, ended):
                t.cancel()
        if self._stopping.is_set():
            return
        reason = self.app.crash_reason
        log.error("faust_engine_ended", group=self.group, crashed=self.app.crashed,
                  error=type(reason).__name__ if reason else None)
        raise EngineEnded(f"faust app of {self.group} {'crashed' if self.app.crashed else 'stopped'} by itself"
                          + (f": {type(reason).__name__}: {reason}" if reason else "")) from reason

    async def stop(self) -> None:
        self.pipeline.stopping.set()
        self._stopping.set()


class EngineEnded(RuntimeError):
    """The faust app stopped or crashed although the engine was not asked to stop."""


async def align_group_offsets(kafka: KafkaSettings, group: str, topic_names: Sequence[str],
                              stored: Callable[[str, int], int]) -> dict[tuple[str, int], int]:
    """Rewind the group's committed offsets to the positions stored with the effects, before faust joins.

    faust resumes from the group's committed offsets. Those are ahead of the stored positions when the
    stores were emptied (a rebuild: new databases replay the topics from the start), and by the records
    since a handler last stored its position when it stores it lazily (`handlers.LazyPosition`: records that change
    nothing for it); the group is rewound so that nothing is skipped. Positions ahead of the committed
    offsets need nothing: the pipeline skips records below its stored positions.
    """
    tps = await topic_partitions(kafka, topic_names)
    rewound: dict[tuple[str, int], int] = {}
    if not tps:
        return rewound
    consumer = AIOKafkaConsumer(**kafka.client_kwargs(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        commits = {}
        for tp in tps:
            committed = await consumer.committed(tp)
            position = await asyncio.to_thread(stored, tp.topic, tp.partition)
            if committed is not None and position < committed:
                commits[tp] = position
                rewound[(tp.topic, tp.partition)] = position
        log.info("group_offsets_checked", group=group, partitions=len(tps), rewound=len(commits))
        if commits:
            await consumer.commit(commits)
            log.warning("group_offsets_rewound", group=group, partitions=len(commits))
    finally:
        await consumer.stop()
    return rewound
