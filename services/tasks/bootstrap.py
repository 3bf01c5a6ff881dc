"""Wiring: `bootstrap(settings) -> Container`. Nothing connects at import time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI
from sqlalchemy import Engine, delete, event, text
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.api import create_app
from shared.runtime.commands import guard_outgoing
from shared.runtime.db import Tracker, make_engine, session_factory
from shared.runtime.eventstore import build_application
from shared.runtime.kafka import EventProducer
from shared.runtime.logging import get_logger
from shared.runtime.outbox import OutboxRelay
from shared.runtime.pipeline import Pipeline
from shared.runtime.projection import ProjectionRunner
from shared.runtime.service import HttpServer
from shared.runtime.streams import FaustDriver

from .application import TasksApplication
from .consumers import GROUP, INPUT_TOPICS, EngineHandler, cards_handler
from .domain.nodes import Policy
from .outbox import to_messages
from .projections import tables
from .projections.readmodel import apply_stored_events
from .settings import TasksSettings

log = get_logger("tasks")


@dataclass
class Container:
    settings: TasksSettings
    app: TasksApplication
    engine: Engine
    sessions: sessionmaker[Session]
    producer: EventProducer
    relay: OutboxRelay
    projection: ProjectionRunner
    pipeline: Pipeline
    input_topics: list[str]
    _admin: AIOKafkaAdminClient | None = field(default=None, repr=False)
    _api: FastAPI | None = field(default=None, repr=False)

    # -- lifecycle --------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Read-model tables (the event store creates its own tables when the application starts)."""
        tables.metadata.create_all(self.engine)
        self.app.process_recorder.max_tracking_id("migrate")  # touches the event-store tables
        log.info("tasks_migrated")

    def rebuild_read_model(self) -> int:
        """Empty the tables projected from the event store (tasks, follow-ups, tickets, timelines), reset the
        projection and replay it. Run with the worker stopped. The customer cards come from
        crm.customer.events, not from the event store, and are left as they are."""
        with self.sessions.begin() as s:
            for table in (tables.tasks, tables.follow_ups, tables.tickets, tables.ticket_timeline):
                s.execute(delete(table))
            s.execute(delete(tables.projection_position).where(
                tables.projection_position.c.projection == self.projection.name))
        n = self.projection.catch_up()
        log.info("read_model_rebuilt", events=n)
        return n

    def wake(self) -> None:
        self.projection.wake()
        self.relay.wake()

    def faust_component(self) -> FaustDriver:
        s = self.settings
        # the consumer group id; tests get their own via the topic prefix
        return FaustDriver(s.kafka, self.pipeline, group=f"{s.kafka.topic_prefix}{GROUP}", topics=self.input_topics,
                           client_id="tasks-engine", batch_size=s.consumer_batch_size,
                           window_s=s.batch_window_ms / 1000, rebalance_timeout_s=s.faust_rebalance_timeout_s,
                           commit_interval_s=s.faust_commit_interval_s, datadir=s.faust_datadir)

    def worker_components(self, *, health: bool = True) -> list[Any]:
        components: list[Any] = [_Started(self.producer), self.relay, self.projection, self.faust_component()]
        if health:
            health_app = create_app(service="tasks-worker", auth=self.settings.auth, readiness=self.readiness())
            components.append(HttpServer(health_app, self.settings.api_host, self.settings.worker_health_port))
        return components

    def api_components(self) -> list[Any]:
        return [HttpServer(self.api(), self.settings.api_host, self.settings.api_port)]

    async def close(self) -> None:
        self.pipeline.close()
        await self.producer.stop()
        if self._admin is not None:
            await self._admin.close()
            self._admin = None
        await asyncio.to_thread(self.engine.dispose)
        self.app.close()

    # -- API --------------------------------------------------------------------------------------
    def readiness(self) -> list[Callable[[], Awaitable[None]]]:
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

    def api(self) -> FastAPI:
        if self._api is not None:
            return self._api
        from .api import comments, followups, tasks, tickets

        app = create_app(service="tasks", auth=self.settings.auth, readiness=self.readiness(),
                         title="Whale CRM — tasks", max_body_bytes=self.settings.max_body_bytes)
        app.state.container = self
        for module in (tasks, followups, tickets, comments):
            app.include_router(module.router)
        self._api = app
        return app


