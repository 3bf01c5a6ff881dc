"""Upstream topics the KYC service consumes, into its aggregates (exactly-once via event-store tracking).

- brokerage.account `account.application_submitted`: opens a case, or reopens it on resubmission;
- brokerage.kyc `kyc.identity_verified`: the platform's ID check (ID country for risk and completion).
Other event types on these topics are valid and ignored; undecodable ones are dead-lettered by the kit.
"""

from __future__ import annotations

import asyncio

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


class KycBatchConsumer(BatchConsumer):
    """Work-around for the runtime kit: aiokafka's `start()` waits for the first partition assignment, so
    the kit's seek-to-stored-positions listener runs while `BatchConsumer._consumer` is still None and does
    nothing; the consumer then resumes from Kafka's committed offsets instead of the positions stored with
    the effects (a rebuild into a fresh event store would skip everything; a crash between the store commit
    and the Kafka commit would re-deliver a batch whose tracking record already exists). Seek here, after
    start, before the first fetch is consumed. Later rebalances go through the kit's listener as intended."""

    async def start(self) -> None:
        await super().start()
        consumer = self._consumer
        assert consumer is not None
        stored = await asyncio.to_thread(self.handler.positions)
        for tp in consumer.assignment():
            pos = stored.get((tp.topic, tp.partition))
            if pos is not None:
                consumer.seek(tp, pos)
            else:
                await consumer.seek_to_beginning(tp)


def upstream_consumer(
    app: KycApplication, settings: KycSettings, producer: EventProducer, on_applied=None
) -> BatchConsumer:  # type: ignore[no-untyped-def]
    return KycBatchConsumer(
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
