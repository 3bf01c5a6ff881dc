"""The assignment service's composition root (built by `bootstrap.py`, the only wiring): event store, read
model, consumers, router, scheduler, outbox relay, projection and API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.db import Tracker
from shared.runtime.handlers import SqlBatchHandler
from shared.runtime.kafka import BatchConsumer, EventProducer, ensure_topics
from shared.runtime.outbox import OutboxRelay
from shared.runtime.projection import ProjectionRunner
from shared.runtime.service import Check, Component, store_checks

from .admin import Admin
from .application import AssignmentApplication
from .assigning import Assigner
from .consumers import RetryingEsHandler, apply_customer_events
from .domain.clock import Clock
from .outbox import map_event
from .projections import tables as t
from .projections.queries import Directory
from .routing import Router, routed
from .scheduler import Reclaimer, Scheduler
from .settings import AssignmentSettings

SERVICE = "assignment"
PROJECTION_NAME = "assignment-read-model"
READ_MODEL_TABLES = (t.teams, t.managers, t.rules, t.rule_versions, t.assignments, t.history)


@dataclass
class Container:
    settings: AssignmentSettings
    clock: Clock
    app: AssignmentApplication
    engine: Engine
    sessions: sessionmaker[Session]
    directory: Directory
    admin: Admin
    assigner: Assigner
    router: Router
    reclaimer: Reclaimer
    projection: ProjectionRunner
    _producer: EventProducer | None = None
    _relay: OutboxRelay | None = None
    _consumers: list[BatchConsumer] = field(default_factory=list)
    _scheduler: Scheduler | None = None
    _api: FastAPI | None = None

    # ------------------------------------------------------------------------------------ lifecycle
    def migrate(self) -> None:
        """Read-model tables (the event-store tables are created by the application's recorder)."""
        t.metadata.create_all(self.engine)

    def wake(self) -> None:
        """New events were stored: let the projection and the relay pick them up now."""
        self.projection.wake()
        if self._relay is not None:
            self._relay.wake()

    def rebuild_read_model(self) -> int:
        """Empty the event-store-fed tables and replay the whole event log into them."""
        with self.sessions.begin() as s:
            for table in READ_MODEL_TABLES:
                s.execute(table.delete())
            s.execute(t.projection_position.delete().where(t.projection_position.c.projection == PROJECTION_NAME))
        return self.projection.catch_up()

    # ----------------------------------------------------------------------------------- components
    @property
    def producer(self) -> EventProducer:
        if self._producer is None:
            self._producer = EventProducer(self.settings.kafka, client_id=SERVICE)
        return self._producer

    @property
    def relay(self) -> OutboxRelay:
        if self._relay is None:
            self._relay = OutboxRelay(self.app, self.producer, map_event, service=SERVICE,
                                      batch_size=self.settings.relay_batch_size,
                                      interval_s=self.settings.relay_interval_ms / 1000)
        return self._relay

    @property
    def consumers(self) -> list[BatchConsumer]:
        if not self._consumers:
            s, k = self.settings, self.settings.kafka
            customer_topic, tasks_topic = k.topic(topics.CRM_CUSTOMER), k.topic(topics.CRM_TASKS)
            common = dict(settings=k, service=SERVICE, producer=self.producer,
                          dead_letter_topic=k.topic(topics.dead_letter_topic(SERVICE)),
                          batch_size=s.consumer_batch_size, retries=s.consumer_retries)
            customers = SqlBatchHandler(self.sessions, Tracker(t.consumer_position, t.processed_event,
                                                               "assignment-customers"), apply_customer_events)
            # most customer events are not routed: batches of only those store their position lazily
            routing = RetryingEsHandler(self.app, "assignment-routing", self.router.apply,
                                        [customer_topic, tasks_topic], relevant=routed)
            self._consumers = [
                BatchConsumer(group_id=f"{s.kafka.topic_prefix}whale-assignment-customers", topics=[customer_topic], handler=customers,
                              **common),
                BatchConsumer(group_id=f"{s.kafka.topic_prefix}whale-assignment-routing", topics=[customer_topic, tasks_topic],
                              handler=routing, on_applied=self.wake, **common),
            ]
        return self._consumers

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            self._scheduler = Scheduler(self.reclaimer, self.assigner, interval_s=self.settings.reclaim_interval_s)
        return self._scheduler

    @property
    def api(self) -> FastAPI:
        if self._api is None:
            from .api.app import create_api

            self._api = create_api(self)
        return self._api

    async def ensure_topics(self) -> None:
        k = self.settings.kafka
        await ensure_topics(k, [k.topic(topics.CRM_CUSTOMER), k.topic(topics.CRM_TASKS),
                                k.topic(topics.CRM_ASSIGNMENT), k.topic(topics.dead_letter_topic(SERVICE))])

    async def start_producer(self) -> None:
        await self.producer.start()

    def worker_components(self) -> list[Any]:
        return [*self.consumers, self.relay, self.projection, self.scheduler]

    async def start(self, *, worker: bool) -> list[Component]:
        if not worker:
            return []
        await self.ensure_topics()
        await self.start_producer()
        return self.worker_components()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
        await asyncio.to_thread(self.engine.dispose)
        await asyncio.to_thread(self.app.close)

    # ------------------------------------------------------------------------------------ readiness
    def readiness(self, *, worker: bool = False) -> list[Check]:
        return store_checks(self.engine, self.app, self.settings.kafka)
