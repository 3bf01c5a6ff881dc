"""Protection-period scheduler: reclaims customers nobody followed up in time, and finishes hand-overs.

Safe with several replicas: candidates come from the read model, but the decision is taken on the
customer's aggregate at the clock's `now`, and saved with optimistic concurrency. If two replicas race,
the second save conflicts, is re-run on fresh state, finds nothing due, and does nothing — no double
reclaim, no double event. The clock is injected (tests move it by hand).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from eventsourcing.persistence import RecordConflictError

from shared.runtime.logging import get_logger

from .application import AssignmentApplication, UnitOfWork, current_correlation_id, save_retrying
from .assigning import Assigner
from .domain.clock import Clock
from .domain.model import customer_key
from .projections.queries import Directory

log = get_logger("assignment.scheduler")
CHUNK = 100  # customers reclaimed per event-store transaction


class Reclaimer:
    def __init__(self, app: AssignmentApplication, directory: Directory, clock: Clock, *, batch_size: int = 500,
                 grace: timedelta = timedelta(0)):
        self.app, self.directory, self.clock, self.batch_size = app, directory, clock, batch_size
        self.grace = grace  # a follow-up still in flight on crm.tasks.events gets this long to arrive

    def run_once(self, now: datetime | None = None) -> int:
        """Reclaims the slots whose protection expired at least `grace` before `now` (default: the clock);
        returns how many slots were reclaimed.
        Chunks of customers are reclaimed in one transaction each (one load change per manager)."""
        now = now or self.clock.now()
        cutoff = now - self.grace
        corr = current_correlation_id() or f"reclaim-{uuid.uuid4()}"
        total = 0
        while True:
            candidates = self.directory.due(cutoff, self.batch_size)
            done = 0
            for i in range(0, len(candidates), CHUNK):
                chunk = candidates[i:i + CHUNK]
                try:
                    done += save_retrying(self.app, lambda uow, cs=chunk: self._reclaim_many(uow, cs, now, corr,
                                                                                         cutoff))
                except RecordConflictError:  # still contended after retries: the next run picks it up
                    log.warning("reclaim_conflict", customers=len(chunk))
            total += done
            if len(candidates) < self.batch_size or done == 0:
                break
        if total:
            log.info("customers_reclaimed", count=total, at=now.isoformat())
        return total

    @classmethod
    def _reclaim(cls, uow: UnitOfWork, customer_id: str, now: datetime) -> int:
        return cls._reclaim_many(uow, [customer_id], now, None)

    @staticmethod
    def _reclaim_many(uow: UnitOfWork, customers: list[str], now: datetime, correlation_id: str | None,
                      cutoff: datetime | None = None) -> int:
        """Decided on the aggregates at `now`: a slot followed up (or reclaimed) meanwhile is not due."""
        uow.prefetch([customer_key(c) for c in customers])
        released: dict[str, int] = {}
        for customer_id in customers:
            agg = uow.customer(customer_id)
            if agg is None:
                continue
            for key in agg.due_for_reclaim(cutoff or now):
                slot = agg.unassign(key, "reclaimed", now, None, correlation_id)
                released[slot["manager_id"]] = released.get(slot["manager_id"], 0) + 1
        for manager_id, n in released.items():
            if (m := uow.manager(manager_id)) is not None:
                m.change_load(-n)
        return sum(released.values())


class Scheduler:
    """Worker component: every `interval_s`, reclaim what is due, finish unfinished hand-overs and move
    slots along with managers who changed team."""

    def __init__(self, reclaimer: Reclaimer, assigner: Assigner, *, interval_s: float = 60.0):
        self.reclaimer, self.assigner, self.interval_s = reclaimer, assigner, interval_s
        self._stopping = asyncio.Event()

    async def tick(self) -> tuple[int, int]:
        reclaimed = await asyncio.to_thread(self.reclaimer.run_once)
        swept = await asyncio.to_thread(self.assigner.sweep_handovers)
        await asyncio.to_thread(self.assigner.follow_team_changes)
        return reclaimed, swept

    async def run(self) -> None:
        log.info("scheduler_started", interval_s=self.interval_s)
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception as exc:  # noqa: BLE001 - keep scheduling after transient failures
                log.exception("scheduler_failed", error=type(exc).__name__)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval_s)
            except TimeoutError:
                pass
        log.info("scheduler_stopped")

    async def stop(self) -> None:
        self._stopping.set()
