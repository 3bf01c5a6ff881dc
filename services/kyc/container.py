"""The KYC service's composition root (built by `bootstrap.py`, the only wiring): event store, read model,
upstream consumer, outbox relay, projection and API. The producer, relay, start, stop and readiness are the
kit's (`shared.runtime.container.OutboxContainer`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError as SqlIntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.container import OutboxContainer
from shared.runtime.kafka import BatchConsumer
from shared.runtime.projection import ProjectionRunner

from .application import KycApplication
from .consumers import upstream_consumer, upstream_topics
from .outbox import KycOutboxMapper
from .projections.tables import READ_MODEL_TABLES, metadata, projection_position
from .settings import KycSettings

PROJECTION_NAME = "kyc-cases"


@dataclass
class Container(OutboxContainer):
    SERVICE = "kyc"
    settings: KycSettings
    app: KycApplication
    engine: Engine
    sessions: sessionmaker[Session]
    projection: ProjectionRunner
    extra: dict[str, Any] = field(default_factory=dict)

    # -------------------------------------------------------------------------------- lifecycle
    def migrate(self) -> None:
        """Create read-model tables (the event-store tables are created by the application's recorder)."""
        metadata.create_all(self.engine)

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
    def outbox_mapper(self) -> Callable[[Any], Sequence[Any]]:
        return KycOutboxMapper(self.case_at)

    @cached_property
    def consumer(self) -> BatchConsumer:
        return upstream_consumer(self.app, self.settings, self.producer, on_applied=self.wake)

    def case_at(self, case_id: uuid.UUID, version: int) -> Any:
        return self.app.repository.get(case_id, version=version)

    def create_api(self) -> FastAPI:
        from .api.app import create_api

        return create_api(self)

    def topics(self) -> list[str]:
        k = self.settings.kafka
        return [*upstream_topics(self.settings), k.topic(topics.CRM_KYC), k.topic(topics.dead_letter_topic("kyc"))]

    def worker_components(self) -> list[Any]:
        return [self.consumer, self.relay, self.projection]
