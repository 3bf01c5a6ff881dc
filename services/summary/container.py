"""The summary service's composition root (built by `bootstrap.py`, the only wiring): the service's one
database (read models and the event store of daily reports and changelog, whose rows are folded in the
events' transactions), the consumer of the four crm topics and the API. The event store is opened on first
use."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from shared.runtime.container import AccessDirectoryWiring
from shared.runtime.db import add_missing_columns
from shared.runtime.eventstore import build_application
from shared.runtime.handlers import SqlBatchHandler
from shared.runtime.kafka import BatchConsumer, EventProducer, ensure_topics
from shared.runtime.service import Check, Component

from .application import SummaryApplication
from .consumers import CONSUMER, consumed_topics, dead_letter_topic, fact_handler
from .projections import tables as t
from .projections.reports import apply_own_events
from .settings import SummarySettings

SERVICE = "summary"


@dataclass
class Container(AccessDirectoryWiring):
    SERVICE = SERVICE
    settings: SummarySettings
    engine: Engine
    sessions: sessionmaker[Session]
    _extra: dict[str, Any] = field(default_factory=dict)

    # -- stores -----------------------------------------------------------------------------------------
    @cached_property
    def app(self) -> SummaryApplication:
        app = build_application(SummaryApplication, self.settings.database_url)
        app.read_model = apply_own_events  # report and changelog rows written in the events' transaction
        return app

    @cached_property
    def handler(self) -> SqlBatchHandler:
        return fact_handler(self.settings, self.sessions)

    def migrate(self) -> None:
        t.metadata.create_all(self.engine)  # first: the application's first recording writes report rows
        for table in (t.customer_history, t.fact):  # attribution shares (assignment share, conversion credits)
            add_missing_columns(self.engine, table)
        _numeric_daily_counts(self.engine)
        self.migrate_directory()
        _ = self.app  # eventsourcing creates its tables when the application is built

    def readiness(self, *, worker: bool = False) -> list[Check]:
        return [self.check_db, self.check_broker]

    async def check_db(self) -> None:
        def ping() -> None:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        await asyncio.to_thread(ping)

    async def check_broker(self) -> None:
        await _broker_ping(self.settings)

    # -- components -------------------------------------------------------------------------------------
    def producer(self) -> EventProducer:
        return EventProducer(self.settings.kafka, client_id=f"{CONSUMER}-dlq")

    def consumer(self, producer: EventProducer, *, group_id: str = CONSUMER) -> BatchConsumer:
        s = self.settings
        return BatchConsumer(
            settings=s.kafka, service=SERVICE, group_id=s.kafka.topic_prefix + group_id, topics=consumed_topics(s), handler=self.handler,
            producer=producer, dead_letter_topic=dead_letter_topic(s), batch_size=s.consumer_batch_size,
            retries=s.consumer_retries,
        )

    @cached_property
    def api(self) -> FastAPI:
        from .api import build_api

        return build_api(self)

    async def start(self, *, worker: bool) -> list[Component]:
        if not worker:
            return []
        w = Worker(self)  # the directory's consumer dead-letters through the worker's producer
        return [w, *self.directory_components(w.producer)]

    async def stop(self) -> None:
        await asyncio.to_thread(self.dispose)

    def dispose(self) -> None:
        self.engine.dispose()
        if "app" in self.__dict__:
            self.app.close()


async def _broker_ping(settings: SummarySettings) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**settings.kafka.client_kwargs())
    await admin.start()
    try:
        await admin.list_topics()
    finally:
        await admin.close()


class Worker:
    """The Kafka consumer, with the dead-letter producer it needs (built inside the running loop: aiokafka
    clients need one)."""

    def __init__(self, c: Container):
        self.c = c
        self.producer = c.producer()
        self.consumer = c.consumer(self.producer)

    async def run(self) -> None:
        if self.c.settings.ensure_topics:
            await ensure_topics(self.c.settings.kafka, [*consumed_topics(self.c.settings),
                                                        dead_letter_topic(self.c.settings),
                                                        *self.c.directory_topics()])
        await self.producer.start()
        try:
            await self.consumer.run()
        finally:
            await self.producer.stop()

    async def stop(self) -> None:
        await self.consumer.stop()


def _numeric_daily_counts(engine: Engine) -> None:
    """`sm_daily_count.n` holds conversions credited by attribution share (fractional): a table created when
    it was an integer is widened in place on PostgreSQL (SQLite stores what it is given). The shares of facts
    counted before come with their customers' next events, or all at once with `rebuild`."""
    if engine.dialect.name != "postgresql":
        return
    kind = next(c["type"] for c in inspect(engine).get_columns(t.daily_count.name) if c["name"] == "n")
    if "NUMERIC" not in str(kind).upper():
        with engine.begin() as conn:
            conn.execute(text(f'ALTER TABLE "{t.daily_count.name}" ALTER COLUMN n TYPE NUMERIC(20, 4)'))
