"""Execution: starting a campaign (its audience resolved from the read model within the creator's data scope,
distributed, frozen with its size), the outreach (each tick, the plan's messages to the next
`outreach_per_tick` targets of each running campaign, in customer-id order: an `OutreachRequested` event the
outbox maps to one request per target per channel; none once the campaign is closed), closing (the execution
figures frozen with the close) and the scheduler that starts approved campaigns at their start time, sends the
outreach and closes them at their end time.

Safe with several replicas: only the replica holding the scheduler's leadership (`shared.runtime.leader`, a
PostgreSQL advisory lock) runs it, and every decision is taken on the campaign's aggregate and saved with
optimistic concurrency: a start or close decided twice conflicts, is re-run on fresh state and changes
nothing. The clock is injected (tests move it by hand).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from shared.runtime.leader import LeaderScheduler
from shared.runtime.logging import get_logger

from .application import CampaignsApplication
from .domain.campaign import END_TIME, RUNNING, Campaign, message_channels
from .domain.distribution import ASSIGNED_MANAGER, TEAM_QUEUE, Target, distribute, held_out
from .projections import queries as q

log = get_logger("campaigns.execution")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Executor:
    def __init__(self, app: CampaignsApplication, sessions: sessionmaker[Session], clock: Clock = utcnow, *,
                 outreach_per_tick: int = 1000):
        self.app, self.sessions, self.clock = app, sessions, clock
        self.outreach_per_tick = outreach_per_tick

    def targets(self, campaign: Campaign) -> tuple[list[Target], list[str]]:
        """The audience now: its targets as the distribution chose, and the customers held out as the control
        group (`control_pct` of them, by `held_out`), who are not targeted."""
        plan = campaign.plan
        method, team_id = plan["distribution"], plan.get("team_id")
        with self.sessions() as s:
            candidates = q.audience(s, plan["audience"], q.DataScope.of(campaign.scope))
            managers = (q.team_managers(s, team_id) if team_id and method not in (ASSIGNED_MANAGER, TEAM_QUEUE)
                        else [])
        pct, cid = int(plan.get("control_pct") or 0), str(campaign.id)
        control = sorted(c.customer_id for c in candidates if held_out(cid, c.customer_id, pct))
        if control:
            held = set(control)
            candidates = [c for c in candidates if c.customer_id not in held]
        return distribute(method, candidates, team_id=team_id, managers=managers), control

    def start(self, campaign_id: str, *, by: str | None, at: datetime | None = None) -> tuple[Campaign, bool]:
        campaign = self.app.get_campaign(campaign_id)
        targets, control = self.targets(campaign) if campaign.status == "approved" else ([], [])
        return self.app.start_campaign(campaign_id, by=by, at=at or self.clock(), targets=targets, control=control)

    def close(self, campaign_id: str, *, by: str | None, at: datetime, reason: str) -> tuple[Campaign, bool]:
        """Close, freezing the execution figures as the read model has them now."""
        with self.sessions() as s:
            counts = q.status_counts(s, campaign_id)
        return self.app.close_campaign(campaign_id, by=by, at=at, reason=reason, final_counts=counts)

    def reach_out(self, campaign_id: str, at: datetime) -> int:
        """The plan's messages to the campaign's next targets; returns how many targets (0: nothing left)."""
        campaign = self.app.get_campaign(campaign_id)
        if campaign.status != RUNNING or not message_channels(campaign.plan):
            return 0
        with self.sessions() as s:
            customers = q.targets_after(s, campaign_id, campaign.outreach_after, self.outreach_per_tick)
        return len(customers) if self.app.request_outreach(campaign_id, customers=customers, at=at) else 0

    def run_once(self, now: datetime | None = None) -> tuple[int, int]:
        """Start what is due, send the next outreach, close what has ended; returns (started, closed)."""
        now = now or self.clock()
        with self.sessions() as s:
            starting, closing = q.due_to_start(s, now), q.due_to_close(s, now)
        started = closed = 0
        for campaign_id in starting:
            started += self._safely("start", campaign_id, lambda c=campaign_id: self.start(c, by=None, at=now)[1])
        for campaign_id in closing:
            closed += self._safely("close", campaign_id,
                                   lambda c=campaign_id: self.close(c, by=None, at=now, reason=END_TIME)[1])
        with self.sessions() as s:
            due = q.outreach_due(s)
        for campaign_id in due:
            self._safely("outreach", campaign_id, lambda c=campaign_id: self.reach_out(c, now))
        return started, closed

    @staticmethod
    def _safely(action: str, campaign_id: str, call: Callable[[], bool]) -> int:
        try:
            return int(call())
        except Exception as exc:  # noqa: BLE001 - one campaign's failure never stops the others; next tick retries
            log.warning("campaign_schedule_failed", action=action, campaign_id=campaign_id, error=type(exc).__name__)
            return 0


class Scheduler(LeaderScheduler):
    """Worker component: while this replica holds the leadership, every `interval_s` run the executor."""

    def __init__(self, executor: Executor, *, interval_s: float = 30.0, service: str = "campaigns",
                 evaluator: Any = None):
        self.executor, self.evaluator = executor, evaluator
        super().__init__(executor.app, f"{service}-scheduler", self.tick, interval_s=interval_s)

    def tick(self) -> None:
        self.executor.run_once()
        if self.evaluator is not None:  # indicators older than their interval (daily by default)
            self.evaluator.run_due()
