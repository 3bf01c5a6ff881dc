"""Outbox mapper: stored campaign domain events -> crm.campaigns.* messages (through the kit's OutboxRelay).

Every stored event carries what its message needs, so nothing is read back. A frozen-targets event maps to
one follow-up request per target; the relay derives each envelope's id from the stored event and its index
(`deterministic_event_id`), and `follow_up_id` from the campaign and the customer, so a re-publication or a
replay never makes a second follow-up.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from shared.events.crm_campaigns import (
    CampaignApproved,
    CampaignClosed,
    CampaignCostRecorded,
    CampaignCreated,
    CampaignPlan,
    CampaignRejected,
    CampaignStarted,
    CampaignSubmitted,
    CampaignUpdated,
    ExecutionCounts,
    OutreachRequest,
    TargetFollowUpRequested,
    TargetsFrozen,
)
from shared.runtime.outbox import Outgoing

from .domain.campaign import Campaign, as_time, follow_up_id, outreach_request_id


def _created(ev: Any, _: Campaign | None) -> list[Outgoing]:
    return [Outgoing(CampaignCreated(campaign_id=str(ev.originator_id), plan=CampaignPlan(**ev.plan),
                                     created_by=ev.created_by, created_at=ev.at), occurred_at=ev.at)]


def _updated(ev: Any, _: Campaign | None) -> list[Outgoing]:
    return [Outgoing(CampaignUpdated(campaign_id=str(ev.originator_id), plan=CampaignPlan(**ev.plan),
                                     updated_by=ev.by, updated_at=ev.at, status=ev.status), occurred_at=ev.at)]


def _submitted(ev: Any, _: Campaign | None) -> list[Outgoing]:
    return [Outgoing(CampaignSubmitted(campaign_id=str(ev.originator_id), submitted_by=ev.by, submitted_at=ev.at),
                     occurred_at=ev.at)]


def _approved(ev: Any, _: Campaign | None) -> list[Outgoing]:
    return [Outgoing(CampaignApproved(campaign_id=str(ev.originator_id), reviewed_by=ev.by, reviewed_at=ev.at,
                                      comment=ev.comment), occurred_at=ev.at)]


def _rejected(ev: Any, _: Campaign | None) -> list[Outgoing]:
    return [Outgoing(CampaignRejected(campaign_id=str(ev.originator_id), reviewed_by=ev.by, reviewed_at=ev.at,
                                      comment=ev.comment), occurred_at=ev.at)]


def _started(ev: Any, c: Campaign | None) -> list[Outgoing]:
    assert c is not None
    cid = str(ev.originator_id)
    return [Outgoing(CampaignStarted(campaign_id=cid, started_by=ev.by, started_at=ev.at, end_at=c.end_at,
                                     audience_size=ev.audience_size), occurred_at=ev.at),
            Outgoing(TargetsFrozen(campaign_id=cid, audience_size=ev.audience_size,
                                   distribution=c.plan["distribution"], frozen_at=ev.at), occurred_at=ev.at)]


def _targets(ev: Any, c: Campaign | None) -> list[Outgoing]:
    assert c is not None
    cid = str(ev.originator_id)
    channels, due = list(c.plan["channels"]), as_time(c.plan["end_at"])
    return [Outgoing(TargetFollowUpRequested(customer_id=customer, campaign_id=cid,
                                             follow_up_id=follow_up_id(cid, customer), manager_id=manager,
                                             team_id=team, channels=channels, requested_at=ev.at, due_at=due),
                     occurred_at=ev.at, correlation_id=f"campaign-{cid}")
            for customer, manager, team in ev.targets]


def _outreach(ev: Any, c: Campaign | None) -> list[Outgoing]:
    """One message request per target per channel, with the plan's text for the channel (never logged)."""
    assert c is not None
    cid = str(ev.originator_id)
    messages = {m["channel"]: m for m in c.plan.get("messages") or []}
    return [Outgoing(OutreachRequest(request_id=outreach_request_id(cid, customer, channel), campaign_id=cid,
                                     customer_id=customer, channel=channel,
                                     template_id=messages[channel]["template_id"],
                                     subject=messages[channel].get("subject"), body=messages[channel]["body"],
                                     requested_at=ev.at), occurred_at=ev.at, correlation_id=f"campaign-{cid}")
            for customer in ev.customers for channel in ev.channels]


def _closed(ev: Any, c: Campaign | None) -> list[Outgoing]:
    assert c is not None
    counts = getattr(ev, "final_counts", None)
    return [Outgoing(CampaignClosed(campaign_id=str(ev.originator_id), closed_by=ev.by, closed_at=ev.at,
                                    reason=ev.reason, audience_size=c.audience_size or 0,
                                    final_counts=ExecutionCounts(**counts) if counts else None), occurred_at=ev.at)]


def _cost(ev: Any, _: Campaign | None) -> list[Outgoing]:
    return [Outgoing(CampaignCostRecorded(campaign_id=str(ev.originator_id), amount=ev.amount,
                                          currency=ev.currency, note=ev.note, recorded_by=ev.by,
                                          recorded_at=ev.at), occurred_at=ev.at)]


# by the stored domain event's class; `True`: the mapper needs the campaign at the event's version
MAPPERS: dict[type, tuple[Callable[[Any, Campaign | None], list[Outgoing]], bool]] = {
    Campaign.Created: (_created, False),
    Campaign.Updated: (_updated, False),
    Campaign.Submitted: (_submitted, False),
    Campaign.Approved: (_approved, False),
    Campaign.Rejected: (_rejected, False),
    Campaign.Started: (_started, True),
    Campaign.TargetsFrozen: (_targets, True),
    Campaign.Closed: (_closed, True),
    Campaign.CostRecorded: (_cost, False),
    Campaign.OutreachRequested: (_outreach, True),
}

CampaignAt = Callable[[Any, int], Campaign]  # (campaign id, version) -> the campaign at that version


class CampaignHistory:
    """`CampaignAt` for the relay, which asks for one campaign at consecutive versions (a start of 100,000
    targets: the Started event, then 100 frozen-targets chunks): the campaign last read is kept (a few
    campaigns) and brought forward with the events after it, instead of reading the campaign's whole history
    again for each chunk (every earlier chunk's targets decoded again: quadratic in the audience). An older
    version is read from the store. Callers get their own copy."""

    def __init__(self, app: Any, keep: int = 16):
        self.app, self.keep = app, keep
        self._last: OrderedDict[uuid.UUID, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, campaign_id: uuid.UUID, version: int) -> Any:
        with self._lock:
            campaign = self._last.get(campaign_id)
            if campaign is None or campaign.version > version:
                campaign = self.app.repository.get(campaign_id, version=version)
            else:
                for event in self.app.events.get(campaign_id, gt=campaign.version, lte=version):
                    campaign = event.mutate(campaign)
            self._last[campaign_id] = campaign
            self._last.move_to_end(campaign_id)
            while len(self._last) > self.keep:
                self._last.popitem(last=False)
            return copy.deepcopy(campaign)


class CampaignOutboxMapper:
    def __init__(self, campaign_at: CampaignAt):
        self._campaign_at = campaign_at

    def __call__(self, ev: Any) -> Sequence[Outgoing]:
        found = MAPPERS.get(type(ev))
        if found is None:
            return []
        fn, needs_campaign = found
        campaign = self._campaign_at(ev.originator_id, ev.originator_version) if needs_campaign else None
        return fn(ev, campaign)
