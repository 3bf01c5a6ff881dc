"""The KYC service's composition root (built by `bootstrap.py`, the only wiring): one database (event store
and read model: the rows are folded in the events' transactions), upstream consumer, outbox relay
(publishes from memory after each commit) and API. The producer, relay, start, stop and readiness are the
kit's (`shared.runtime.container.OutboxContainer`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.container import OutboxContainer
from shared.runtime.kafka import BatchConsumer
from shared.runtime.projection import rebuild_from_store

from .application import KycApplication
from .consumers import upstream_consumer, upstream_topics
from .outbox import KycOutboxMapper
from .projections.tables import READ_MODEL_TABLES, metadata
from .settings import KycSettings


@dataclass
class Container(OutboxContainer):
    SERVICE = "kyc"
    projection = None  # the read model is folded in the events' transactions (`app.read_model`)
    settings: KycSettings
    app: KycApplication
    engine: Engine
    sessions: sessionmaker[Session]
    extra: dict[str, Any] = field(default_factory=dict)

    # -------------------------------------------------------------------------------- lifecycle
    def migrate(self) -> None:
        """Create read-model tables (the event-store tables are created by the application's recorder)."""
        metadata.create_all(self.engine)
        self.migrate_directory()

    def rebuild_read_model(self) -> int:
        """Empty the read model and replay the store into it, in one transaction, with the fold the service
        runs in the events' transactions (same rows as before). Run it with the workers stopped
        (`python -m services.kyc rebuild`)."""
        fold = self.app.read_model
        assert fold is not None, "bootstrap sets the read-model fold"
        return rebuild_from_store(self.app, self.sessions, list(READ_MODEL_TABLES), fold)

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
        return [self.consumer, self.relay]
