"""The audit store's composition root (built by `bootstrap.py`): one database (records, chain, positions), one
consumer of `crm.audit.records`, the retention pruner, the chain's anchoring and the API. No event store and
no outbox: it publishes nothing but the chain's anchors (`anchors.py`), its dead letters and, like every API,
its own audit records."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime.container import AccessDirectoryWiring
from shared.runtime.db import add_missing_columns
from shared.runtime.handlers import SqlBatchHandler
from shared.runtime.kafka import BatchConsumer, EventProducer, broker_reachable, ensure_topics
from shared.runtime.replay import replay_to_end
from shared.runtime.service import Check, Component

from .anchors import ChainAnchorPublisher
from .consumers import CONSUMER, GROUP_ID, records_consumer, records_handler
from .projections.store import anchor, ensure_chain, prune_through
from .projections.tables import chain, consumer_position, metadata, processed_event, record
from .retention import RetentionPruner
from .settings import AuditSettings
from .signins import KeycloakSignInCollector

SERVICE = "audit"


@dataclass
class Container(AccessDirectoryWiring):
    """`AUDIT_ACCESS_DIRECTORY=enforce` (make run): the auditor's rights come from the access directory."""

    SERVICE = SERVICE
    settings: AuditSettings
    engine: Engine
    sessions: sessionmaker[Session]
    extra: dict[str, Any] = field(default_factory=dict)

    # -------------------------------------------------------------------------------- lifecycle
    def migrate(self) -> None:
        metadata.create_all(self.engine)
        add_missing_columns(self.engine, record)  # `answered`, on a store created before it
        with self.engine.begin() as conn:
            ensure_chain(conn)
        self.migrate_directory()

    def readiness(self, *, worker: bool = False) -> list[Check]:
        def ping() -> None:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        async def database() -> None:
            await asyncio.to_thread(ping)

        async def broker() -> None:
            await broker_reachable(self.settings.kafka)

        return [database, broker]

    async def start(self, *, worker: bool) -> list[Component]:
        if not worker:
            return []
        await ensure_topics(self.settings.kafka, [*self.topics(), *self.directory_topics()])
        await self.producer.start()
        anchoring = [self.anchorer] if self.settings.anchor_interval_s > 0 else []
        s = self.settings
        signins = [KeycloakSignInCollector(s, self.producer)] if s.keycloak_url and s.keycloak_client_secret else []
        return [self.consumer, self.pruner, *anchoring, *signins, *self.directory_components(self.producer)]

    async def stop(self) -> None:
        if "producer" in self.__dict__:
            await self.producer.stop()
        await asyncio.to_thread(self.engine.dispose)

    async def rebuild_read_model(self) -> int:
        """Replay `crm.audit.records` from offset 0 into the emptied store (one partition: the same order, so
        the same sequence numbers and hashes), then prune again up to the anchor the store had. Run it with the
        worker stopped (`python -m services.audit rebuild`); `ops rebuild audit --verify` compares the tables."""
        anchor_seq, anchor_hash, _ = await asyncio.to_thread(self._wipe)
        handler = records_handler(self.sessions)
        await ensure_topics(self.settings.kafka, self.topics())
        await self.producer.start()
        consumer = records_consumer(self.settings, handler, self.producer,
                                    group_id=f"{GROUP_ID}-rebuild-{uuid.uuid4().hex[:8]}")
        applied = await replay_to_end(consumer, handler.positions, settings=self.settings.kafka)
        await asyncio.to_thread(self._prune_to, anchor_seq, anchor_hash)
        return applied

    def _wipe(self) -> tuple[int, str, int]:
        with self.sessions.begin() as s:
            found = anchor(s)
            s.execute(delete(record))
            s.execute(delete(chain))
            ensure_chain(s)
            s.execute(delete(consumer_position).where(consumer_position.c.consumer == CONSUMER))
            s.execute(delete(processed_event).where(processed_event.c.consumer == CONSUMER))
        return found

    def _prune_to(self, anchor_seq: int, anchor_hash: str) -> None:
        with self.sessions.begin() as s:
            prune_through(s, anchor_seq)
            replayed = anchor(s)
        if anchor_seq and replayed[1] != anchor_hash:
            raise RuntimeError(f"the replayed chain's hash at {anchor_seq} differs from the stored anchor")

    # -------------------------------------------------------------------------------- components
    @cached_property
    def producer(self) -> EventProducer:
        return EventProducer(self.settings.kafka, client_id=SERVICE)

    @cached_property
    def handler(self) -> SqlBatchHandler:
        return records_handler(self.sessions)

    @cached_property
    def consumer(self) -> BatchConsumer:
        return records_consumer(self.settings, self.handler, self.producer)

    @cached_property
    def pruner(self) -> RetentionPruner:
        return RetentionPruner(self.sessions, self.settings.retention_days, self.settings.prune_interval_s)

    @cached_property
    def anchorer(self) -> ChainAnchorPublisher:
        return ChainAnchorPublisher(self.sessions, self.producer, self.settings.kafka, self.settings.anchor_interval_s)

    @cached_property
    def api(self) -> FastAPI:
        from .api.app import create_api

        return create_api(self)

    def topics(self) -> list[str]:
        k = self.settings.kafka
        return [k.topic(topics.CRM_AUDIT), k.topic(topics.CRM_AUDIT_ANCHORS), k.topic(topics.dead_letter_topic(SERVICE))]
