"""Protection-period scheduler: reclaims customers nobody followed up in time, and finishes hand-overs.

What a reclaim does next is the losing manager's team's `reclaim_policy` (else `ASSIGNMENT_RECLAIM_POLICY`):
`pool` — the customer waits in that team's pool for its lead to distribute (`customer_queued`; a stage slot, or a
manager without a team: unassigned in the general pool); `reroute` — it is routed again by the rules in the same unit of work
(`Router.reroute`: reason `reroute`, never back to the manager who lost it unless no one else is eligible).

Safe with several replicas: candidates come from the read model, but the decision is taken on the
customer's aggregate at the clock's `now`, and saved with optimistic concurrency. If two replicas race,
the second save conflicts, is re-run on fresh state, finds nothing due, and does nothing — no double
reclaim, no double event. The clock is injected (tests move it by hand).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from eventsourcing.persistence import RecordConflictError
from prometheus_client import Gauge

from shared.runtime import commands
from shared.runtime.logging import get_logger

from .application import AssignmentApplication, UnitOfWork, current_correlation_id, save_retrying
from .assigning import Assigner
from .domain.clock import Clock
from .domain.model import ALL_STAGES, CustomerAssignment, customer_key
from .domain.rules import CustomerFacts, Rule
from .projections.queries import Directory
from .routing import BatchWork, Router

log = get_logger("assignment.scheduler")
POOL_WAITING = Gauge("whale_assignment_pool_waiting", "Customers waiting in a team's pool", ["team"])
POOL_BREACHED = Gauge("whale_assignment_pool_breached", "Customers in a team's pool past their SLA due time",
                      ["team"])
POOL_OLDEST_WAIT = Gauge("whale_assignment_pool_oldest_wait_seconds", "Longest current wait in a team's pool",
                         ["team"])
CHUNK = 100  # customers reclaimed per event-store transaction


POOL, REROUTE = "pool", "reroute"


def sweep(find: Callable[[], list[str]], decide: Callable[[list[str]], int], batch_size: int, what: str) -> int:
    """The scheduler's passes: candidates found in the read model (`find`, up to `batch_size`), decided on the
    aggregates `CHUNK` customers per transaction (`decide` returns how many it changed); stops at a short
    batch or one that changed nothing (the read model has not caught up). Returns the total changed."""
    total = 0
    while True:
        candidates = find()
        done = 0
        for i in range(0, len(candidates), CHUNK):
            chunk = candidates[i:i + CHUNK]
            try:
                done += decide(chunk)
            except RecordConflictError:  # still contended after retries: the next run picks it up
                log.warning(f"{what}_conflict", customers=len(chunk))
        total += done
        if len(candidates) < batch_size or done == 0:
            return total


class Reclaimer:
    def __init__(self, app: AssignmentApplication, directory: Directory, clock: Clock, *, batch_size: int = 500,
                 grace: timedelta = timedelta(0), router: Router | None = None, default_policy: str = POOL):
        self.app, self.directory, self.clock, self.batch_size = app, directory, clock, batch_size
        self.grace = grace  # a follow-up still in flight on crm.tasks.events gets this long to arrive
        self.router = router or Router(app, clock)
        self.default_policy = default_policy

    def run_once(self, now: datetime | None = None) -> int:
        """Reclaims the slots whose protection expired at least `grace` before `now` (default: the clock);
        returns how many slots were reclaimed.
        Chunks of customers are reclaimed in one transaction each (one load change per manager)."""
        now = now or self.clock.now()
        cutoff = now - self.grace
        corr = current_correlation_id() or f"reclaim-{uuid.uuid4()}"

        def reclaim(chunk: list[str]) -> int:
            facts = self.directory.routing_facts(chunk)  # found outside the transaction; the decision is stored
            return self._save(lambda uow: self._reclaim_many(uow, chunk, now, corr, cutoff, facts))

        total = sweep(lambda: self.directory.due(cutoff, self.batch_size), reclaim, self.batch_size, "reclaim")
        if total:
            log.info("customers_reclaimed", count=total, at=now.isoformat())
        return total

    def _save(self, command: Callable[[BatchWork], int]) -> int:
        """`command` on a fresh unit of work, saved in one transaction; re-run on fresh state on a conflict."""

        def step() -> tuple[list[object], int]:
            uow = BatchWork(self.app)
            n = command(uow)
            return uow.changed(), n

        return commands.save_retrying(self.app, step, attempts=5)

    def _reclaim(self, uow: BatchWork, customer_id: str, now: datetime) -> int:
        return self._reclaim_many(uow, [customer_id], now, None)

    def _reclaim_many(self, uow: BatchWork, customers: list[str], now: datetime, correlation_id: str | None,
                      cutoff: datetime | None = None, facts: dict[str, dict[str, Any]] | None = None) -> int:
        """Decided on the aggregates at `now`: a slot followed up (or reclaimed) meanwhile is not due."""
        uow.prefetch([customer_key(c) for c in customers])
        rules: list[Rule] | None = None
        n = 0
        for customer_id in customers:
            agg = uow.customer(customer_id)
            if agg is None:
                continue
            for key in agg.due_for_reclaim(cutoff or now):
                slot = agg.unassign(key, "reclaimed", now, None, correlation_id)
                uow.released(slot["manager_id"])
                n += 1
                cause = f"reclaim:{key}:{slot['protection_expires_at'].isoformat()}"
                team_id = self.losing_team(uow, slot)
                if self.policy(uow, team_id) != REROUTE:
                    if key == ALL_STAGES and team_id is not None and agg.queued is None:  # the losing team's pool
                        self.router.queue(uow, agg, team_id, None, None, {"reclaimed_from": slot["manager_id"]}, now,
                                          cause, correlation_id)
                    continue
                if rules is None:
                    book = uow.existing_rulebook()
                    rules = [Rule.from_dict(r) for r in (book.rules.values() if book is not None else ())]
                known = _facts_of(agg, slot, (facts or {}).get(customer_id))
                self.router.reroute(uow, agg, key, slot, known, rules, now, cause, correlation_id)
        uow.settle()
        return n

    @staticmethod
    def losing_team(uow: UnitOfWork, slot: dict[str, Any]) -> str | None:
        """The team of the manager who lost the slot (the slot's team if the manager is gone)."""
        manager = uow.manager(slot["manager_id"])
        return manager.team_id if manager is not None else slot["team_id"]

    def policy(self, uow: UnitOfWork, team_id: str | None) -> str:
        """The losing team's reclaim policy, else the service's default."""
        team = uow.team(team_id)
        return (team.reclaim_policy if team is not None else None) or self.default_policy


def _facts_of(agg: CustomerAssignment, slot: dict[str, Any], known: dict[str, Any] | None) -> CustomerFacts:
    """Routing facts: the customer directory's (channel, regions, language), completed by what the slot's own
    routing recorded (referral code, institution)."""
    i = {**(slot.get("inputs") or {}), **{k: v for k, v in (known or {}).items() if v is not None}}
    return CustomerFacts(agg.customer_id, i.get("channel"), i.get("user_region"), i.get("active_region"),
                         i.get("language"), i.get("referral_code"), i.get("institution_id"),
                         tuple(i.get("segments") or ()))


class PoolSla:
    """Team pools' SLA: publishes `pool_sla_breached` once per queue entry past its due time (the
    aggregate records the breach; two replicas racing conflict on its version and the loser finds it
    recorded), and keeps the per-team gauges (waiting, breached, oldest wait) up to date."""

    def __init__(self, app: AssignmentApplication, directory: Directory, clock: Clock, *, batch_size: int = 500):
        self.app, self.directory, self.clock, self.batch_size = app, directory, clock, batch_size
        self._teams: set[str] = set()

    def run_once(self, now: datetime | None = None) -> int:
        now = now or self.clock.now()
        total = sweep(lambda: self.directory.pool_due(now, self.batch_size),
                      lambda chunk: save_retrying(self.app, lambda uow: self._breach(uow, chunk, now)),
                      self.batch_size, "pool_sla")
        if total:
            log.info("pool_sla_breached", count=total, at=now.isoformat())
        self.measure(now)
        return total

    @staticmethod
    def _breach(uow: UnitOfWork, customers: list[str], now: datetime) -> int:
        uow.prefetch([customer_key(c) for c in customers])
        return sum(agg.breach_sla(now) for c in customers if (agg := uow.customer(c)) is not None)

    def measure(self, now: datetime) -> dict[str, dict[str, float]]:
        stats = self.directory.pool_stats(now)
        for team in self._teams - set(stats):  # an emptied pool reads 0, not its last value
            stats[team] = {"waiting": 0, "breached": 0, "oldest_wait_s": 0.0}
        for team, s in stats.items():
            POOL_WAITING.labels(team).set(s["waiting"])
            POOL_BREACHED.labels(team).set(s["breached"])
            POOL_OLDEST_WAIT.labels(team).set(s["oldest_wait_s"])
        self._teams = set(stats)
        return stats


class Scheduler:
    """Worker component: every `interval_s`, reclaim what is due, finish unfinished hand-overs, move
    slots along with managers who changed team, and record team pools' SLA breaches."""

    def __init__(self, reclaimer: Reclaimer, assigner: Assigner, *, interval_s: float = 60.0,
                 pool_sla: PoolSla | None = None):
        self.reclaimer, self.assigner, self.interval_s = reclaimer, assigner, interval_s
        self.pool_sla = pool_sla
        self._stopping = asyncio.Event()

    async def tick(self) -> tuple[int, int]:
        reclaimed = await asyncio.to_thread(self.reclaimer.run_once)
        swept = await asyncio.to_thread(self.assigner.sweep_handovers)
        await asyncio.to_thread(self.assigner.follow_team_changes)
        if self.pool_sla is not None:
            await asyncio.to_thread(self.pool_sla.run_once)
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
