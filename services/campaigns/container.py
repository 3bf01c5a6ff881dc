"""The campaigns service's composition root (built by `bootstrap.py`, the only wiring): one database (event
store, the campaign rows folded in the events' transactions, the consumer-fed audience tables), the audience
consumer, the outbox relay, the scheduler and the API. The producer, relay, start, stop and readiness are the
kit's (`shared.runtime.container.OutboxContainer`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from shared.events import topics
from shared.runtime import journal
from shared.runtime.container import OutboxContainer
from shared.runtime.handlers import SqlBatchHandler
from shared.runtime.kafka import BatchConsumer
from shared.runtime.leader import LeaderScheduler
from shared.runtime.projection import rebuild_from_store
from shared.runtime.replay import replay_to_end

from .application import CampaignsApplication
from .consumers import (
    CONSUMER,
    GROUP_ID,
    apply_platform_facts,
    audience_consumer,
    audience_handler,
    consumed_topics,
)
from .evaluation import Evaluator
from .execution import Executor, Scheduler
from .lists import ListImporter
from .outbox import CampaignHistory, CampaignOutboxMapper
from .projections import queries as q
from .projections.tables import (
    CONSUMER_TABLES,
    OWN_TABLES,
    intake_journal,
    metadata,
    position_table,
    processed_table,
)
from .settings import CampaignsSettings


@dataclass
class Container(OutboxContainer):
    SERVICE = "campaigns"
    projection = None  # the campaign rows are folded in the events' transactions (`app.read_model`)
    settings: CampaignsSettings
    app: CampaignsApplication
    engine: Engine
    sessions: sessionmaker[Session]
    executor: Executor
    extra: dict[str, Any] = field(default_factory=dict)

    # -------------------------------------------------------------------------------- lifecycle
    def migrate(self) -> None:
        """Create read-model tables (the event-store tables are created by the application's recorder)."""
        metadata.create_all(self.engine)
        self.migrate_directory()

    async def rebuild_read_model(self) -> int:
        """Replay the store into the emptied campaign tables (one transaction, the fold the service runs in the
        events' transactions), then the crm topics from offset 0 into the emptied audience tables, up to their
        ends as they are now, and the intake journal (the outreach results: `brokerage.outreach_results` keeps 30
        days). Run it with the workers stopped (`python -m services.campaigns rebuild`)."""
        fold = self.app.read_model
        assert fold is not None, "bootstrap sets the read-model fold"
        own = await asyncio.to_thread(rebuild_from_store, self.app, self.sessions, list(OWN_TABLES), fold)
        await asyncio.to_thread(self._wipe_audience)
        handler = audience_handler(self.sessions)
        await self.start_producer()
        consumer = audience_consumer(self.settings, handler, self.producer,
                                     group_id=f"{GROUP_ID}-rebuild-{uuid.uuid4().hex[:8]}")
        facts = await replay_to_end(consumer, handler.positions, settings=self.settings.kafka)
        results = await asyncio.to_thread(journal.replay, self.sessions, apply_platform_facts, intake_journal)
        return own + facts + results

    def _wipe_audience(self) -> None:
        with self.sessions.begin() as s:
            for table in CONSUMER_TABLES:
                s.execute(delete(table))
            s.execute(delete(position_table).where(position_table.c.consumer == CONSUMER))
            s.execute(delete(processed_table).where(processed_table.c.consumer == CONSUMER))

    # -------------------------------------------------------------------------------- components
    def outbox_mapper(self) -> Callable[[Any], Sequence[Any]]:
        return CampaignOutboxMapper(CampaignHistory(self.app))  # the relay's: one campaign at consecutive versions

    def campaign_at(self, campaign_id: uuid.UUID, version: int) -> Any:
        return self.app.repository.get(campaign_id, version=version)

    @cached_property
    def handler(self) -> SqlBatchHandler:
        return audience_handler(self.sessions)

    @cached_property
    def consumer(self) -> BatchConsumer:
        return audience_consumer(self.settings, self.handler, self.producer)

    @cached_property
    def evaluator(self) -> Evaluator:
        return Evaluator(self.sessions, lambda cid: self.app.get_campaign(cid).scope, tracking=q.funnel,
                         interval_s=self.settings.indicators_interval_s, clock=lambda: self.executor.clock(),
                         currency=self.settings.brokerage.currency)

    @property
    def list_dir(self) -> Path:
        path = Path(self.settings.list_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @cached_property
    def list_importer(self) -> ListImporter:
        return ListImporter(self.sessions, chunk_rows=self.settings.list_chunk_rows)

    @cached_property
    def list_scheduler(self) -> LeaderScheduler:
        """Validates uploaded audience lists, on the replica holding `campaigns-lists` (resumable by chunk)."""
        return LeaderScheduler(self.app, "campaigns-lists", self.list_importer.run_once,
                               interval_s=self.settings.scheduler_interval_s)

    @cached_property
    def scheduler(self) -> Scheduler:
        return Scheduler(self.executor, interval_s=self.settings.scheduler_interval_s, evaluator=self.evaluator)

    def create_api(self) -> FastAPI:
        from .api.app import create_api

        return create_api(self)

    def topics(self) -> list[str]:
        k = self.settings.kafka
        return [*consumed_topics(self.settings), k.topic(topics.CRM_CAMPAIGNS),
                k.topic(topics.dead_letter_topic("campaigns"))]

    def worker_components(self) -> list[Any]:
        return [self.consumer, self.relay, self.scheduler, self.list_scheduler]
