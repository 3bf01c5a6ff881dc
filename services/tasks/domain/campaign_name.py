"""`CampaignName`: a campaign's name, as the tasks service learnt it from `crm.campaigns.events` (created,
updated), shown beside the `campaign_id` of its follow-up tasks. Kept in the event store (one per campaign,
its own transaction with the Kafka position) and folded into the `campaign_names` rows, so a replay of the
store rebuilds them. The newest edit wins whatever the order (by its time, then its event id); a duplicate
changes nothing."""

from __future__ import annotations

import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event

from .nodes import TASK_NAMESPACE


class CampaignName(Aggregate):
    @staticmethod
    def create_id(campaign_id: str) -> uuid.UUID:
        return uuid.uuid5(TASK_NAMESPACE, f"campaign-name:{campaign_id}")

    @event("Named")
    def __init__(self, campaign_id: str, name: str, at: datetime, cause: str) -> None:
        self.campaign_id, self.name, self.at, self.cause = campaign_id, name, at, cause

    def learn(self, name: str, at: datetime, cause: str) -> None:
        """An edit of the campaign's plan: recorded when later than the one known (an older one, or the same
        one again, changes nothing)."""
        if (at, cause) > (self.at, self.cause):
            self._renamed(campaign_id=self.campaign_id, name=name, at=at, cause=cause)

    @event("Renamed")
    def _renamed(self, campaign_id: str, name: str, at: datetime, cause: str) -> None:
        self.name, self.at, self.cause = name, at, cause
