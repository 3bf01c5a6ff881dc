"""One pass per event under faults (issue 13), on the customer service, the real broker and PostgreSQL:

- a worker killed (SIGKILL, a real process) between the commit of its events and their publication, at
  each point of the relay's Kafka transaction, publishes the missing events exactly once after a restart;
- a publish that fails (the Kafka transaction aborted; a commit reported failed although the broker
  committed it) neither loses nor duplicates an effect.

"Exactly once" is checked as a read_committed consumer sees the output topic, read to its end after the
relay has recorded the last stored notification: every envelope of every stored event once, nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select

from services.customer.bootstrap import bootstrap
from shared.events import registry, topics
from shared.events.upstream import CustomerRegistered
from shared.runtime.kafka import EventProducer, ensure_topics, topic_partitions
from shared.runtime.service import running
from shared.runtime.settings import KafkaSettings
from tests.integration.killable_worker import POINTS, settings

pytestmark = pytest.mark.asyncio
ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 6, 1, tzinfo=UTC)
CUSTOMERS = 300  # registrations: several consumer batches (50) and relay batches (40 notifications)


async def register(kafka: KafkaSettings, n: int) -> None:
    await ensure_topics(kafka, [kafka.topic(x) for x in topics.UPSTREAM_TOPICS + (
        topics.CRM_ASSIGNMENT, topics.CRM_CUSTOMER, topics.dead_letter_topic("customer"))])
    producer = EventProducer(kafka, client_id="onepass-upstream")
    try:
        await producer.publish_many([
            registry.envelope(CustomerRegistered(customer_id=f"c-{i}", registered_at=T0 + timedelta(seconds=i),
                                                 channel="organic"), producer="brokerage-test")
            for i in range(n)])
    finally:
        await producer.stop()


async def read_committed(kafka: KafkaSettings, topic: str, timeout_s: float = 30) -> list[Any]:
    """Every record a read_committed consumer sees on `topic`, from the beginning to the end offsets taken
    now (call it when no transaction of the relay is open: then the last stable offset is the end)."""
    tps = await topic_partitions(kafka, [topic])
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=None, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[Any] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            assert loop.time() < deadline, f"read {len(out)} records, not to the end offsets {ends}"
            for records in (await consumer.getmany(timeout_ms=200)).values():
                out.extend(records)
        return out
    finally:
        await consumer.stop()


class Downstream:
    """A read_committed consumer of the output topic that runs while the faults happen, as a downstream
    service does: started at the beginning of the topic, it counts the event ids it is given."""

    def __init__(self, kafka: KafkaSettings):
        self.kafka, self.seen = kafka, Counter[str]()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Downstream:
        topic = self.kafka.topic(topics.CRM_CUSTOMER)
        await ensure_topics(self.kafka, [topic])
        consumer = AIOKafkaConsumer(bootstrap_servers=self.kafka.bootstrap_servers, group_id=None,
                                    enable_auto_commit=False, isolation_level="read_committed")
        await consumer.start()
        tps = await topic_partitions(self.kafka, [topic])
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)

        async def consume() -> None:
            try:
                while True:
                    for records in (await consumer.getmany(timeout_ms=200)).values():
                        self.seen.update(str(registry.decode(r.value).event_id) for r in records)
            finally:
                await consumer.stop()

        self._task = asyncio.create_task(consume())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def expected_envelopes(container: Any) -> set[str]:
    """The event ids of every envelope of every stored event (each once), after the relay has recorded the
    last stored notification."""
    app, relay = container.app, container.relay
    last = app.process_recorder.max_notification_id()
    assert relay.position() == last
    expected: Counter[str] = Counter()
    for n in app.process_recorder.select_notifications(start=1, limit=last + 1):
        expected.update(str(e.event_id) for e in relay.envelopes(app.mapper.to_domain_event(n)))
    assert expected and max(expected.values()) == 1
    return set(expected)


def assert_once(seen: Counter[str], expected: set[str], who: str) -> None:
    missing, twice = expected - set(seen), {k: v for k, v in seen.items() if v > 1}
    assert not missing, f"{who}: {len(missing)} of {len(expected)} stored envelopes missing"
    assert not twice, f"{who}: {len(twice)} envelopes more than once"
    assert set(seen) == expected, f"{who}: {len(set(seen) - expected)} envelopes that were never stored"


async def assert_published_exactly_once(container: Any, downstream: Downstream, poll: Any) -> None:
    """The output topic, read to its end, holds every envelope of every stored event once (read_committed)
    and nothing else; the consumer that ran meanwhile got each once too."""
    expected = expected_envelopes(container)
    kafka = container.settings.kafka
    topic = Counter(str(registry.decode(r.value).event_id)
                    for r in await read_committed(kafka, kafka.topic(topics.CRM_CUSTOMER)))
    assert_once(topic, expected, "the topic")
    await poll(lambda: expected <= set(downstream.seen), timeout=30,
               message=f"the running consumer given all {len(expected)} envelopes")
    assert_once(downstream.seen, expected, "the running consumer")


async def caught_up(container: Any, poll: Any, n: int) -> None:
    """All `n` customers in the read model and the relay's position at the last stored notification."""
    def done() -> bool:
        with container.sessions() as s:
            rows = s.scalar(select(func.count()).select_from(container.tables.customer))
        last = container.app.process_recorder.max_notification_id()
        return rows == n and container.relay.position() == last

    await poll(lambda: asyncio.to_thread(done), timeout=90, message="every customer stored and published")


