"""Only one outbox relay per service publishes at a time (PostgreSQL advisory lock): of two relays on one
store, one publishes and the other waits; when the publishing one stops, the other takes over from the
recorded position. Every stored event ends on the topic once per event id."""

from __future__ import annotations

import asyncio

import pytest

from shared.events import topics
from shared.runtime.eventstore import build_application
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.outbox import OutboxRelay
from tests.integration.test_runtime_outbox import Team, TeamApp, mapper
from tests.integration.test_runtime_relay_outage import read_all

pytestmark = pytest.mark.asyncio


async def test_two_relays_on_one_store_take_turns(kafka_settings, pg_database, poll):
    topic = kafka_settings.topic(topics.CRM_ASSIGNMENT)
    await ensure_topics(kafka_settings, [topic])
    url = pg_database("leader")
    apps = [build_application(TeamApp, url) for _ in range(2)]
    relays = [OutboxRelay(app, EventProducer(kafka_settings, client_id=f"r{i}"), mapper, service="assignment",
                          interval_s=0.05) for i, app in enumerate(apps)]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    try:
        apps[0].save(*[Team(name=f"first-{i}") for i in range(5)])
        apps[1].save(*[Team(name=f"second-{i}") for i in range(5)])
        await poll(lambda: relays[0].position() == 10, timeout=30, message="first 10 published")
        await asyncio.sleep(1.5)  # the waiting relay would have published by now if it could (it polls 1 s)
        counts = sorted(r.published for r in relays)
        assert counts == [0, 10], counts  # one relay published everything, the other none
        leader = next(i for i, r in enumerate(relays) if r.published)
        await relays[leader].stop()
        await asyncio.wait_for(tasks[leader], timeout=20)
        apps[leader].save(*[Team(name=f"third-{i}") for i in range(4)])
        other = relays[1 - leader]
        await poll(lambda: other.published == 4, timeout=30, message="the other relay took over")
        assert other.position() == 14
        ids = [r["event_id"] for r in await read_all(kafka_settings, topic, 14, poll)]
        assert len(ids) == len(set(ids)) == 14
    finally:
        for r in relays:
            await r.stop()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=30)
        for app in apps:
            app.close()
