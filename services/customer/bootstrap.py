"""Wiring: settings → event store, read-model database, consumers, outbox relay, projection, API.

Nothing connects at import time; `bootstrap(settings)` builds everything (tests pass their own settings).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from psycopg.types.json import set_json_loads
from sqlalchemy import Engine, create_engine, delete, event, text
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.api import create_app
from shared.runtime.commands import guard_outgoing
from shared.runtime.db import Tracker, make_engine, normalise_url, session_factory
from shared.runtime.eventstore import build_application
from shared.runtime.handlers import SqlBatchHandler
from shared.runtime.kafka import BatchConsumer, EventProducer, ensure_topics
from shared.runtime.outbox import OutboxRelay
from shared.runtime.projection import ProjectionRunner

from .api import export, routes_read, routes_write
from .application import CustomerApplication, IngestCache
from .consumers import UpstreamHandler, apply_assignments
from .domain.customer import Customer
from .outbox import map_event
from .projections.customer_view import make_apply
from .projections.tables import Tables, build_tables
from .settings import CustomerSettings

SERVICE = "customer"
UPSTREAM_GROUP = "whale-customer"
ASSIGNMENT_GROUP = "whale-customer-assignment"
PROJECTION = "customer_view"


@dataclass
class Container:
    settings: CustomerSettings
    tables: Tables
    engine: Engine
    sessions: sessionmaker[Session]
    app: CustomerApplication
    projection: ProjectionRunner
    cache: IngestCache
    read_sessions: sessionmaker[Session]
    producer: EventProducer | None = None
    consumers: list[BatchConsumer] = field(default_factory=list)
    relay: OutboxRelay | None = None
    api: FastAPI | None = None

    # ---- topics -------------------------------------------------------------------------------
    def upstream_topics(self) -> list[str]:
        return [self.settings.kafka.topic(t) for t in topics.UPSTREAM_TOPICS]

    def assignment_topic(self) -> str:
        return self.settings.kafka.topic(topics.CRM_ASSIGNMENT)

    def dead_letter_topic(self) -> str:
        return self.settings.kafka.topic(topics.dead_letter_topic(SERVICE))

    # ---- schema -------------------------------------------------------------------------------
    def migrate(self) -> None:
        self.tables.metadata.create_all(self.engine)

    def rebuild_read_model(self) -> int:
        """Empty the tables built from the event store, reset the projection, replay it. Run it with the
        worker stopped (`python -m services.customer rebuild`): one projection writer at a time."""
        with self.sessions.begin() as s:
            for table in self.tables.read_model:
                s.execute(delete(table))
            s.execute(delete(self.tables.projection_position).where(
                self.tables.projection_position.c.projection == PROJECTION))
        return self.projection.catch_up()

    # ---- worker -------------------------------------------------------------------------------
    def build_worker(self) -> None:
        s = self.settings
        self.producer = EventProducer(s.kafka, client_id=f"{SERVICE}-worker")
        upstream = self.upstream_topics()
        # The topic prefix (empty in production) also isolates the groups of tests and benchmarks that share
        # a broker: members of one group id on different topics would still rebalance each other.
        up_group = s.kafka.topic_prefix + UPSTREAM_GROUP + s.consumer_group_suffix
        as_group = s.kafka.topic_prefix + ASSIGNMENT_GROUP + s.consumer_group_suffix

        def wake() -> None:
            self.projection.wake()
            if self.relay:
                self.relay.wake()

        self.consumers = [
            BatchConsumer(settings=s.kafka, service=SERVICE, group_id=up_group, topics=upstream,
                          handler=UpstreamHandler(self.app, UPSTREAM_GROUP, upstream, self.cache),
                          producer=self.producer, dead_letter_topic=self.dead_letter_topic(),
                          batch_size=s.consumer_batch_size, retries=s.consumer_retries, on_applied=wake),
            BatchConsumer(settings=s.kafka, service=SERVICE, group_id=as_group,
                          topics=[self.assignment_topic()],
                          handler=SqlBatchHandler(self.sessions, Tracker(self.tables.consumer_position,
                                                                         self.tables.processed_event,
                                                                         ASSIGNMENT_GROUP),
                                                  apply_assignments(self.tables)),
                          producer=self.producer, dead_letter_topic=self.dead_letter_topic(),
                          batch_size=s.consumer_batch_size, retries=s.consumer_retries),
        ]
        self.relay = OutboxRelay(self.app, self.producer, map_event, service=SERVICE,
                                 batch_size=s.relay_batch_size, interval_s=s.relay_interval_ms / 1000)

    async def start_worker(self) -> list[Any]:
        """Start the producer, make sure the topics exist, return the components to run."""
        if self.producer is None:
            self.build_worker()
        assert self.producer is not None and self.relay is not None
        await ensure_topics(self.settings.kafka, [*self.upstream_topics(), self.assignment_topic(),
                                                  self.settings.kafka.topic(topics.CRM_CUSTOMER),
                                                  self.dead_letter_topic()])
        await self.producer.start()
        return [*self.consumers, self.relay, self.projection]

    async def stop_worker(self) -> None:
        for c in self.consumers:
            await c.stop()
        if self.relay:
            await self.relay.stop()
        await self.projection.stop()

    async def close(self) -> None:
        if self.producer:
            await self.producer.stop()
        await asyncio.to_thread(self.app.close)
        self.engine.dispose()
        self.read_sessions.kw["bind"].dispose()

    # ---- readiness ----------------------------------------------------------------------------
    def readiness(self, *, broker: bool) -> list[Any]:
        async def database() -> None:
            def ping() -> None:
                with self.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            await asyncio.to_thread(ping)

        async def eventstore() -> None:
            await asyncio.to_thread(self.app.process_recorder.max_notification_id)

        async def kafka() -> None:
            from aiokafka.admin import AIOKafkaAdminClient

            admin = AIOKafkaAdminClient(**self.settings.kafka.client_kwargs())
            await asyncio.wait_for(admin.start(), timeout=5)
            await admin.close()

        return [database, eventstore, *([kafka] if broker else [])]


def read_engine(url: str, engine: Engine) -> Engine:
    """The API's read-only engine. On PostgreSQL: autocommit (no BEGIN/ROLLBACK round trips around each
    query) and no pre-ping (no extra SELECT 1 per checkout); a read that meets a dropped connection is
    retried once by `api.deps.read`, which is safe because reads are idempotent. SQLite: the main engine."""
    if engine.dialect.name != "postgresql":
        return engine
    reader = create_engine(normalise_url(url), pool_size=10, max_overflow=10, pool_pre_ping=False,
                           pool_recycle=300, isolation_level="AUTOCOMMIT")

    @event.listens_for(reader, "connect")
    def _json_loads(dbapi_connection: Any, _record: Any) -> None:
        set_json_loads(_loads, dbapi_connection)

    return reader


def _loads(data: Any) -> Any:
    """JSON column values: the empty object/array (most rows' deposits, tags) without a parse."""
    raw = bytes(data)
    if raw == b"{}":
        return {}
    if raw == b"[]":
        return []
    return json.loads(raw.decode())


def build_api(container: Container) -> FastAPI:
    app = create_app(service=SERVICE, auth=container.settings.auth, readiness=container.readiness(broker=False),
                     title="Whale CRM — customer",
                     max_body_bytes=container.settings.max_body_bytes)
    app.state.container = container
    app.include_router(export.router)  # before the /customers/{customer_id} routes
    app.include_router(routes_read.router)
    app.include_router(routes_write.router)
    return app


def bootstrap(settings: CustomerSettings | None = None, *, migrate: bool = True) -> Container:
    settings = settings or CustomerSettings()
    app = build_application(CustomerApplication, settings.eventstore_url)
    guard_outgoing(app, map_event, service=SERVICE)
    app.snapshotting_intervals = {Customer: settings.snapshot_interval}  # type: ignore[misc]
    tables = build_tables()
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    read_sessions = session_factory(read_engine(settings.database_url, engine))
    projection = ProjectionRunner(app, sessions, tables.projection_position, make_apply(tables), name=PROJECTION,
                                  service=SERVICE, batch_size=settings.projection_batch_size)
    container = Container(settings, tables, engine, sessions, app, projection,
                          IngestCache(settings.aggregate_cache_size), read_sessions)
    if migrate:
        container.migrate()
    container.api = build_api(container)
    return container
