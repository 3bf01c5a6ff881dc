"""Raw baseline: aiokafka produce and consume rates on the local broker with 1 KB messages."""

from __future__ import annotations

import asyncio
import os
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.runtime.kafka import ensure_topics

from .context import BenchContext

VALUE = os.urandom(512).hex().encode()  # 1 KB


async def produce(bootstrap: str, topic: str, n: int) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    try:
        start = time.perf_counter()
        futures = [await producer.send(topic, VALUE, key=str(i % 1000).encode()) for i in range(n)]
        await asyncio.gather(*futures)
        return n / (time.perf_counter() - start)
    finally:
        await producer.stop()


async def consume(bootstrap: str, topic: str | list[str], n: int) -> float:
    """Raw aiokafka consume rate over `n` records of one topic or several, timed from the first batch."""
    names = [topic] if isinstance(topic, str) else topic
    consumer = AIOKafkaConsumer(*names, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False, max_poll_records=1000,
                                fetch_max_bytes=50 * 1024 * 1024, max_partition_fetch_bytes=10 * 1024 * 1024)
    await consumer.start()
    try:
        got, start = 0, None
        while got < n:
            batch = await consumer.getmany(timeout_ms=1000, max_records=1000)
            if start is None and batch:
                start = time.perf_counter()
            got += sum(len(v) for v in batch.values())
        return got / (time.perf_counter() - (start or time.perf_counter()))
    finally:
        await consumer.stop()


async def main(ctx: BenchContext) -> list[dict]:
    kafka = ctx.kafka
    topic = kafka.topic("bench.raw")
    n = 20_000 if ctx.quick else 200_000
    await ensure_topics(kafka, [topic])
    p_rate = await produce(kafka.bootstrap_servers, topic, n)
    c_rate = await consume(kafka.bootstrap_servers, topic, n)
    ctx.baseline.update(produce_rate=p_rate, consume_rate=c_rate, message_bytes=len(VALUE))
    return [
        {"benchmark": "baseline", "metric": "aiokafka produce (idempotent, acks=all, 1 KB)", "value": p_rate,
         "unit": "msg/s", "note": f"{n:,} messages"},
        {"benchmark": "baseline", "metric": "aiokafka consume (1 KB)", "value": c_rate, "unit": "msg/s",
         "note": f"{n:,} messages"},
    ]
