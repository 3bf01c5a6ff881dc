"""The access service's composition root (built by `bootstrap.py`, the only wiring): one database (event store
and read model, folded in the events' transactions), outbox relay (publishes crm.access.events) and API. It
consumes no topic. The producer, relay, start, stop and readiness are the kit's
(`shared.runtime.container.OutboxContainer`).

Its own rights (`ACCESS_ACCESS_DIRECTORY`) are decided from its read model, not from a consumed copy: the rows
are written in the events' transactions, so a change made here counts here at once, and there is no topic to
wait for. With `bootstrap`, a caller who has not exited is judged by their token only while no active member
holds AccessManage with the `all` scope (the first access manager has to be created by someone)."""

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
from shared.runtime.access_directory import AccessDirectory, directory_for
from shared.runtime.container import OutboxContainer
from shared.runtime.projection import rebuild_from_store

from .application import AccessApplication
from .outbox import AccessOutboxMapper
from .projections.tables import READ_MODEL_TABLES, metadata, tables
from .settings import AccessSettings


@dataclass
class Container(OutboxContainer):
    SERVICE = "access"
    projection = None  # the read model is folded in the events' transactions (`app.read_model`)
    settings: AccessSettings
    app: AccessApplication
    engine: Engine
    sessions: sessionmaker[Session]
    extra: dict[str, Any] = field(default_factory=dict)

    # -------------------------------------------------------------------------------- lifecycle
    def migrate(self) -> None:
        """Create read-model tables (the event-store tables are created by the application's recorder)."""
        metadata.create_all(self.engine)

    @cached_property
    def access_directory(self) -> AccessDirectory | None:
        directory = directory_for(self.SERVICE, self.settings, self.engine, self.sessions, tables=tables,
                                  consumes=False, bootstrap=True)
        if directory is not None:  # a change made here counts here at once (other replicas: within refresh_s)
            self.app.on_recorded(directory.invalidate)
        return directory

    def rebuild_read_model(self) -> int:
        """Empty the read model and replay the store into it, in one transaction, with the fold the service
        runs in the events' transactions. Run it with the workers stopped (`python -m services.access rebuild`)."""
        fold = self.app.read_model
        assert fold is not None, "bootstrap sets the read-model fold"
        return rebuild_from_store(self.app, self.sessions, list(READ_MODEL_TABLES), fold)

    # -------------------------------------------------------------------------------- components
    def outbox_mapper(self) -> Callable[[Any], Sequence[Any]]:
        return AccessOutboxMapper(self.aggregate_at)

    def aggregate_at(self, aggregate_id: uuid.UUID, version: int) -> Any:
        return self.app.repository.get(aggregate_id, version=version)

    def create_api(self) -> FastAPI:
        from .api.app import create_api

        return create_api(self)

    def topics(self) -> list[str]:
        k = self.settings.kafka
        return [k.topic(topics.CRM_ACCESS), k.topic(topics.dead_letter_topic("access"))]

    def worker_components(self) -> list[Any]:
        return [self.relay]
