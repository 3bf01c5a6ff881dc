"""A consumer rides out a broker outage of any length without a restart, against a real broker of its own
(started on a spare port for this test, stopped and started again; the shared broker is never touched) and
a real PostgreSQL store: one started while the broker is away keeps trying and consumes once it is back; one
that was consuming when the broker went away consumes again once it is back. Every record is applied once
(a non-idempotent counter would show a second application). Before this fix the first one ended at once
(`KafkaConnectionError` out of `run`); the client failures that ended a KYC worker in the fault suite's
broker outage (a cancellation out of aiokafka) are pinned down with a fake client in
tests/unit/test_runtime_consumer_restart.py."""

from __future__ import annotations

import asyncio

import pytest

from shared.events import encode, topics
from shared.runtime.kafka import BatchConsumer, EventProducer, _ended_task, ensure_topics
from shared.runtime.settings import KafkaSettings
from tests.integration.conftest import OwnBroker
from tests.integration.test_runtime_kafka import Counter, deposit

pytestmark = pytest.mark.asyncio
OUTAGE_S = 15  # several session timeouts and request back-offs: the group is gone when the broker is back


async def send(producer: EventProducer, topic: str, prefix: str, n: int) -> None:
    for i in range(n):
        env = deposit(f"{prefix}{i}")
        await producer.send_raw(topic, encode(env), key=env.partition_key.encode())


def consumer_of(settings: KafkaSettings, counter: Counter, producer: EventProducer, topic: str) -> BatchConsumer:
    return BatchConsumer(settings=settings, service="test", group_id="outage.g", topics=[topic],
                         handler=counter.handler(), producer=producer,
                         dead_letter_topic=settings.topic(topics.dead_letter_topic("test")), batch_size=20)


def settings_for(broker: OwnBroker) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=broker.bootstrap, topic_prefix="outage.", session_timeout_ms=6000,
                         heartbeat_interval_ms=1000, fetch_max_wait_ms=50, linger_ms=1, request_timeout_ms=5000)


async def test_a_consumer_started_while_the_broker_is_away_consumes_once_it_is_back(own_broker, pg_database, poll):
    settings = settings_for(own_broker)
    topic = settings.topic(topics.FUNDING)
    await ensure_topics(settings, [topic, settings.topic(topics.dead_letter_topic("test"))])
    producer = EventProducer(settings, client_id="outage-test")
    await send(producer, topic, "before-", 20)
    await producer.stop()
    counter = Counter(pg_database("outage"))
    await asyncio.to_thread(own_broker.stop)
    consumer = consumer_of(settings, counter, producer, topic)
    running = asyncio.create_task(consumer.run())
    try:
        await asyncio.sleep(OUTAGE_S)  # the outage: the consumer cannot start meanwhile
        assert not running.done(), running  # it keeps trying instead of ending
        assert consumer.restarts >= 2  # start after start failed, each logged
        await asyncio.to_thread(own_broker.start)
        await send(producer, topic, "after-", 20)
        await poll(lambda: counter.total() == 40, timeout=90, message="every record applied after the outage")
        assert consumer._consumer is not None and _ended_task(consumer._consumer) is None
    finally:
        await consumer.stop()
        await asyncio.wait_for(running, timeout=60)
        await producer.stop()
    assert counter.total() == 40  # once each


async def test_a_consumer_consuming_when_the_broker_goes_away_consumes_again_once_it_is_back(own_broker, pg_database,
                                                                                             poll):
    settings = settings_for(own_broker)
    topic = settings.topic(topics.FUNDING)
    await ensure_topics(settings, [topic, settings.topic(topics.dead_letter_topic("test"))])
    producer = EventProducer(settings, client_id="outage-test")
    counter = Counter(pg_database("outage"))
    consumer = consumer_of(settings, counter, producer, topic)
    running = asyncio.create_task(consumer.run())
    try:
        await send(producer, topic, "before-", 20)
        await poll(lambda: counter.total() == 20, timeout=90, message="consuming before the outage")
        await producer.stop()
        await asyncio.to_thread(own_broker.stop)
        await asyncio.sleep(OUTAGE_S)
        assert not running.done(), running
        await asyncio.to_thread(own_broker.start)
        await send(producer, topic, "after-", 20)
        await poll(lambda: counter.total() == 40, timeout=90, message="every record applied after the outage")
    finally:
        await consumer.stop()
        await asyncio.wait_for(running, timeout=60)
        await producer.stop()
    assert counter.total() == 40  # once each
