"""Topic handlers: one batched consumer over the four `crm.*` topics the summary reads, applying each batch
to the SQL read models with the event-id de-duplication and the positions in the same transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.db import Tracker
from shared.runtime.handlers import SqlBatchHandler

from .projections import tables as t
from .projections.facts import FactProjector
from .settings import SummarySettings

CONSUMER = "whale-summary"
CONSUMED_TOPICS = (topics.CRM_CUSTOMER, topics.CRM_ASSIGNMENT, topics.CRM_TASKS, topics.CRM_KYC)


def consumed_topics(settings: SummarySettings) -> list[str]:
    return [settings.kafka.topic(name) for name in CONSUMED_TOPICS]


def dead_letter_topic(settings: SummarySettings) -> str:
    return settings.kafka.topic(topics.dead_letter_topic("summary"))


def fact_handler(settings: SummarySettings, sessions: sessionmaker[Session]) -> SqlBatchHandler:
    tracker = Tracker(t.position_table, t.processed_table, CONSUMER)
    return SqlBatchHandler(sessions, tracker, FactProjector(settings.tz))
