"""The topics the campaigns service reads: `crm.customer.events`, `crm.assignment.events`, `crm.tasks.events`
and the brokerage's trading topic (asset snapshots) and outreach results, into the audience tables
(`projections/audience.py`), the evaluation facts (`projections/facts.py`) and the execution tracking of the
targets (`projections/tracking.py`) through the kit's SqlBatchHandler (positions and processed event ids in the
same transaction). Event types it does not use are valid and ignored; undecodable ones are dead-lettered by the
kit."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from shared.events import Event, topics
from shared.runtime.db import Tracker
from shared.runtime.handlers import SqlBatchHandler
from shared.runtime.journal import journaled
from shared.runtime.kafka import BatchConsumer, EventProducer

from .projections.audience import apply_audience_facts
from .projections.facts import apply_evaluation_facts
from .projections.tables import intake_journal, position_table, processed_table
from .projections.tracking import PLATFORM_FACTS, apply_tracking_facts
from .settings import CampaignsSettings

CONSUMER = "campaigns-audience"
GROUP_ID = "whale-campaigns"
CONSUMED_TOPICS = (topics.CRM_CUSTOMER, topics.CRM_ASSIGNMENT, topics.CRM_TASKS, topics.TRADING, topics.OUTREACH_RESULTS)


def consumed_topics(settings: CampaignsSettings) -> list[str]:
    return [settings.kafka.topic(name) for name in CONSUMED_TOPICS]


apply_platform_facts = journaled(apply_tracking_facts, PLATFORM_FACTS, intake_journal)


def apply_facts(session: Session, events: list[Event]) -> None:
    apply_audience_facts(session, events)
    apply_evaluation_facts(session, events)
    apply_tracking_facts(session, [e for e in events if not isinstance(e.payload, PLATFORM_FACTS)])
    apply_platform_facts(session, events)  # the outreach results, journaled (the rebuild replays the journal)


def audience_handler(sessions: sessionmaker[Session]) -> SqlBatchHandler:
    return SqlBatchHandler(sessions, Tracker(position_table, processed_table, CONSUMER), apply_facts)


def audience_consumer(settings: CampaignsSettings, handler: SqlBatchHandler, producer: EventProducer, *,
                      group_id: str = GROUP_ID, on_applied: Callable[[], None] | None = None) -> BatchConsumer:
    return BatchConsumer(
        settings=settings.kafka,
        service="campaigns",
        group_id=settings.kafka.topic_prefix + group_id,  # tests: a group of their own, as their topics
        topics=consumed_topics(settings),
        handler=handler,
        producer=producer,
        dead_letter_topic=settings.kafka.topic(topics.dead_letter_topic("campaigns")),
        batch_size=settings.consumer_batch_size,
        retries=settings.consumer_retries,
        on_applied=on_applied,
    )
