"""KYC consumer stopped mid-stream and restarted on the same PostgreSQL stores: every upstream event has
exactly one effect (resubmissions counted once, nothing dead-lettered), and the outbox publishes each
case's opening exactly once with stable event ids."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from services.kyc.bootstrap import bootstrap
from services.kyc.projections.tables import kyc_case
from services.kyc.settings import KycSettings
from shared.events import registry, topics
from shared.events.upstream import AccountApplicationSubmitted
from shared.runtime.kafka import EventProducer
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
CUSTOMERS, ROUNDS = 12, 4


def submission(i: int, n: int):
    at = T0 + timedelta(minutes=n)
    return registry.envelope(
        AccountApplicationSubmitted(
            customer_id=f"rc-{i}",
            application_id=f"rapp-{i}",
            submitted_at=at,
            documents=[
                {
                    "document_id": f"rd-{i}-{k}",
                    "kind": k,
                    "storage_ref": f"vault://{i}/{k}/{n}",
                    "uploaded_at": at,
                }
                for k in ("id_front", "selfie")
            ],
        ),
        producer="platform",
    )


async def run_until(settings: KycSettings, done, poll) -> None:
    c = bootstrap(settings)
    await c.ensure_topics()
    await c.start_producer()
    await c.consumer.start()
    tasks = [asyncio.create_task(comp.run()) for comp in c.worker_components()]
    try:
        await poll(lambda: done(c), timeout=30, message="progress")
    finally:
        for comp in c.worker_components():
            await comp.stop()
        await asyncio.gather(*tasks)
        await c.stop()


def published_all(c) -> bool:
    return c.relay.position() >= (c.app.recorder.max_notification_id() or 0)


def submissions(c) -> dict[str, int]:
    with c.sessions() as s:
        return dict(s.execute(select(kyc_case.c.customer_id, kyc_case.c.submission)).all())


async def test_stop_mid_stream_and_restart_applies_each_event_once(kafka_settings, pg_database, poll):
    settings = KycSettings(
        database_url=pg_database("kyc"),
        kafka=kafka_settings,
        auth=AuthSettings(jwt_secret="restart-secret-of-32-bytes-or-more"),
        consumer_batch_size=5,
        relay_interval_ms=50,
    )
    producer = EventProducer(kafka_settings, client_id="platform-sim")
    await producer.start()
    try:
        events = [submission(i, n) for n in range(ROUNDS) for i in range(CUSTOMERS)]
        await producer.publish_many(events)
        await producer.publish_many(events[:10])  # upstream retries of the same events
        await run_until(settings, lambda c: len(submissions(c)) >= 3, poll)  # stops with a partial read model
        await run_until(settings, lambda c: submissions(c) == {f"rc-{i}": ROUNDS for i in range(CUSTOMERS)}
                        and published_all(c), poll)  # not before the relay has published what is stored
    finally:
        await producer.stop()

    dlq_topic = kafka_settings.topic(topics.dead_letter_topic("kyc"))
    crm_topic = kafka_settings.topic(topics.CRM_KYC)
    consumer = AIOKafkaConsumer(
        dlq_topic,
        crm_topic,
        bootstrap_servers=kafka_settings.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: dict[str, list[dict]] = {dlq_topic: [], crm_topic: []}
    try:
        expected = CUSTOMERS * ROUNDS  # one opening + three resubmissions per customer
        deadline = asyncio.get_running_loop().time() + 20
        while (
            len({e["event_id"] for e in records[crm_topic]}) < expected
            and asyncio.get_running_loop().time() < deadline
        ):
            for tp, recs in (await consumer.getmany(timeout_ms=200)).items():
                records[tp.topic] += [json.loads(r.value) for r in recs]
    finally:
        await consumer.stop()
    assert records[dlq_topic] == []
    changes = records[crm_topic]
    assert len({e["event_id"] for e in changes}) == expected
    openings = [e for e in changes if e["payload"]["from_state"] is None]
    assert len(openings) == CUSTOMERS
    assert sorted(e["payload"]["submission"] for e in changes if e["payload"]["customer_id"] == "rc-0") == [
        1,
        2,
        3,
        4,
    ]
