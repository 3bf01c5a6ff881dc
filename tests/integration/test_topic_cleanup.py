"""Deleting a prefix's topics (the test session's cleanup, `ops topics delete`) leaves every other topic; an empty
prefix deletes nothing."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from shared.runtime.kafka import delete_topics_with_prefix, ensure_topics
from shared.runtime.settings import KafkaSettings
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


async def topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_deleting_a_prefix_deletes_its_topics_and_no_other(kafka_bootstrap, poll):
    gone, kept = f"c{uuid.uuid4().hex[:8]}.", f"c{uuid.uuid4().hex[:8]}."
    for prefix in (gone, kept):
        await ensure_topics(KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=prefix),
                            [f"{prefix}a", f"{prefix}b"], partitions=1)
    assert {f"{gone}a", f"{gone}b", f"{kept}a", f"{kept}b"} <= await topics(kafka_bootstrap)

    settings = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    assert await delete_topics_with_prefix(settings, [""]) == 0
    assert await delete_topics_with_prefix(settings, [gone]) == 2

    async def deleted():
        now = await topics(kafka_bootstrap)
        return not any(t.startswith(gone) for t in now) and {f"{kept}a", f"{kept}b"} <= now

    assert await poll(deleted)
    ops = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ops", "topics", "delete", "--prefix", kept, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap})
    out, _ = await ops.communicate()
    assert ops.returncode == 0 and json.loads(out) == {"deleted": 2, "prefixes": [kept]}
    refused = await asyncio.create_subprocess_exec(sys.executable, "-m", "ops", "topics", "delete", "--prefix", "",
                                                   cwd=ROOT, stderr=asyncio.subprocess.DEVNULL)
    assert await refused.wait() == 2
