"""The worker's retention: every `AUDIT_PRUNE_INTERVAL_S`, records older than `AUDIT_RETENTION_DAYS` are pruned
from the start of the chain, whose anchor (the last pruned hash) keeps what remains verifiable."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from shared.runtime.logging import get_logger

from .projections.store import prune_before

log = get_logger("audit")


def prune_once(sessions: sessionmaker[Session], retention_days: int, *, now: datetime | None = None) -> int:
    if retention_days <= 0:
        return 0
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    with sessions.begin() as s:
        deleted = prune_before(s, cutoff)
    if deleted:
        log.info("audit_records_pruned", records=deleted, cutoff=cutoff.isoformat())
    return deleted


class RetentionPruner:
    """A worker component (`run` / `stop`)."""

    def __init__(self, sessions: sessionmaker[Session], retention_days: int, interval_s: float):
        self.sessions, self.retention_days, self.interval_s = sessions, retention_days, interval_s
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(prune_once, self.sessions, self.retention_days)
            except Exception as exc:  # noqa: BLE001 - the database may be away: the next turn tries again
                log.warning("audit_prune_failed", error=type(exc).__name__)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval_s)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        self._stop.set()
