"""Outbox relay against the real broker, with the event store on real PostgreSQL and on SQLite:
stored-then-crash-before-publish is published on restart; a crash after a batch was committed to Kafka but
before its position was recorded does not publish it again (the relay reads its position back from the
topic); nothing unstored is ever published."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from eventsourcing.domain import Aggregate, event

from shared.events import registry, topics
from shared.events.crm_assignment import TeamChanged
from shared.runtime.eventstore import TrackingApplication, build_application
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.outbox import OutboxRelay, Outgoing

pytestmark = pytest.mark.asyncio


class Team(Aggregate):
    @event("Created")
    def __init__(self, name: str):
        self.name = name

    @event("Renamed")
    def rename(self, name: str) -> None:
        self.name = name


class TeamApp(TrackingApplication):
    pass


def mapper(domain_event) -> list[Outgoing]:
    if isinstance(domain_event, Team.Created | Team.Renamed):
        return [Outgoing(TeamChanged(team_id=str(domain_event.originator_id), name=domain_event.name,
                                     changed_at=datetime.now(UTC)))]
    return []


async def read_topic(kafka_settings, expect_at_least: int, poll) -> list[dict]:
    consumer = AIOKafkaConsumer(kafka_settings.topic(topics.CRM_ASSIGNMENT),
                                bootstrap_servers=kafka_settings.bootstrap_servers, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    seen: list[dict] = []

    async def enough() -> bool:
        batch = await consumer.getmany(timeout_ms=200)
        for recs in batch.values():
            seen.extend(json.loads(r.value) for r in recs)
        return len(seen) >= expect_at_least

    try:
        await poll(enough, timeout=20, message=f"{expect_at_least} records")
        # drain anything more that is already there
        for _ in range(3):
            batch = await consumer.getmany(timeout_ms=300)
            for recs in batch.values():
                seen.extend(json.loads(r.value) for r in recs)
    finally:
        await consumer.stop()
    return seen


@pytest.fixture(params=["postgres", "sqlite"])
def store_url(request, pg_database, sqlite_url) -> str:
    return pg_database("outbox") if request.param == "postgres" else sqlite_url("outbox")


async def test_stored_events_are_published_after_a_crash_and_ids_are_stable(kafka_settings, store_url, poll):
    await ensure_topics(kafka_settings, [kafka_settings.topic(topics.CRM_ASSIGNMENT)])
    producer = EventProducer(kafka_settings, client_id="outbox-test")
    await producer.start()
    try:
        # 1. store events, then "crash" before the relay ever ran
        app = build_application(TeamApp, store_url)
        teams = [Team(name=f"team-{i}") for i in range(5)]
        for t in teams:
            t.rename(name=t.name + "-renamed")
        app.save(*teams)
        unsaved = Team(name="never-saved")  # changed but not saved: must never be published
        unsaved.rename(name="still-not-saved")
        app.close()

        # 2. restart: a new application on the same store publishes what was stored
        app = build_application(TeamApp, store_url)
        relay = OutboxRelay(app, producer, mapper, service="assignment", batch_size=4)
        original_track = app.process_recorder.insert_tracking
        crashed = {"n": 0}

        def crash_once(tracking):
            if crashed["n"] == 0:
                crashed["n"] += 1
                raise RuntimeError("crash between publishing and recording the position")
            return original_track(tracking)

        app.process_recorder.insert_tracking = crash_once  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            await relay.publish_once()  # published 4, position not recorded
        app.process_recorder.insert_tracking = original_track  # type: ignore[method-assign]
        app.close()

        # 3. restart again: the committed batch is found on the topic, the rest published, then idle
        app = build_application(TeamApp, store_url)
        relay = OutboxRelay(app, producer, mapper, service="assignment", batch_size=4)
        while await relay.publish_once():
            pass
        assert relay.position() == 10
        assert await relay.publish_once() == 0
        app.close()

        records = await read_topic(kafka_settings, expect_at_least=10, poll=poll)
        ids = [r["event_id"] for r in records]
        assert len(records) == 10 and len(set(ids)) == 10  # the committed batch was not published again
        names = {registry.decode(r).payload.name for r in records}
        assert "never-saved" not in names and "still-not-saved" not in names
        assert {f"team-{i}-renamed" for i in range(5)} <= names
        assert all(r["producer"] == "whale-crm/assignment" and r["event_type"] == "crm.assignment.team_changed"
                   for r in records)
    finally:
        await producer.stop()


async def test_the_relay_is_woken_by_recordings_not_by_its_poll(kafka_settings, store_url, poll):
    """With a 30 s poll the relay still publishes within moments: woken in-process by the application that
    records and, on PostgreSQL, by NOTIFY when another process (here: a second application on the same
    store, as the API Deployment is) records."""
    await ensure_topics(kafka_settings, [kafka_settings.topic(topics.CRM_ASSIGNMENT)])
    producer = EventProducer(kafka_settings, client_id="outbox-wake")
    await producer.start()
    worker = build_application(TeamApp, store_url)
    other = build_application(TeamApp, store_url)
    relay = OutboxRelay(worker, producer, mapper, service="assignment", interval_s=30.0)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(1.0)  # the relay has run once, found nothing and sleeps (30 s poll)
        worker.save(Team(name="same-process"))
        await poll(lambda: relay.published == 1, timeout=5, message="woken in-process")
        if store_url.startswith("postgresql"):
            other.save(Team(name="other-process"))
            await poll(lambda: relay.published == 2, timeout=5, message="woken by NOTIFY")
    finally:
        await relay.stop()
        await asyncio.wait_for(task, timeout=10)
        await producer.stop()
        worker.close()
        other.close()


async def test_another_stores_position_on_the_topic_is_not_taken(kafka_settings, pg_database, sqlite_url, poll):
    """A new store (a replaced database) on topics that hold another store's batches publishes all its own
    events: a position read back from the topic counts only if its event id is this store's."""
    await ensure_topics(kafka_settings, [kafka_settings.topic(topics.CRM_ASSIGNMENT)])
    producer = EventProducer(kafka_settings, client_id="outbox-other")
    await producer.start()
    try:
        for url, n in ((pg_database("outbox_old"), 6), (sqlite_url("outbox_new"), 3)):
            app = build_application(TeamApp, url)
            app.save(*[Team(name=f"{n}-{i}") for i in range(n)])
            relay = OutboxRelay(app, producer, mapper, service="assignment", batch_size=10)
            while await relay.publish_once():
                pass
            assert relay.position() == n
            app.close()
        records = await read_topic(kafka_settings, expect_at_least=9, poll=poll)
        assert len(records) == 9 and len({r["event_id"] for r in records}) == 9
    finally:
        await producer.stop()
