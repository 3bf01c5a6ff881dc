"""Topic handlers.

- `usercrm-info` (SqlBatchHandler into the intake journal and the read models): the platform's profile, security, banking,
  allocation, account, funding, trading and registration topics, the KYC service's `crm.kyc.events` (the
  Compliance tab) and the assignment service's `crm.assignment.events` (who may see which customer).
- `usercrm-answers` (EventSourcedBatchHandler into the request aggregates): the platform's answers on
  `brokerage.request_results`.
Undecodable events are dead-lettered by the kit; an answer for an unknown or never-sent request too.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.db import Tracker
from shared.runtime.handlers import EventSourcedBatchHandler, SqlBatchHandler
from shared.runtime.kafka import BatchConsumer, EventProducer

from .application import UsercrmApplication
from .projections import tables as t
from .projections.info import HANDLERS, apply_info
from .projections.journal import journaled
from .settings import UsercrmSettings

INFO_CONSUMER = "whale-usercrm"
ANSWERS_CONSUMER = "whale-usercrm-answers"
INFO_TOPICS = (topics.REGISTRATION, topics.KYC, topics.ACCOUNT, topics.FUNDING, topics.TRADING, topics.PROFILE,
               topics.SECURITY, topics.BANKING, topics.ALLOCATION, topics.CHARGES, topics.CRM_KYC,
               topics.CRM_ASSIGNMENT)
ANSWER_TOPICS = (topics.REQUEST_RESULTS,)


def info_topics(settings: UsercrmSettings) -> list[str]:
    return [settings.kafka.topic(name) for name in INFO_TOPICS]


def answer_topics(settings: UsercrmSettings) -> list[str]:
    return [settings.kafka.topic(name) for name in ANSWER_TOPICS]


def dead_letter_topic(settings: UsercrmSettings) -> str:
    return settings.kafka.topic(topics.dead_letter_topic("usercrm"))


def info_handler(sessions: sessionmaker[Session]) -> SqlBatchHandler:
    """Journals each event it uses (`projections/journal.py`) and applies it, with its position, in one
    transaction."""
    return SqlBatchHandler(sessions, Tracker(t.consumer_position, t.processed_event, INFO_CONSUMER),
                           journaled(apply_info, HANDLERS))


def answers_handler(app: UsercrmApplication, settings: UsercrmSettings) -> EventSourcedBatchHandler:
    return EventSourcedBatchHandler(app, ANSWERS_CONSUMER, app.process_answers, answer_topics(settings))


def consumer(settings: UsercrmSettings, producer: EventProducer, handler: SqlBatchHandler | EventSourcedBatchHandler,
             *, group_id: str, topic_names: list[str], on_applied: Callable[[], None] | None = None) -> BatchConsumer:
    return BatchConsumer(
        settings=settings.kafka, service="usercrm", group_id=settings.kafka.topic_prefix + group_id,
        topics=topic_names, handler=handler, producer=producer, dead_letter_topic=dead_letter_topic(settings),
        batch_size=settings.consumer_batch_size, retries=settings.consumer_retries, on_applied=on_applied,
    )
