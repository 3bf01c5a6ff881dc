"""The campaigns eventsourcing application: thin commands (load, call, save), retried on a concurrent write.

Synchronous (eventsourcing is): async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from eventsourcing.application import AggregateNotFoundError

from shared.runtime.commands import save_retrying
from shared.runtime.eventstore import TrackingApplication
from shared.runtime.logging import get_logger

from .domain.campaign import Campaign
from .domain.distribution import Target
from .domain.review import ReviewPolicy

log = get_logger("campaigns.application")
T = TypeVar("T")


class CampaignNotFound(LookupError):
    pass


class CampaignsApplication(TrackingApplication):
    name = "campaigns"
    policy: ReviewPolicy = ReviewPolicy()

    # ------------------------------------------------------------------------------ reading
    def get_campaign(self, campaign_id: uuid.UUID | str) -> Campaign:
        try:
            agg = self.repository.get(uuid.UUID(str(campaign_id)))
        except (AggregateNotFoundError, ValueError):
            raise CampaignNotFound(str(campaign_id)) from None
        if not isinstance(agg, Campaign):
            raise CampaignNotFound(str(campaign_id))
        return agg

    def history(self, campaign_id: uuid.UUID | str) -> list[Any]:
        return list(self.repository.event_store.get(self.get_campaign(campaign_id).id))

    # ------------------------------------------------------------------------------ commands
    def create(self, *, plan: Mapping[str, Any], by: str, level: int, scope: Mapping[str, Any],
               at: datetime) -> Campaign:
        campaign = Campaign.create(plan=plan, by=by, level=level, scope=scope, at=at)
        self.save(campaign)
        log.info("campaign_created", campaign_id=str(campaign.id))
        return campaign

    def _command(self, campaign_id: uuid.UUID | str, call: Callable[[Campaign], T], *,
                 attempts: int = 3) -> tuple[Campaign, T]:
        """Load, call, save; on a concurrent write (optimistic concurrency) reload and re-check the rules."""

        def step() -> tuple[Campaign, tuple[Campaign, T]]:
            campaign = self.get_campaign(campaign_id)
            return campaign, (campaign, call(campaign))

        return save_retrying(self, step, attempts=attempts, campaign_id=str(campaign_id))

    def edit(self, campaign_id: str, *, plan: Mapping[str, Any], by: str, at: datetime) -> Campaign:
        return self._command(campaign_id, lambda c: c.edit(plan=plan, by=by, at=at))[0]

    def submit(self, campaign_id: str, *, by: str, at: datetime) -> Campaign:
        return self._command(campaign_id, lambda c: c.submit(by=by, at=at))[0]

    def review(self, campaign_id: str, *, by: str, level: int, approve: bool, comment: str | None,
               at: datetime) -> Campaign:
        return self._command(campaign_id, lambda c: c.review(by=by, level=level, approve=approve, comment=comment,
                                                             at=at, policy=self.policy))[0]

    def start_campaign(self, campaign_id: str, *, by: str | None, at: datetime, targets: Sequence[Target],
                       control: Sequence[str] = ()) -> tuple[Campaign, bool]:
        campaign, started = self._command(campaign_id, lambda c: c.start(by=by, at=at, targets=targets,
                                                                         control=control))
        if started:
            log.info("campaign_started", campaign_id=campaign_id, audience_size=len(targets), held_out=len(control))
        return campaign, started

    def request_outreach(self, campaign_id: str, *, customers: Sequence[str], at: datetime) -> bool:
        return self._command(campaign_id, lambda c: c.request_outreach(customers=customers, at=at))[1]

    def close_campaign(self, campaign_id: str, *, by: str | None, at: datetime, reason: str,
                       final_counts: Mapping[str, int] | None = None) -> tuple[Campaign, bool]:
        campaign, closed = self._command(campaign_id, lambda c: c.close(by=by, at=at, reason=reason,
                                                                        final_counts=final_counts))
        if closed:
            log.info("campaign_closed", campaign_id=campaign_id, reason=reason)
        return campaign, closed

    def record_cost(self, campaign_id: str, *, amount: str, currency: str, note: str | None, by: str,
                    at: datetime) -> Campaign:
        return self._command(campaign_id, lambda c: c.record_cost(amount=amount, currency=currency, note=note,
                                                                  by=by, at=at))[0]
