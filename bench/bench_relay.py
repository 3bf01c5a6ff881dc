"""Outbox relay: CPU time per published event, against a raw aiokafka produce of the same messages in the
same run (the relay's floor: it must at least encode and produce them).

The relay catches up a backlog stored in a PostgreSQL event store: read the notification log, map each
stored event to its contract, publish in one Kafka transaction per batch, record the position. CPU time
(`time.process_time`, all threads of this process) is the headline: steadier than wall time on a shared
machine. The broker's and PostgreSQL's CPU are not counted (other processes).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from eventsourcing.domain import Aggregate, event

from shared.events import encode, registry
from shared.events.crm_assignment import TeamChanged
from shared.runtime.eventstore import TrackingApplication, build_application
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.outbox import OutboxRelay, Outgoing

from .context import BenchContext


class BenchTeam(Aggregate):
    @event("Created")
    def __init__(self, name: str):
        self.name = name


class BenchApp(TrackingApplication):
    pass


def mapper(domain_event) -> list[Outgoing]:
    return [Outgoing(TeamChanged(team_id=str(domain_event.originator_id), name=domain_event.name,
                                 changed_at=domain_event.timestamp))]


async def raw_produce_cpu(bootstrap: str, topic: str, values: list[tuple[bytes, bytes]]) -> float:
    """CPU seconds to produce `values` (already encoded) with aiokafka, idempotent, acks=all."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
                                max_batch_size=256 * 1024)
    await producer.start()
    try:
        cpu = time.process_time()
        futures = [await producer.send(topic, v, key=k) for k, v in values]
        await asyncio.gather(*futures)
        return time.process_time() - cpu
    finally:
        await producer.stop()


async def main(ctx: BenchContext) -> list[dict]:
    n = 5_000 if ctx.quick else 50_000
    kafka = ctx.kafka
    topic = kafka.topic(registry.latest("crm.assignment.team_changed").topic)
    await ensure_topics(kafka, [topic, kafka.topic("bench.raw")])
    app = build_application(BenchApp, ctx.pg_database("relay"))
    try:
        for start in range(0, n, 1000):
            app.save(*[BenchTeam(name=f"team-{i}") for i in range(start, min(start + 1000, n))])
        relay = OutboxRelay(app, EventProducer(kafka, client_id="bench"), mapper, service="benchrelay",
                            batch_size=500)
        await relay.producer.start()
        wall, cpu = time.perf_counter(), time.process_time()
        while await relay.publish_once():
            pass
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        await relay.stop()
        assert relay.published == n, relay.published
        envelopes = [registry.envelope(TeamChanged(team_id=str(i), name=f"team-{i}", changed_at=datetime.now(UTC)),
                                       producer="whale-crm/bench") for i in range(n)]
        raw = await raw_produce_cpu(kafka.bootstrap_servers, kafka.topic("bench.raw"),
                                    [(e.partition_key.encode(), encode(e)) for e in envelopes])
    finally:
        app.close()
    per_event, raw_per_event = cpu / n * 1000, raw / n * 1000
    note = f"{n} stored events, batches of 500, PostgreSQL event store"
    return [
        {"benchmark": "relay", "metric": "relay CPU per published event", "value": per_event, "unit": "ms",
         "note": note},
        {"benchmark": "relay", "metric": "raw aiokafka produce CPU per message (same messages)",
         "value": raw_per_event, "unit": "ms", "note": "baseline, same run"},
        {"benchmark": "relay", "metric": "relay CPU / raw produce CPU", "value": per_event / raw_per_event,
         "unit": "x", "note": ""},
        {"benchmark": "relay", "metric": "relay catch-up rate", "value": n / wall, "unit": "events/s",
         "note": note},
    ]
