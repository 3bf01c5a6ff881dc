"""Retention of the de-duplication table (`processed_event`): ids older than the retention age are pruned.

`processed_event` guards against an event re-published upstream at another offset (a producer retry, a
relay re-publishing after a crash); the partition positions stored with the effects already guard against
re-delivery of the same records. A re-publication comes within minutes, so ids are kept for a bounded age
(`DEDUP_RETENTION_DAYS`, 30 by default) instead of forever. `Tracker.first_time` prunes in the
transaction of a batch at most every `DEDUP_PRUNE_INTERVAL_S` and at most `DEDUP_PRUNE_BATCH` rows at a
time, so the work per batch stays bounded. A table created before the `processed_at` column existed is
not pruned (one WARNING); `python -m services.<name> migrate` on a new database creates it with the column.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Table, and_, delete, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .logging import get_logger

log = get_logger("retention")


class RetentionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEDUP_", extra="ignore")

    retention_days: float = 30.0
    prune_interval_s: float = 60.0
    prune_batch: int = 10_000


class Pruner:
    """Prunes one consumer's expired ids from a `processed_event` table, at most once per interval."""

    def __init__(self, processed: Table, consumer: str, settings: RetentionSettings | None = None):
        self.processed, self.consumer = processed, consumer
        self.settings = settings or RetentionSettings()
        self._next = time.monotonic() + self.settings.prune_interval_s
        self._lock = threading.Lock()
        self.enabled = "processed_at" in processed.c
        self.pruned = 0

    def due(self) -> bool:
        return self.enabled and time.monotonic() >= self._next

    def maybe_prune(self, session: Session) -> int:
        """In the caller's transaction (in a savepoint): delete up to `prune_batch` expired ids if due."""
        with self._lock:
            if not self.due():
                return 0
            self._next = time.monotonic() + self.settings.prune_interval_s
        return self.prune(session)

    def prune(self, session: Session, *, now: datetime | None = None) -> int:
        t = self.processed
        before = (now or datetime.now(UTC)) - timedelta(days=self.settings.retention_days)
        expired = (select(t.c.event_id).where(and_(t.c.consumer == self.consumer, t.c.processed_at < before))
                   .limit(self.settings.prune_batch))
        stmt = delete(t).where(and_(t.c.consumer == self.consumer, t.c.event_id.in_(expired)))
        try:
            with session.begin_nested():
                n = session.execute(stmt).rowcount or 0
        except DBAPIError as exc:  # a table from before the column: keep working, without retention
            self.enabled = False
            log.warning("dedup_retention_unavailable", table=t.name, consumer=self.consumer,
                        error=type(exc).__name__)
            return 0
        self.pruned += n
        if n:
            log.info("dedup_pruned", table=t.name, consumer=self.consumer, rows=n)
        return n