@pytest.mark.parametrize("point", POINTS)
async def test_a_worker_killed_between_commit_and_publish_publishes_the_rest_exactly_once(
        point, kafka_settings, pg_database, poll):
    url = pg_database("killed")
    await register(kafka_settings, CUSTOMERS)
    async with Downstream(kafka_settings) as downstream:  # reading while the worker runs, dies and restarts
        await killed_worker(url, kafka_settings, point)
        container = bootstrap(settings(url, kafka_settings))
        container.build_worker()
        rec = container.app.process_recorder
        # what the kill left: events committed in the database beyond the position the relay recorded
        assert (rec.max_notification_id() or 0) > (rec.max_tracking_id(container.relay.name) or 0)
        async with running(container):
            await caught_up(container, poll, CUSTOMERS)
            await assert_published_exactly_once(container, downstream, poll)


async def killed_worker(url: str, kafka: KafkaSettings, point: str) -> None:
    """Run `killable_worker` until it has killed itself at `point`."""
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers}
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.killable_worker", url, kafka.topic_prefix, point,
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(worker.communicate(), timeout=120)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    assert worker.returncode == -signal.SIGKILL, err.decode()[-2000:]


class Faults:
    """Makes the relay's Kafka transactions fail: `abort` turns a commit into a failure before it is sent (the
    batch, sent and acknowledged, is aborted); `lost_answer` commits, then reports a failure (the broker
    committed the batch, the relay does not know it)."""

    def __init__(self, producer: Any, plan: dict[int, str]):
        self.plan, self.injected = plan, []
        self.calls = 0
        end = producer._end_transaction

        async def ending(kafka_producer: Any, error: BaseException | None) -> BaseException | None:
            self.calls += 1
            fault = self.plan.get(self.calls) if error is None else None
            if fault == "abort":
                error = ConnectionError("injected: the commit never reached the coordinator")
            result = await end(kafka_producer, error)
            if fault == "lost_answer" and result is None:
                result = TimeoutError("injected: the commit's answer was lost")
            if fault:
                self.injected.append(fault)
            return result

        producer._end_transaction = ending


async def test_a_failed_publish_neither_loses_nor_duplicates_an_effect(kafka_settings, pg_database, poll):
    await register(kafka_settings, CUSTOMERS)
    container = bootstrap(settings(pg_database("failing"), kafka_settings))
    container.build_worker()
    faults = Faults(container.relay.producer, {2: "abort", 4: "lost_answer", 5: "abort", 7: "lost_answer"})
    async with Downstream(kafka_settings) as downstream, running(container):
        await caught_up(container, poll, CUSTOMERS)
        assert faults.injected == ["abort", "lost_answer", "abort", "lost_answer"]
        await assert_published_exactly_once(container, downstream, poll)
