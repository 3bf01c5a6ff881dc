"""`CampaignClosure`: that a campaign closed, as the tasks service learnt it from `crm.campaigns.events`.

A campaign's close is keyed by campaign and its follow-up requests by customer, so they reach the engine on
different partitions in either order. The closure is kept so that a request consumed after the close still
ends as if it had come first: its task is opened and cancelled at the close's time and cause (the same rows
whatever the order)."""

from __future__ import annotations

import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from .nodes import TASK_NAMESPACE


class CampaignClosure(Aggregate):
    @staticmethod
    def create_id(campaign_id: str) -> uuid.UUID:
        return uuid.uuid5(TASK_NAMESPACE, f"campaign-closure:{campaign_id}")

    @event("Recorded")
    def __init__(self, campaign_id: str, closed_at: datetime, cause: str) -> None:
        self.campaign_id, self.closed_at, self.cause = campaign_id, closed_at, cause
