"""The assignment service's composition root (built by `bootstrap.py`, the only wiring): one database (event
store and read model: the rows are folded in the events' transactions), consumers, router, scheduler,
outbox relay (publishes from memory after each commit) and API. The producer, relay, start, stop and
readiness are the kit's (`shared.runtime.container.OutboxContainer`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.container import OutboxContainer
from shared.runtime.db import Tracker, add_missing_columns
from shared.runtime.handlers import SqlBatchHandler
from shared.runtime.kafka import BatchConsumer
from shared.runtime.projection import rebuild_from_store

from .admin import Admin
from .application import AssignmentApplication
from .assigning import Assigner
from .consumers import RetryingEsHandler, apply_customer_events
from .domain.clock import Clock
from .outbox import map_event
from .projections import tables as t
from .projections.queries import Directory
from .routing import Router, routed
from .scheduler import PoolSla, Reclaimer, Scheduler
from .settings import AssignmentSettings

SERVICE = "assignment"
READ_MODEL_TABLES = (t.teams, t.managers, t.rules, t.rule_versions, t.assignments, t.history, t.team_pool)


@dataclass
class Container(OutboxContainer):
    SERVICE = SERVICE
    projection = None  # the read model is folded in the events' transactions (`app.read_model`)
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
    pool_sla: PoolSla
    _consumers: list[BatchConsumer] = field(default_factory=list)
    _scheduler: Scheduler | None = None

    # ------------------------------------------------------------------------------------ lifecycle
    def migrate(self) -> None:
        """Read-model tables (the event-store tables are created by the application's recorder)."""
        t.metadata.create_all(self.engine)
        add_missing_columns(self.engine, t.teams)  # reclaim_policy, pool_sla_minutes
        self.migrate_directory()

    def rebuild_read_model(self) -> int:
        """Empty the tables the event store feeds and replay the store into them, in one transaction, with the
        fold the service runs in the events' transactions. Run it with the workers stopped
        (`python -m services.assignment rebuild`)."""
        fold = self.app.read_model
        assert fold is not None, "bootstrap sets the read-model fold"
        return rebuild_from_store(self.app, self.sessions, list(READ_MODEL_TABLES), fold)

    # ----------------------------------------------------------------------------------- components
    def outbox_mapper(self) -> Callable[[Any], Sequence[Any]]:
        return map_event

    @property
    def consumers(self) -> list[BatchConsumer]:
        if not self._consumers:
            s, k = self.settings, self.settings.kafka
            customer_topic, tasks_topic = k.topic(topics.CRM_CUSTOMER), k.topic(topics.CRM_TASKS)
            usercrm_topic = k.topic(topics.CRM_USERCRM)  # confirmed client/lead owner changes
            common = dict(settings=k, service=SERVICE, producer=self.producer,
                          dead_letter_topic=k.topic(topics.dead_letter_topic(SERVICE)),
                          batch_size=s.consumer_batch_size, retries=s.consumer_retries)
            customers = SqlBatchHandler(self.sessions, Tracker(t.consumer_position, t.processed_event,
                                                               "assignment-customers"), apply_customer_events)
            # most customer events are not routed: batches of only those store their position lazily
            routing = RetryingEsHandler(self.app, "assignment-routing", self.router.apply,
                                        [customer_topic, tasks_topic, usercrm_topic], relevant=routed)
            self._consumers = [
                BatchConsumer(group_id=self._group("customers"), topics=[customer_topic], handler=customers, **common),
                BatchConsumer(group_id=self._group("routing"), topics=[customer_topic, tasks_topic, usercrm_topic],
                              handler=routing, on_applied=self.wake, **common),
            ]
        return self._consumers

    def _group(self, name: str) -> str:
        """The topic prefix (empty in production) isolates the groups of tests and benchmarks on one broker."""
        s = self.settings
        return f"{s.kafka.topic_prefix}whale-assignment-{name}{s.consumer_group_suffix}"

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            self._scheduler = Scheduler(self.reclaimer, self.assigner, interval_s=self.settings.reclaim_interval_s,
                                        pool_sla=self.pool_sla)
        return self._scheduler

    def create_api(self) -> FastAPI:
        from .api.app import create_api

        return create_api(self)

    def topics(self) -> list[str]:
        k = self.settings.kafka
        return [k.topic(topics.CRM_CUSTOMER), k.topic(topics.CRM_TASKS), k.topic(topics.CRM_USERCRM),
                k.topic(topics.CRM_ASSIGNMENT),
                k.topic(topics.dead_letter_topic(SERVICE))]

    def worker_components(self) -> list[Any]:
        return [*self.consumers, self.relay, self.scheduler]
