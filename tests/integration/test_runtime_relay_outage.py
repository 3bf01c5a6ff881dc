"""The outbox relay survives a broker outage without a restart (issue 14, item 7), against a real broker of
its own: started on a spare port for this test, stopped while events keep being stored, started again.
Afterwards every stored event is on the topic exactly once per event id and the backlog is drained.
(The shared broker of the other tests is never touched.) On the relay before this fix the same run ended
with `LeaderNotAvailableError` during the outage, then `OutOfOrderSequenceNumber` on every attempt and a
backlog that never drained; whether a given run breaks the producer's session depends on where the
outage finds it, which the unit tests (tests/unit/test_runtime_relay.py) pin down with a fake."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from aiokafka import AIOKafkaConsumer

from shared.events import topics
from shared.runtime.eventstore import build_application, deterministic_event_id
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.outbox import OutboxRelay
from shared.runtime.settings import KafkaSettings
from tests.integration.test_runtime_outbox import Team, TeamApp, mapper

pytestmark = pytest.mark.asyncio

REQUEST_TIMEOUT_MS = 3_000  # the outage below is several times longer: batches expire as in a 40 s+ outage
OUTAGE_S = 12


async def read_all(settings: KafkaSettings, topic: str, expect: int, poll) -> list[dict]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.bootstrap_servers, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    seen: list[dict] = []

    async def enough() -> bool:
        for recs in (await consumer.getmany(timeout_ms=200)).values():
            seen.extend(json.loads(r.value) for r in recs)
        return len(seen) >= expect

    try:
        await poll(enough, timeout=30, message=f"{expect} records")
        for _ in range(3):  # anything beyond (a duplicate) that is already there
            for recs in (await consumer.getmany(timeout_ms=300)).values():
                seen.extend(json.loads(r.value) for r in recs)
    finally:
        await consumer.stop()
    return seen


async def test_a_broker_outage_ends_with_every_stored_event_published_once(own_broker, pg_database, poll):
    settings = KafkaSettings(bootstrap_servers=own_broker.bootstrap, topic_prefix="outage.", linger_ms=1,
                             request_timeout_ms=REQUEST_TIMEOUT_MS)
    topic = settings.topic(topics.CRM_ASSIGNMENT)
    await ensure_topics(settings, [topic])
    url = pg_database("outage")
    app = build_application(TeamApp, url)
    producer = EventProducer(settings, client_id="outage-relay")  # settings only: the relay has its own
    relay = OutboxRelay(app, producer, mapper, service="assignment", batch_size=50, interval_s=0.05)
    running = asyncio.create_task(relay.run())
    enough = threading.Event()

    def write() -> int:
        """Five events every 20 ms until `enough`."""
        n = 0
        while not enough.wait(0.02):
            app.save(*[Team(name=f"team-{n}-{i}") for i in range(5)])
            n += 5
        return n

    writer = asyncio.create_task(asyncio.to_thread(write))
    try:
        await poll(lambda: relay.published >= 100, timeout=20, message="publishing before the outage")
        await asyncio.to_thread(own_broker.stop)
        await asyncio.sleep(OUTAGE_S)  # the outage itself: events keep being stored meanwhile
        await asyncio.to_thread(own_broker.start)
        before = relay.published
        # and keep coming after it, until the relay has published again
        await poll(lambda: relay.published > before, timeout=60, message="publishing after the outage")
        enough.set()
        stored = await writer
        last = app.process_recorder.max_notification_id()
        await poll(lambda: relay.position() == last, timeout=60, message="backlog drained after the outage")
        notifications = app.process_recorder.select_notifications(start=1, limit=stored + 10)
        expected = {str(deterministic_event_id(n.originator_id, n.originator_version, 0)) for n in notifications}
        assert len(expected) == stored
        records = await read_all(settings, topic, stored, poll)
        ids = [r["event_id"] for r in records]
        assert set(ids) == expected  # nothing stored is missing
        assert len(ids) == len(expected)  # and nothing was published twice
    finally:
        enough.set()
        await relay.stop()
        await asyncio.wait_for(running, timeout=30)
        app.close()
