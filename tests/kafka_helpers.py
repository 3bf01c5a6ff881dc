"""Kafka helpers shared by the integration tests (the real broker of the test's `kafka_settings`)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer


async def read_topic(kafka_settings: Any, topic: str, expect: int, timeout: float = 20) -> list:
    """The records of `topic` from its start (no consumer group), read until `expect` of them arrived or
    `timeout` seconds passed; the caller asserts on what it got."""
    c = AIOKafkaConsumer(topic, bootstrap_servers=kafka_settings.bootstrap_servers, auto_offset_reset="earliest",
                         enable_auto_commit=False, group_id=None)
    await c.start()
    out: list = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < expect and asyncio.get_running_loop().time() < deadline:
            for recs in (await c.getmany(timeout_ms=200)).values():
                out.extend(recs)
    finally:
        await c.stop()
    return out
