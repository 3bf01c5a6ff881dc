"""Operator tooling against the real broker: lag per group, dead-letter listing and re-drive after a fix."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ops import kafka_ops
from shared.events import Event, registry, topics
from shared.events.upstream import DepositCompleted
from shared.runtime.errors import PermanentError
from shared.runtime.kafka import BatchConsumer, EventProducer, ensure_topics

pytestmark = pytest.mark.asyncio


class FlakyHandler:
    """Rejects transactions listed in `broken` until the 'bug' is fixed."""

    def __init__(self) -> None:
        self.pos: dict[tuple[str, int], int] = {}
        self.applied: list[str] = []
        self.broken = {"tx-bug"}

    def positions(self):
        return dict(self.pos)

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        for e in events:
            if e.payload.transaction_id in self.broken:
                raise PermanentError("bug in handler")
        self.applied.extend(e.payload.transaction_id for e in events)
        self.pos[(topic, partition)] = next_offset


def deposit(tx: str):
    return registry.envelope(DepositCompleted(customer_id="C1", account_id="A1", transaction_id=tx,
                                              amount=Decimal("5"), currency="HKD", completed_at=datetime.now(UTC)),
                             producer="test")


async def test_lag_list_and_redrive(kafka_settings, poll):
    funding, dlq = kafka_settings.topic(topics.FUNDING), kafka_settings.topic(topics.dead_letter_topic("customer"))
    await ensure_topics(kafka_settings, [funding, dlq])
    producer = EventProducer(kafka_settings, client_id="t")
    await producer.start()
    handler = FlakyHandler()
    group = f"whale-opstest-{uuid.uuid4().hex[:6]}"
    consumer = BatchConsumer(settings=kafka_settings, service="customer", group_id=group, topics=[funding],
                             handler=handler, producer=producer, dead_letter_topic=dlq, retries=1, backoff_s=0.01)
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    try:
        await producer.publish_many([deposit("tx-1"), deposit("tx-bug"), deposit("tx-2")])
        await poll(lambda: set(handler.applied) == {"tx-1", "tx-2"} and consumer.dead_lettered == 1)

        rows = await poll(lambda: _lag(kafka_settings, group), message="committed offsets visible")
        assert sum(r.end for r in rows) == 3 and all(r.lag == 0 for r in rows)

        letters = await kafka_ops.read_dead_letters(kafka_settings, "customer")
        assert len(letters) == 1
        summary = letters[0].summary()
        assert summary["error"] == "PermanentError" and summary["original"].startswith(funding + ":")
        assert "value" not in summary  # no payload (personal data) in listings

        handler.broken.clear()  # the fix is deployed
        assert await kafka_ops.redrive(kafka_settings, letters) == 1
        await poll(lambda: handler.applied.count("tx-bug") == 1, message="re-driven event applied")
    finally:
        await consumer.stop()
        await task
        await producer.stop()


async def _lag(kafka_settings, group):
    rows = [r for r in await kafka_ops.consumer_lag(kafka_settings, group) if r.group == group]
    return rows if rows and sum(r.committed or 0 for r in rows) >= 3 else None


async def test_a_record_too_big_to_carry_is_dead_lettered_by_reference_and_redriven_from_its_coordinates(
        kafka_settings, poll):
    """A 900 KB undecodable record (under the 1 MiB record limit) is dead-lettered without its value (base64 of
    it would not fit in a record: the consumer used to stop on it) and the consumer goes on; re-drive reads
    the original bytes at its coordinates."""
    funding, dlq = kafka_settings.topic(topics.FUNDING), kafka_settings.topic(topics.dead_letter_topic("customer"))
    await ensure_topics(kafka_settings, [funding, dlq])
    producer = EventProducer(kafka_settings, client_id="t")
    await producer.start()
    handler = FlakyHandler()
    consumer = BatchConsumer(settings=kafka_settings, service="customer", group_id=f"whale-opstest-{uuid.uuid4().hex[:6]}",
                             topics=[funding], handler=handler, producer=producer, dead_letter_topic=dlq, retries=1,
                             backoff_s=0.01)
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    big = b"{" + b" " * 899_998 + b"}"
    try:
        await producer.send_raw(funding, big, key=b"C1")
        await producer.publish(deposit("tx-after"))
        await poll(lambda: handler.applied == ["tx-after"] and consumer.dead_lettered == 1)
        assert not task.done()

        [letter] = await kafka_ops.read_dead_letters(kafka_settings, "customer")
        r = letter.record
        assert r["value_b64"] is None and r["value_text"] is None and r["value_bytes"] == len(big)
        assert r["value_sha256"] == hashlib.sha256(big).hexdigest()

        assert await kafka_ops.redrive(kafka_settings, [letter]) == 1
        await poll(lambda: consumer.dead_lettered == 2, message="re-driven record dead-lettered again")
        letters = await kafka_ops.read_dead_letters(kafka_settings, "customer")
        assert [x.record["value_sha256"] for x in letters] == [r["value_sha256"]] * 2
    finally:
        await consumer.stop()
        await task
        await producer.stop()
