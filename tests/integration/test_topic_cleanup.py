"""The test session's topic cleanup (tests/conftest.py): deleting a prefix's topics leaves every other topic."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from shared.runtime.kafka import ensure_topics
from shared.runtime.settings import KafkaSettings
from tests.conftest import delete_prefixed_topics

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

    assert await delete_prefixed_topics(kafka_bootstrap, [gone]) == 2

    async def deleted():
        now = await topics(kafka_bootstrap)
        return not any(t.startswith(gone) for t in now) and {f"{kept}a", f"{kept}b"} <= now

    assert await poll(deleted)
    assert await delete_prefixed_topics(kafka_bootstrap, [kept]) == 2
