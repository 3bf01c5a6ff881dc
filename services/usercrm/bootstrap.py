"""Wiring: `bootstrap(settings) -> Container`. Nothing connects at import time; tests pass their own settings."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.commands import guard_outgoing
from shared.runtime.db import make_engine, session_factory
from shared.runtime.eventstore import build_application
from shared.runtime.handlers import EventSourcedBatchHandler, SqlBatchHandler
from shared.runtime.kafka import BatchConsumer, EventProducer, broker_reachable, ensure_topics
from shared.runtime.outbox import OutboxRelay
from shared.runtime.projection import ProjectionRunner
from shared.runtime.replay import replay_to_end

from . import consumers as cons
from .application import UsercrmApplication
from .domain.request import UserRequest
from .outbox import UsercrmOutboxMapper, checking_mapper
from .projections import tables as t
from .projections.requests import RequestProjection
from .settings import UsercrmSettings

SERVICE = "usercrm"
PROJECTION_NAME = "usercrm-requests"


@dataclass
class Container:
    settings: UsercrmSettings
    app: UsercrmApplication
    engine: Engine
    sessions: sessionmaker[Session]
    projection: ProjectionRunner
    extra: dict[str, Any] = field(default_factory=dict)

    # -------------------------------------------------------------------------------- stores
    def migrate(self) -> None:
        t.metadata.create_all(self.engine)

    def request_at(self, key: uuid.UUID, version: int) -> UserRequest:
        return self.app.repository.get(key, version=version)

    @cached_property
    def info_handler(self) -> SqlBatchHandler:
        return cons.info_handler(self.sessions)

    @cached_property
    def answers_handler(self) -> EventSourcedBatchHandler:
        return cons.answers_handler(self.app, self.settings)

    # -------------------------------------------------------------------------------- components
    @cached_property
    def producer(self) -> EventProducer:
        return EventProducer(self.settings.kafka, client_id=SERVICE)

    @cached_property
    def relay(self) -> OutboxRelay:
        return OutboxRelay(self.app, self.producer, UsercrmOutboxMapper(self.request_at), service=SERVICE,
                           batch_size=self.settings.relay_batch_size,
                           interval_s=self.settings.relay_interval_ms / 1000)

    def info_consumer(self, group_id: str = cons.INFO_CONSUMER) -> BatchConsumer:
        return cons.consumer(self.settings, self.producer, self.info_handler, group_id=group_id,
                             topic_names=cons.info_topics(self.settings))

    def answers_consumer(self) -> BatchConsumer:
        return cons.consumer(self.settings, self.producer, self.answers_handler, group_id=cons.ANSWERS_CONSUMER,
                             topic_names=cons.answer_topics(self.settings), on_applied=self.projection.wake)

    @cached_property
    def api(self) -> FastAPI:
        from .api.app import create_api

        return create_api(self)

    async def ensure_topics(self) -> None:
        k = self.settings.kafka
        await ensure_topics(k, [*cons.info_topics(self.settings), *cons.answer_topics(self.settings),
                                k.topic(topics.CRM_USERCRM), k.topic(topics.CRM_USERCRM_REQUESTS),
                                cons.dead_letter_topic(self.settings)])

    async def start_producer(self) -> None:
        await self.producer.start()

    def worker_components(self) -> list[Any]:
        return [self.info_consumer(), self.answers_consumer(), self.relay, self.projection]

    async def close(self) -> None:
        if "producer" in self.__dict__:
            await self.producer.stop()
        await asyncio.to_thread(self.engine.dispose)
        await asyncio.to_thread(self.app.close)

    # -------------------------------------------------------------------------------- rebuild
    async def rebuild_read_model(self) -> int:
        """Empty every read model; replay the event store into the request tables and the topics (from the
        start to today's end) into the rest. Run with the worker stopped."""
        with self.sessions.begin() as s:
            for table in (*t.PROJECTION_TABLES, *t.CONSUMER_TABLES):
                s.execute(delete(table))
            s.execute(delete(t.projection_position).where(t.projection_position.c.projection == PROJECTION_NAME))
            s.execute(delete(t.consumer_position).where(t.consumer_position.c.consumer == cons.INFO_CONSUMER))
            s.execute(delete(t.processed_event).where(t.processed_event.c.consumer == cons.INFO_CONSUMER))
        n = await asyncio.to_thread(self.projection.catch_up)
        await self.producer.start()
        consumer = self.info_consumer(group_id=f"{cons.INFO_CONSUMER}-rebuild-{uuid.uuid4().hex[:8]}")
        n += await replay_to_end(consumer, self.info_handler.positions, settings=self.settings.kafka)
        return n

    # -------------------------------------------------------------------------------- readiness
    def check_database(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        self.app.process_recorder.max_notification_id()

    async def check_broker(self) -> None:
        await broker_reachable(self.settings.kafka)


def bootstrap(settings: UsercrmSettings | None = None, *, migrate: bool = True) -> Container:
    settings = settings or UsercrmSettings()
    app = build_application(UsercrmApplication, settings.eventstore_url)
    app.rules = settings.approval_rules()
    guard_outgoing(app, checking_mapper(lambda key, version: app.repository.get(key, version=version)),
                   service=SERVICE)
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    projection = ProjectionRunner(app, sessions, t.projection_position, RequestProjection(), name=PROJECTION_NAME,
                                  service=SERVICE)
    container = Container(settings=settings, app=app, engine=engine, sessions=sessions, projection=projection)
    if migrate:
        container.migrate()
    return container
