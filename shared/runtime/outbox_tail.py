"""What an outbox relay's transactions last committed to Kafka, read back from its topics.

Every record the relay publishes carries the notification id of its stored event in the `outbox_position`
header. A batch is one Kafka transaction, and the relay records its position in the store only after the
commit: a process killed between the two would publish the batch again on restart (the same event ids,
twice on the topic). On a start, and after a failure, the relay therefore reads the last committed record
of each partition of its topics (read_committed: an aborted or still open transaction is not there) and,
if one is ahead of the recorded position and is one of its own store's events, records that position
first (`OutboxRelay._resume`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from .settings import KafkaSettings

POSITION_HEADER = "outbox_position"
FIRST_WINDOW = 64  # offsets read back from a partition's end; grown eightfold while no record carries the header


@dataclass(frozen=True, order=True)
class Committed:
    """The last committed record with a position: the notification id it was published for, its event id."""

    position: int
    event_id: str


async def committed_tail(settings: KafkaSettings, topics: Sequence[str], timeout_s: float = 20.0) -> Committed | None:
    """The committed record with the highest position among the last ones of every partition of `topics`
    (None: no record carries a position). Raises when the broker does not answer within `timeout_s`."""
    from .kafka import topic_partitions  # kafka.py imports the producer, which imports this module

    tps = await topic_partitions(settings, topics)
    if not tps:
        return None
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    try:
        consumer.assign(tps)
        begins = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)  # read_committed: the last stable offset
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        found = [await _last(consumer, tp, begins[tp], ends[tp], deadline) for tp in tps]
    finally:
        await consumer.stop()
    return max((c for c in found if c is not None), default=None)


async def _last(consumer: AIOKafkaConsumer, tp: TopicPartition, begin: int, end: int, deadline: float) -> Committed | None:
    loop = asyncio.get_running_loop()
    window = FIRST_WINDOW
    while end > begin:
        start = max(begin, end - window)
        consumer.seek(tp, start)
        last: Committed | None = None
        while await consumer.position(tp) < end:
            if loop.time() > deadline:
                raise TimeoutError(f"reading the end of {tp.topic}[{tp.partition}]")
            for r in (await consumer.getmany(tp, timeout_ms=500)).get(tp, []):
                position = dict(r.headers or ()).get(POSITION_HEADER)
                if r.offset < end and position is not None and r.value is not None:
                    last = Committed(int(position), str(json.loads(r.value)["event_id"]))
        if last is not None or start == begin:
            return last
        window *= 8
    return None