class LazyProducer(EventProducer):
    """An `EventProducer` whose Kafka client is only created when started (so `migrate` and `api`, which
    never publish, do not leave an unclosed client behind)."""

    def __init__(self, settings: Any, *, client_id: str):  # noqa: D107 - deliberately no super().__init__ yet
        self.settings, self._client_id, self._started = settings, client_id, False
        self._producer = None  # type: ignore[assignment]

    async def start(self) -> None:
        if self._producer is None:
            EventProducer.__init__(self, self.settings, client_id=self._client_id)
        await super().start()


class _Started:
    """Starts the shared producer before the relay and the processor need it; stops it last."""

    def __init__(self, producer: EventProducer):
        self.producer = producer
        self._stop = asyncio.Event()

    async def run(self) -> None:
        await self.producer.start()
        await self._stop.wait()

    async def stop(self) -> None:
        self._stop.set()


def _async_commit(engine: Engine) -> None:
    """Read models only: every read-model transaction stores its position with its rows, and every
    effect is idempotent, so losing the last commits in a PostgreSQL crash only means re-applying them.
    (The event store — the source of truth and the outbox — keeps synchronous commits.)"""

    @event.listens_for(engine, "connect")
    def _set(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        with dbapi_conn.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
        dbapi_conn.commit()


def bootstrap(settings: TasksSettings | None = None) -> Container:
    settings = settings or TasksSettings()
    kafka = settings.kafka
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "postgresql" and settings.readmodel_async_commit:
        _async_commit(engine)
    sessions = session_factory(engine)
    app = build_application(TasksApplication, settings.eventstore_url)
    guard_outgoing(app, to_messages, service="tasks")
    app.policy = Policy(due_hours=dict(settings.due_hours),
                        large_withdrawal_thresholds=dict(settings.large_withdrawal_thresholds))
    producer = LazyProducer(kafka, client_id="tasks")
    relay = OutboxRelay(app, producer, to_messages, service="tasks", batch_size=settings.relay_batch_size,
                        interval_s=settings.relay_interval_ms / 1000)
    projection = ProjectionRunner(app, sessions, tables.projection_position, apply_stored_events,
                                  name="tasks-readmodel", service="tasks", interval_s=0.05)
    input_topics = [kafka.topic(t) for t in INPUT_TOPICS]
    handlers = [
        cards_handler(sessions, Tracker(tables.consumer_position, tables.processed_event, f"{GROUP}-cards")),
        EngineHandler(app, f"{GROUP}-engine", input_topics),
    ]

    def applied() -> None:
        projection.wake()
        relay.wake()

    # the engine and the cards write to different databases: in parallel, in the pipeline's own threads
    pipeline = Pipeline(handlers, producer=producer, dead_letter_topic=kafka.topic(topics.dead_letter_topic("tasks")),
                        service="tasks", group=GROUP, attempts=settings.consumer_retries, on_applied=applied,
                        threads=16)
    return Container(settings=settings, app=app, engine=engine, sessions=sessions, producer=producer, relay=relay,
                     projection=projection, pipeline=pipeline, input_topics=input_topics)


@asynccontextmanager
async def running(container: Container, *, worker: bool = True):  # type: ignore[no-untyped-def]
    """Run the worker components in the background (tests, benchmark, `all`)."""
    from shared.runtime.service import run_components

    container.migrate()
    await container.producer.start()
    components = container.worker_components(health=False) if worker else []
    task = asyncio.create_task(run_components(components, install_signals=False)) if components else None
    try:
        yield container
    finally:
        for comp in components:
            await comp.stop()
        if task is not None:
            await asyncio.wait_for(task, timeout=30)
        await container.close()
