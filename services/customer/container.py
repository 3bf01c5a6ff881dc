"""The customer service's composition root (built by `bootstrap.py`, the only wiring): one database (event
store and read model, written in one transaction per batch), ingest and assignment consumers, outbox relay
(publishes from memory after each commit) and API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime import journal
from shared.runtime.api import create_app
from shared.runtime.async_reader import AsyncReader
from shared.runtime.audit import audit_emitter
from shared.runtime.container import AccessDirectoryWiring
from shared.runtime.db import Tracker, add_missing_columns
from shared.runtime.handlers import SqlBatchHandler
from shared.runtime.idempotency import idempotency_store
from shared.runtime.kafka import BatchConsumer, EventProducer, ensure_topics
from shared.runtime.leader import LeaderScheduler
from shared.runtime.outbox import OutboxRelay
from shared.runtime.projection import rebuild_from_store
from shared.runtime.service import Check, Component

from .application import CustomerApplication, IngestCache
from .calendar import Reminders
from .consumers import UpstreamHandler, apply_assignments
from .importer import ImportProcesses, ImportRunner
from .matching import Matcher
from .outbox import CustomerOutboxMapper
from .projections.activity import apply_activity
from .projections.tables import Tables
from .projections.wealth import USED, apply_wealth
from .segment_eval import RegistrationSegments, SegmentEvaluator, chained
from .settings import CustomerSettings

SERVICE = "customer"


UPSTREAM_GROUP = "whale-customer"
ASSIGNMENT_GROUP = "whale-customer-assignment"
ACTIVITY_GROUP = "whale-customer-activity"
WEALTH_GROUP = "whale-customer-wealth"  # the wealth calendar's facts (brokerage.wealth, projections/wealth.py)
# The service history the 360 shows comes from these services' events (projections/activity.py).
ACTIVITY_TOPICS = (topics.CRM_TASKS, topics.CRM_KYC, topics.CRM_USERCRM, topics.CRM_CAMPAIGNS)


@dataclass
class Container(AccessDirectoryWiring):
    SERVICE = SERVICE
    settings: CustomerSettings
    tables: Tables
    engine: Engine
    sessions: sessionmaker[Session]
    app: CustomerApplication
    cache: IngestCache
    read_sessions: sessionmaker[Session]
    matcher: Matcher
    producer: EventProducer | None = None
    consumers: list[BatchConsumer] = field(default_factory=list)
    relay: OutboxRelay | None = None
    importer: ImportRunner | None = None
    import_processes: ImportProcesses | None = None  # the import's other workers (PostgreSQL)
    segment_evaluator: SegmentEvaluator | None = None
    reminders: LeaderScheduler | None = None
    async_reader: AsyncReader | None = None  # the list's reads on the event loop (PostgreSQL; bootstrap)

    # ---- topics -------------------------------------------------------------------------------
    def upstream_topics(self) -> list[str]:
        return [self.settings.kafka.topic(t) for t in topics.UPSTREAM_TOPICS]

    def assignment_topic(self) -> str:
        return self.settings.kafka.topic(topics.CRM_ASSIGNMENT)

    def activity_topics(self) -> list[str]:
        return [self.settings.kafka.topic(t) for t in ACTIVITY_TOPICS]

    def wealth_topic(self) -> str:
        return self.settings.kafka.topic(topics.WEALTH)

    def dead_letter_topic(self) -> str:
        return self.settings.kafka.topic(topics.dead_letter_topic(SERVICE))

    # ---- schema -------------------------------------------------------------------------------
    def migrate(self) -> None:
        self.tables.metadata.create_all(self.engine)
        add_missing_columns(self.engine, self.tables.customer)
        add_missing_columns(self.engine, self.tables.import_job)
        add_missing_columns(self.engine, self.tables.activity.follow_up)  # next_follow_up_at came a commit later
        self.migrate_directory()

    def rebuild_read_model(self) -> int:
        """Replay the event store into the emptied tables it builds, in one transaction, with the fold the
        service runs in the events' transactions. Run it with the worker stopped
        (`python -m services.customer rebuild`)."""
        fold = self.app.read_model
        assert fold is not None, "bootstrap sets the read-model fold"
        n = rebuild_from_store(self.app, self.sessions, self.tables.read_model, fold,
                               batch_size=self.settings.projection_batch_size)
        w = self.tables.wealth  # the wealth facts: from their journal (brokerage.wealth keeps 30 days)
        with self.sessions.begin() as s:
            for table in w.consumer_fed():
                s.execute(delete(table))
        return n + journal.replay(self.sessions, apply_wealth(w), w.journal)

    # ---- worker -------------------------------------------------------------------------------
    def build_worker(self) -> None:
        s = self.settings
        self.producer = EventProducer(s.kafka, client_id=f"{SERVICE}-worker")
        upstream = self.upstream_topics()
        # The topic prefix (empty in production) also isolates the groups of tests and benchmarks that share
        # a broker: members of one group id on different topics would still rebalance each other.
        up_group = s.kafka.topic_prefix + UPSTREAM_GROUP + s.consumer_group_suffix
        as_group = s.kafka.topic_prefix + ASSIGNMENT_GROUP + s.consumer_group_suffix
        ac_group = s.kafka.topic_prefix + ACTIVITY_GROUP + s.consumer_group_suffix
        we_group = s.kafka.topic_prefix + WEALTH_GROUP + s.consumer_group_suffix
        w = self.tables.wealth

        self.consumers = [
            BatchConsumer(settings=s.kafka, service=SERVICE, group_id=up_group, topics=upstream,
                          handler=UpstreamHandler(self.app, UPSTREAM_GROUP, upstream, self.cache,
                                                  chained(self.matcher, RegistrationSegments(
                                                      self.sessions, self.tables, s, self.app.read_model))),
                          producer=self.producer, dead_letter_topic=self.dead_letter_topic(),
                          batch_size=s.consumer_batch_size, retries=s.consumer_retries),
            BatchConsumer(settings=s.kafka, service=SERVICE, group_id=as_group,
                          topics=[self.assignment_topic()],
                          handler=SqlBatchHandler(self.sessions, Tracker(self.tables.consumer_position,
                                                                         self.tables.processed_event,
                                                                         ASSIGNMENT_GROUP),
                                                  apply_assignments(self.tables)),
                          producer=self.producer, dead_letter_topic=self.dead_letter_topic(),
                          batch_size=s.consumer_batch_size, retries=s.consumer_retries),
            BatchConsumer(settings=s.kafka, service=SERVICE, group_id=ac_group, topics=self.activity_topics(),
                          handler=SqlBatchHandler(self.sessions, Tracker(self.tables.consumer_position,
                                                                         self.tables.processed_event,
                                                                         ACTIVITY_GROUP),
                                                  apply_activity(self.tables.activity)),
                          producer=self.producer, dead_letter_topic=self.dead_letter_topic(),
                          batch_size=s.consumer_batch_size, retries=s.consumer_retries),
            BatchConsumer(settings=s.kafka, service=SERVICE, group_id=we_group, topics=[self.wealth_topic()],
                          handler=SqlBatchHandler(self.sessions, Tracker(self.tables.consumer_position,
                                                                         self.tables.processed_event,
                                                                         WEALTH_GROUP),
                                                  journal.journaled(apply_wealth(w), USED, w.journal)),
                          producer=self.producer, dead_letter_topic=self.dead_letter_topic(),
                          batch_size=s.consumer_batch_size, retries=s.consumer_retries),
        ]
        self.reminders = LeaderScheduler(self.app, f"{SERVICE}-wealth-reminders", self.wealth_reminders().run_once,
                                         interval_s=s.wealth_reminder_interval_s)
        mapper = CustomerOutboxMapper(s.brokerage.phone_hash_key.get_secret_value())
        self.relay = OutboxRelay(self.app, self.producer, mapper, service=SERVICE,
                                 batch_size=s.relay_batch_size, interval_s=s.relay_interval_ms / 1000)
        self.importer = self.import_runner(worker=0, workers=self.import_lanes)
        if self.import_lanes > 1:
            importer = self.importer
            self.import_processes = ImportProcesses(s, self.import_lanes, lambda: bool(importer.active_jobs()),
                                                    poll_s=s.import_poll_s)
        self.segment_evaluator = SegmentEvaluator(self.app, self.sessions, self.tables, s,
                                                  interval_s=s.segment_eval_s, chunk=s.segment_chunk)

    def wealth_reminders(self) -> Reminders:
        tz = self.settings.brokerage.tz
        return Reminders(self.app, self.sessions, self.tables, days=self.settings.wealth_reminder_days,
                         today=lambda: datetime.now(tz).date())

    def import_runner(self, *, worker: int, workers: int) -> ImportRunner:
        """Import worker `worker` of `workers`: this process's (0), or an import process's (`importer.run_worker`)."""
        s = self.settings
        return ImportRunner(self.app, self.sessions, self.tables, directory=self.import_dir,
                            id_key=s.import_id_key.get_secret_value().encode(), chunk_rows=s.import_chunk_rows,
                            poll_s=s.import_poll_s, match=self.matcher, worker=worker, workers=workers)

    @property
    def import_lanes(self) -> int:
        """The lanes a new import job is cut into, and the processes that import them: `import_processes` on
        PostgreSQL; one on SQLite, whose one writer at a time would make more wait on each other."""
        return self.settings.import_processes if self.engine.dialect.name == "postgresql" else 1

    @property
    def import_dir(self) -> Path:
        path = Path(self.settings.import_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def wake_importer(self) -> None:
        """An upload in a process that also runs the worker (`all`) starts at once; else the worker's poll."""
        if self.importer is not None:
            self.importer.wake()

    async def start_worker(self) -> list[Any]:
        """Start the producer, make sure the topics exist, return the components to run."""
        if self.producer is None:
            self.build_worker()
        assert self.producer is not None and self.relay is not None
        await ensure_topics(self.settings.kafka, [*self.upstream_topics(), self.assignment_topic(),
                                                  *self.activity_topics(), self.wealth_topic(),
                                                  self.settings.kafka.topic(topics.CRM_CUSTOMER),
                                                  self.dead_letter_topic(), *self.directory_topics()])
        await self.producer.start()
        assert self.importer is not None
        assert self.segment_evaluator is not None and self.reminders is not None
        return [*self.consumers, self.relay, self.importer, *([self.import_processes] if self.import_processes else []),
                self.segment_evaluator, self.reminders, *self.directory_components(self.producer)]

    async def stop_worker(self) -> None:
        for c in [*self.consumers, *(self.directory_components(self.producer) if self.producer else [])]:
            await c.stop()
        if self.relay:
            await self.relay.stop()
        if self.importer:
            await self.importer.stop()
        if self.import_processes:
            await self.import_processes.stop()
        if self.segment_evaluator:
            await self.segment_evaluator.stop()
        if self.reminders:
            await self.reminders.stop()

    async def start(self, *, worker: bool) -> list[Component]:
        return await self.start_worker() if worker else []

    async def stop(self) -> None:
        if self.producer:
            await self.producer.stop()
        await asyncio.to_thread(self.app.close)
        self.engine.dispose()
        self.read_sessions.kw["bind"].dispose()
        if self.async_reader is not None:
            self.async_reader.close()

    # ---- readiness ----------------------------------------------------------------------------
    def readiness(self, *, worker: bool = False) -> list[Check]:
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

        return [database, eventstore, *([kafka] if worker else [])]

    @cached_property
    def api(self) -> FastAPI:
        from .api import (
            assets,
            calendar,
            export,
            imports,
            institutions,
            matches,
            overview,
            routes_read,
            routes_write,
            segments,
        )

        app = create_app(service=SERVICE, auth=self.settings.auth, readiness=self.readiness(),
                         title="Whale CRM — customer", max_body_bytes=self.settings.max_body_bytes,
                         idempotency=idempotency_store(self.engine, self.settings),
                         access_directory=self.access_directory,
                         streamed_bodies={imports.UPLOAD_PATH: self.settings.import_max_bytes},
                         audit=audit_emitter(SERVICE, self.settings, self.engine))
        app.state.container = self
        app.include_router(export.router)  # before the /customers/{customer_id} routes
        app.include_router(segments.router)  # /customers/segments: before them too
        app.include_router(routes_read.router)
        app.include_router(assets.router)
        app.include_router(overview.router)
        app.include_router(routes_write.router)
        app.include_router(matches.router)
        app.include_router(imports.router)
        app.include_router(institutions.router)
        app.include_router(calendar.router)
        return app
