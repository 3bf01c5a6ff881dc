"""The automatic-task engine as a faust-streaming application.

One tiny agent per input topic: it takes batches of records (`take_events`, acknowledged only after the
batch is applied) and hands them to `StreamProcessor.process` — everything else is plain functions.
Faust does the group membership and fetching; where to resume is decided by the positions stored with
the effects (records below them are skipped), not by faust's committed offsets. No tables: nothing in
RocksDB, the in-memory store only.
"""

from __future__ import annotations

import asyncio
import ssl
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.events import topics
from shared.runtime.kafka import Inbound
from shared.runtime.logging import get_logger
from shared.runtime.settings import KafkaSettings

from .consumers import inbound_from

log = get_logger("tasks.streams")

INPUT_TOPICS = (topics.CRM_CUSTOMER, topics.CRM_ASSIGNMENT, topics.CRM_KYC)
GROUP = "whale-tasks"
Process = Callable[[Sequence[Inbound]], Awaitable[None]]


def _broker_options(kafka: KafkaSettings) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "broker": [f"kafka://{h.strip()}" for h in kafka.bootstrap_servers.split(",") if h.strip()],
    }
    if kafka.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL") and kafka.sasl_mechanism:
        opts["broker_credentials"] = faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password.get_secret_value() if kafka.sasl_password else None,
            mechanism=kafka.sasl_mechanism,
            ssl_context=ssl.create_default_context() if kafka.security_protocol == "SASL_SSL" else None,
        )
    elif kafka.security_protocol == "SSL":
        opts["broker_credentials"] = faust.SSLCredentials(ssl.create_default_context())
    return opts


def make_agent(process: Process, batch_size: int, window_s: float) -> Callable[[Any], Awaitable[None]]:
    async def agent(stream: Any) -> None:
        async for events in stream.take_events(batch_size, within=window_s):
            await process([inbound_from(ev.message, ev.value) for ev in events])

    return agent


def build_faust_app(kafka: KafkaSettings, process: Process, *, batch_size: int = 500, window_s: float = 0.02,
                    rebalance_timeout_s: float = 10.0, commit_interval_s: float = 1.0,
                    on_rebalance: Callable[[], None] | None = None, datadir: str | None = None) -> faust.App:
    session_s = kafka.session_timeout_ms / 1000
    group = f"{kafka.topic_prefix}{GROUP}"  # the consumer group id; tests get their own via the topic prefix
    # faust keeps a versioned data directory even with the memory store; its default, "<id>-data" in the
    # working directory, would leave one behind for every test's group id (and fails on a read-only root)
    data = Path(datadir) if datadir else Path(tempfile.gettempdir()) / "whale-faust" / group
    data.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        group,
        **_broker_options(kafka),
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
        broker_client_id=f"{kafka.client_id_prefix}-tasks-engine",
        consumer_auto_offset_reset="earliest",
        consumer_max_fetch_size=4 * 1024 * 1024,
        stream_buffer_maxsize=max(4 * batch_size, 1000),
        key_serializer="raw",
        value_serializer="raw",
    )
    if on_rebalance is not None:
        async def rebalanced(sender: Any, assigned: Any = None, **_: Any) -> None:
            on_rebalance()

        app.on_partitions_assigned.connect(rebalanced)
    for name in INPUT_TOPICS:
        topic = app.topic(kafka.topic(name), key_type=bytes, value_type=bytes, key_serializer="raw",
                          value_serializer="raw")
        app.agent(topic, name=f"tasks-{name.split('.')[1]}")(make_agent(process, batch_size, window_s))
    return app


async def align_group_offsets(kafka: KafkaSettings, group: str, topic_names: Sequence[str],
                              stored: Callable[[str, int], int]) -> dict[tuple[str, int], int]:
    """Rewind the group's committed offsets to the positions stored with the effects, before faust joins.

    faust resumes from the group's committed offsets. Those can be ahead of the stored positions only
    when the stores were emptied (a rebuild: new databases replay the topics from the start); then the
    group is rewound so that nothing is skipped. Positions ahead of the committed offsets need nothing:
    the processor skips records below its stored positions.
    """
    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        described = await admin.describe_topics(list(topic_names))
    finally:
        await admin.close()
    tps = [TopicPartition(d["topic"], p["partition"]) for d in described if d.get("error_code") == 0
           for p in d["partitions"]]
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


class FaustComponent:
    """The faust app as a runtime component (`run`/`stop`), inside the service's own event loop."""

    def __init__(self, app: faust.App, stopping: asyncio.Event | None = None,
                 before_start: Callable[[], Awaitable[Any]] | None = None):
        self.app = app
        self._stopping = stopping or asyncio.Event()
        self._before_start = before_start

    async def run(self) -> None:
        if self._before_start is not None:
            await self._before_start()
        await self.app.start()
        log.info("faust_engine_started", group=self.app.conf.id)
        try:
            await self._stopping.wait()
        finally:
            await self.app.stop()
            log.info("faust_engine_stopped")

    async def stop(self) -> None:
        self._stopping.set()
