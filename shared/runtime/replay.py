"""Rebuilding consumer-fed read models by replay: consume the topics from the positions stored with the
effects (emptied beforehand) up to the topics' ends as they were when the replay started."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from .kafka import BatchConsumer, topic_partitions
from .settings import KafkaSettings


async def end_offsets(settings: KafkaSettings, topics: Sequence[str]) -> dict[tuple[str, int], int]:
    """Current end offset of every partition of `topics` (topics that do not exist have none)."""
    tps = await topic_partitions(settings, topics)
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps) if tps else {}
        return {(tp.topic, tp.partition): off for tp, off in ends.items()}
    finally:
        await consumer.stop()


async def group_offsets(settings: KafkaSettings, group_id: str) -> dict[tuple[str, int], int]:
    """The offsets a consumer group committed (none for a group that never committed)."""
    admin = AIOKafkaAdminClient(**settings.client_kwargs())
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


def at_end(stored: dict[tuple[str, int], int], committed: dict[tuple[str, int], int],
           ends: dict[tuple[str, int], int]) -> bool:
    """Every partition applied up to `ends`: by the positions stored with the effects or, where the partition
    ends with transaction markers (which no stored position passes), by the consumer's commits past them."""
    return all(max(stored.get(k, 0), committed.get(k, 0)) >= v for k, v in ends.items() if v > 0)


async def replay_to_end(consumer: BatchConsumer, positions: Callable[[], dict[tuple[str, int], int]], *,
                        settings: KafkaSettings, timeout_s: float = 3600.0, check_s: float = 0.2) -> int:
    """Run `consumer` until `positions()` (read from the read model) reach today's end of its topics; returns
    how many events it applied. Use a fresh group id: the stored positions, not the group's, decide."""
    ends = await end_offsets(settings, consumer.topics)
    task = asyncio.create_task(consumer.run())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    try:
        while True:
            stored = await asyncio.to_thread(positions)
            if at_end(stored, consumer.committed_positions(), ends):
                return consumer.applied_count
            if task.done():
                task.result()
                raise RuntimeError("consumer stopped before catching up")
            if loop.time() > deadline:
                raise TimeoutError("replay did not reach the end of the topics in time")
            await asyncio.sleep(check_s)  # polling the stored positions under the deadline above
    finally:
        await consumer.stop()
        await task
