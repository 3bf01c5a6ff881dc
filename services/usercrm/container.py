"""The User CRM service's composition root (built by `bootstrap.py`, the only wiring): one database (event
store and read models: the request rows are folded in the events' transactions), the platform-information
and request-answer consumers, outbox relay (publishes from memory after each commit) and API. The producer,
relay, start, stop and readiness are the kit's (`shared.runtime.container.OutboxContainer`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.container import OutboxContainer
from shared.runtime.handlers import EventSourcedBatchHandler, SqlBatchHandler
from shared.runtime.kafka import BatchConsumer
from shared.runtime.projection import rebuild_from_store

from . import consumers as cons
from .application import UsercrmApplication
from .domain.request import UserRequest
from .outbox import UsercrmOutboxMapper
from .projections import journal
from .projections import tables as t
from .projections.info import apply_info
from .settings import UsercrmSettings

SERVICE = "usercrm"


@dataclass
class Container(OutboxContainer):
    SERVICE = SERVICE
    projection = None  # the request rows are folded in the events' transactions (`app.read_model`)
    settings: UsercrmSettings
    app: UsercrmApplication
    engine: Engine
    sessions: sessionmaker[Session]
    extra: dict[str, Any] = field(default_factory=dict)

    def migrate(self) -> None:
        t.metadata.create_all(self.engine)
        self.migrate_directory()

    def request_at(self, key: uuid.UUID, version: int) -> UserRequest:
        return self.app.repository.get(key, version=version)

    def outbox_mapper(self) -> Callable[[Any], Sequence[Any]]:
        return UsercrmOutboxMapper(self.request_at)

    def create_api(self) -> FastAPI:
        from .api.app import create_api

        return create_api(self)

    @cached_property
    def info_handler(self) -> SqlBatchHandler:
        return cons.info_handler(self.sessions)

    @cached_property
    def answers_handler(self) -> EventSourcedBatchHandler:
        return cons.answers_handler(self.app, self.settings)

    def info_consumer(self, group_id: str = cons.INFO_CONSUMER) -> BatchConsumer:
        return cons.consumer(self.settings, self.producer, self.info_handler, group_id=group_id,
                             topic_names=cons.info_topics(self.settings))

    def answers_consumer(self) -> BatchConsumer:
        return cons.consumer(self.settings, self.producer, self.answers_handler, group_id=cons.ANSWERS_CONSUMER,
                             topic_names=cons.answer_topics(self.settings), on_applied=self.wake)

    def topics(self) -> list[str]:
        k = self.settings.kafka
        return [*cons.info_topics(self.settings), *cons.answer_topics(self.settings), k.topic(topics.CRM_USERCRM),
                k.topic(topics.CRM_USERCRM_REQUESTS), cons.dead_letter_topic(self.settings)]

    def worker_components(self) -> list[Any]:
        return [self.info_consumer(), self.answers_consumer(), self.relay]

    def rebuild_read_model(self) -> int:
        """Empty every read model and rebuild it from the service's own stores: the event store into the
        request tables, the intake journal into the rest (the topics are not read: the platform's keep 30
        days, docs/retention.md). Consumer positions and processed ids stay: the journal holds exactly what
        they cover. Run with the worker stopped."""
        with self.sessions.begin() as s:
            for table in t.CONSUMER_TABLES:
                s.execute(delete(table))
        fold = self.app.read_model
        assert fold is not None, "bootstrap sets the read-model fold"
        n = rebuild_from_store(self.app, self.sessions, list(t.PROJECTION_TABLES), fold)  # empties them first
        return n + journal.replay(self.sessions, apply_info)
