"""The one consumer: `crm.audit.records` into the hash chain (the kit's pipeline: decode, dead-letter what is
malformed or unknown, de-duplicate by record id, apply every partition's batch in one transaction)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from shared.events import Event, topics
from shared.runtime.db import Tracker
from shared.runtime.handlers import SqlBatchHandler
from shared.runtime.kafka import BatchConsumer, EventProducer

from .projections.store import append
from .projections.tables import consumer_position, processed_event
from .settings import AuditSettings

GROUP_ID = "whale-audit"
CONSUMER = "audit-records"


def apply_records(session: Session, events: list[Event]) -> None:
    append(session, events)


def records_handler(sessions: sessionmaker[Session]) -> SqlBatchHandler:
    return SqlBatchHandler(sessions, Tracker(consumer_position, processed_event, CONSUMER), apply_records,
                           name=CONSUMER)


def records_consumer(settings: AuditSettings, handler: SqlBatchHandler, producer: EventProducer, *,
                     group_id: str = GROUP_ID) -> BatchConsumer:
    k = settings.kafka
    return BatchConsumer(settings=k, service="audit", group_id=k.topic_prefix + group_id,  # tests: a group of their own
                         topics=[k.topic(topics.CRM_AUDIT)], handler=handler, producer=producer,
                         dead_letter_topic=k.topic(topics.dead_letter_topic("audit")),
                         batch_size=settings.consumer_batch_size, retries=settings.consumer_retries)
