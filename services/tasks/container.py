"""The tasks service's composition root (built by `bootstrap.py`, the only wiring): the service's one
database (event store and read models: the task, follow-up and ticket rows are folded in the events'
transactions), the pipeline the faust engine feeds and the outbox relay (publishes from memory after each
commit)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.api import create_app
from shared.runtime.audit import audit_emitter
from shared.runtime.container import AccessDirectoryWiring
from shared.runtime.db import add_missing_columns
from shared.runtime.idempotency import idempotency_store
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.logging import get_logger
from shared.runtime.outbox import OutboxRelay
from shared.runtime.pipeline import Pipeline
from shared.runtime.projection import rebuild_from_store
from shared.runtime.service import Check, Component
from shared.runtime.streams import FaustDriver

from .application import TasksApplication
from .consumers import GROUP
from .projections import tables
from .settings import TasksSettings

log = get_logger("tasks")


@dataclass
class Container(AccessDirectoryWiring):
    SERVICE = "tasks"
    settings: TasksSettings
    app: TasksApplication
    engine: Engine
    sessions: sessionmaker[Session]
    producer: EventProducer
    relay: OutboxRelay
    pipeline: Pipeline
    input_topics: list[str]
    _admin: AIOKafkaAdminClient | None = field(default=None, repr=False)
    _api: FastAPI | None = field(default=None, repr=False)

    # -- lifecycle --------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Read-model tables (the event store creates its own tables when the application starts); before the
        first recording, whose transaction writes rows into them."""
        tables.metadata.create_all(self.engine)
        add_missing_columns(self.engine, tables.tasks)  # campaign_id, event_key
        add_missing_columns(self.engine, tables.follow_ups)  # source, duration_s (captured calls and SMS)
        self.migrate_directory()
        self.app.process_recorder.max_tracking_id("migrate")  # touches the event-store tables
        log.info("tasks_migrated")

    def rebuild_read_model(self) -> int:
        """Empty the tables folded from the event store (tasks, follow-ups, tickets, timelines) and replay the
        store into them through the fold the events' transactions run, in one transaction (same rows as
        before). Run with the workers stopped (`python -m services.tasks rebuild`). The customer cards come
        from crm.customer.events and crm.assignment.events, not from the store, and are left as they are."""
        fold = self.app.read_model
        assert fold is not None, "bootstrap sets the read-model fold"
        n = rebuild_from_store(self.app, self.sessions, list(tables.STORE_TABLES), fold)
        log.info("read_model_rebuilt", events=n)
        return n

    def wake(self) -> None:
        self.relay.wake()

    def faust_component(self) -> FaustDriver:
        s = self.settings
        # the consumer group id; tests get their own via the topic prefix
        return FaustDriver(s.kafka, self.pipeline, group=f"{s.kafka.topic_prefix}{GROUP}", topics=self.input_topics,
                           client_id="tasks-engine", batch_size=s.consumer_batch_size,
                           window_s=s.batch_window_ms / 1000, rebalance_timeout_s=s.faust_rebalance_timeout_s,
                           commit_interval_s=s.faust_commit_interval_s, datadir=s.faust_datadir)

    async def start(self, *, worker: bool) -> list[Component]:
        if not worker:
            return []
        # Development convenience (production declares topics as KafkaTopic resources): our own output
        # and dead-letter topics, and the input topics so the engine can join before upstream publishes.
        kafka = self.settings.kafka
        await ensure_topics(kafka, [kafka.topic(topics.CRM_TASKS), kafka.topic(topics.dead_letter_topic("tasks")),
                                    *self.input_topics, *self.directory_topics()])
        await self.producer.start()
        return [self.relay, self.faust_component(), *self.directory_components(self.producer)]

    async def stop(self) -> None:
        self.pipeline.close()
        await self.producer.stop()
        if self._admin is not None:
            await self._admin.close()
            self._admin = None
        await asyncio.to_thread(self.engine.dispose)
        self.app.close()

    # -- API --------------------------------------------------------------------------------------
    def readiness(self, *, worker: bool = False) -> list[Check]:
        async def database() -> None:
            def ping() -> None:
                with self.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                self.app.process_recorder.max_tracking_id("readyz")

            await asyncio.to_thread(ping)

        async def broker() -> None:
            if self._admin is None:
                admin = AIOKafkaAdminClient(**self.settings.kafka.client_kwargs())
                await asyncio.wait_for(admin.start(), timeout=5)
                self._admin = admin
            await asyncio.wait_for(self._admin.list_topics(), timeout=5)

        return [database, broker]

    @property
    def api(self) -> FastAPI:
        if self._api is not None:
            return self._api
        from .api import captures, comments, followups, tasks, tickets

        app = create_app(service="tasks", auth=self.settings.auth, readiness=self.readiness(),
                         title="Whale CRM — tasks", max_body_bytes=self.settings.max_body_bytes,
                         idempotency=idempotency_store(self.engine, self.settings),
                         access_directory=self.access_directory,
                         audit=audit_emitter("tasks", self.settings, self.engine))
        app.state.container = self
        for module in (captures, tasks, followups, tickets, comments):
            app.include_router(module.router)
        self._api = app
        return app
