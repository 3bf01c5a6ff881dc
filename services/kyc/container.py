"""The KYC service's composition root (built by `bootstrap.py`, the only wiring): event store, read model,
upstream consumer, outbox relay, projection and API."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError as SqlIntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.kafka import BatchConsumer, EventProducer, ensure_topics
from shared.runtime.outbox import OutboxRelay
from shared.runtime.projection import ProjectionRunner
from shared.runtime.service import Check, Component, store_checks

from .application import KycApplication
from .consumers import upstream_consumer, upstream_topics
from .outbox import KycOutboxMapper
from .projections.tables import READ_MODEL_TABLES, metadata, projection_position
from .settings import KycSettings

PROJECTION_NAME = "kyc-cases"


@dataclass
class Container:
    settings: KycSettings
    app: KycApplication
    engine: Engine
    sessions: sessionmaker[Session]
    projection: ProjectionRunner
    _producer: EventProducer | None = None
    _relay: OutboxRelay | None = None
    _consumer: BatchConsumer | None = None
    _api: FastAPI | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -------------------------------------------------------------------------------- lifecycle
    def migrate(self) -> None:
        """Create read-model tables (the event-store tables are created by the application's recorder)."""
        metadata.create_all(self.engine)

    def wake(self) -> None:
        """A new event was stored: let the projection and the relay pick it up now."""
        self.projection.wake()
        if self._relay is not None:
            self._relay.wake()

    def rebuild_read_model(self, attempts: int = 5) -> int:
        """Empty the read model and replay the whole event log into it (same rows as before).

        Best run with the worker stopped. If a worker's projection runs concurrently, both may insert the
        same new row; the loser's transaction rolls back and it retries: the projection skips rows and
        events already applied (per-row aggregate version), so the result is the same."""
        with self.sessions.begin() as s:
            for table in READ_MODEL_TABLES:
                s.execute(table.delete())
            s.execute(projection_position.delete().where(projection_position.c.projection == PROJECTION_NAME))
        for attempt in range(attempts):
            try:
                return self.projection.catch_up()
            except SqlIntegrityError:
                if attempt == attempts - 1:
                    raise
        return 0

    # -------------------------------------------------------------------------------- components
    @property
    def producer(self) -> EventProducer:
        if self._producer is None:
            self._producer = EventProducer(self.settings.kafka, client_id="kyc")
        return self._producer

    @property
    def relay(self) -> OutboxRelay:
        if self._relay is None:
            self._relay = OutboxRelay(
                self.app,
                self.producer,
                KycOutboxMapper(self.case_at),
                service="kyc",
                batch_size=self.settings.relay_batch_size,
                interval_s=self.settings.relay_interval_ms / 1000,
            )
        return self._relay

    @property
    def consumer(self) -> BatchConsumer:
        if self._consumer is None:
            self._consumer = upstream_consumer(self.app, self.settings, self.producer, on_applied=self.wake)
        return self._consumer

    def case_at(self, case_id: uuid.UUID, version: int) -> Any:
        return self.app.repository.get(case_id, version=version)

    @property
    def api(self) -> FastAPI:
        if self._api is None:
            from .api.app import create_api

            self._api = create_api(self)
        return self._api

    async def start_producer(self) -> None:
        await self.producer.start()

    async def ensure_topics(self) -> None:
        k = self.settings.kafka
        await ensure_topics(
            k,
            [
                *upstream_topics(self.settings),
                k.topic(topics.CRM_KYC),
                k.topic(topics.dead_letter_topic("kyc")),
            ],
        )

    def worker_components(self) -> list[Any]:
        return [self.consumer, self.relay, self.projection]

    async def start(self, *, worker: bool) -> list[Component]:
        if not worker:
            return []
        await self.ensure_topics()
        await self.start_producer()
        await asyncio.to_thread(self.projection.catch_up)
        return self.worker_components()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
        await asyncio.to_thread(self.engine.dispose)
        await asyncio.to_thread(self.app.close)

    # -------------------------------------------------------------------------------- readiness
    def readiness(self, *, worker: bool = False) -> list[Check]:
        return store_checks(self.engine, self.app, self.settings.kafka)
