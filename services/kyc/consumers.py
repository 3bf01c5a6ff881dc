"""Upstream topics the KYC service consumes, into its aggregates (exactly-once via event-store tracking).

- brokerage.account `account.application_submitted`: opens a case, or reopens it on resubmission;
- brokerage.kyc `kyc.identity_verified`: the platform's ID check (ID country for risk and completion).
Other event types on these topics are valid and ignored; undecodable ones are dead-lettered by the kit.
"""

from __future__ import annotations

from shared.events import topics
from shared.runtime.handlers import EventSourcedBatchHandler
from shared.runtime.kafka import BatchConsumer, EventProducer

from .application import KycApplication
from .settings import KycSettings

CONSUMER_NAME = "kyc-upstream"
GROUP_ID = "whale-kyc"


def upstream_topics(settings: KycSettings) -> list[str]:
    return [settings.kafka.topic(topics.ACCOUNT), settings.kafka.topic(topics.KYC)]


def upstream_handler(app: KycApplication, settings: KycSettings) -> EventSourcedBatchHandler:
    return EventSourcedBatchHandler(app, CONSUMER_NAME, app.process_upstream, upstream_topics(settings))


def upstream_consumer(
    app: KycApplication, settings: KycSettings, producer: EventProducer, on_applied=None
) -> BatchConsumer:  # type: ignore[no-untyped-def]
    return BatchConsumer(
        settings=settings.kafka,
        service="kyc",
        group_id=settings.kafka.topic_prefix + GROUP_ID,  # tests: a group of their own, as their topics
        topics=upstream_topics(settings),
        handler=upstream_handler(app, settings),
        producer=producer,
        dead_letter_topic=settings.kafka.topic(topics.dead_letter_topic("kyc")),
        batch_size=settings.consumer_batch_size,
        retries=settings.consumer_retries,
        on_applied=on_applied,
    )
