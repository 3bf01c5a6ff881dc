"""Local topic creation (`ensure_topics`, development and tests) gives our topics the retention of the one
policy the KafkaTopic manifests follow (`shared.events.topics.retention_ms`), on the real broker."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.events import topics
from shared.runtime.kafka import ensure_topics

pytestmark = pytest.mark.asyncio
TOPIC_OVERRIDE = 1  # DescribeConfigs config source DYNAMIC_TOPIC_CONFIG: set on the topic itself


async def test_ensure_topics_creates_ours_with_the_policys_retention(kafka_settings):
    ours = [topics.TRADING, topics.PROFILE, topics.CRM_USERCRM, topics.CRM_USERCRM_REQUESTS,
            topics.dead_letter_topic("usercrm")]
    names = [kafka_settings.topic(t) for t in ours] + [kafka_settings.topic("scratch.not-ours")]
    await ensure_topics(kafka_settings, names)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_settings.bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
    finally:
        await admin.close()
    got = {}
    for response in described:
        for resource in response.resources:
            name, configs = resource[3], resource[4]
            got[name] = {c[0]: (c[1], c[3]) for c in configs}  # name -> (value, config source)
    for t in ours:
        value, source = got[kafka_settings.topic(t)]["retention.ms"]
        assert int(value) == topics.retention_ms(t) and source == TOPIC_OVERRIDE, t
    assert topics.retention_ms(topics.TRADING) == 30 * topics.DAY_MS
    assert topics.retention_ms(topics.CRM_USERCRM) == -1
    assert got[kafka_settings.topic("scratch.not-ours")]["retention.ms"][1] != TOPIC_OVERRIDE  # broker's default
