"""Stored domain event → `crm.customer.*` messages, for the OutboxRelay."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.events import crm_customer as c
from shared.events.registry import Payload
from shared.runtime.outbox import Outgoing
from shared.runtime.phones import phone_hash
from shared.runtime.settings import BrokerageSettings

from .domain.customer import FACT_EVENTS
from .domain.imports import Institution
from .domain.segments import Segment
from .domain.wealth import WealthReminder

_CONTRACTS: dict[str, Callable[..., Payload]] = {
    "customer_registered": c.CustomerOnboarded,
    "stage_changed": c.StageChanged,
    "regions_changed": c.RegionsChanged,
    "account_status_changed": c.AccountStatusChanged,
    "funds_moved": c.FundsMoved,
    "trade_recorded": c.TradeRecorded,
    "verification_status_changed": c.VerificationStatusChanged,
    "tags_changed": c.TagsChanged,
    "merged": c.CustomerMerged,
    "unmerged": c.CustomerUnmerged,
    "match_suspected": c.MatchSuspected,
    "segment_membership_changed": c.SegmentMembershipChanged,
}


def _institution(e: Any, created: bool) -> list[Outgoing]:
    payload = c.InstitutionChanged(institution_id=e.institution_id,
                                   name=e.name, manager_id=e.manager_id, team_id=e.team_id, created=created,
                                   changed_at=e.at, changed_by=e.by)
    return [Outgoing(payload=payload, occurred_at=e.at)]


DEFAULT_PHONE_KEY = BrokerageSettings().phone_hash_key.get_secret_value()


def _segment(e: Any, change: str) -> list[Outgoing]:
    deleted = change == "deleted"
    payload = c.SegmentChanged(segment_id=e.segment_id, name=e.name, kind=e.kind, change=change,
                               filter=None if deleted else e.filter,
                               customer_ids=[] if deleted else list(e.customer_ids), changed_at=e.at,
                               changed_by=e.by)
    return [Outgoing(payload=payload, occurred_at=e.at)]


@dataclass(frozen=True)
class CustomerOutboxMapper:
    """`map_event` with the brokerage's phone-hash key (BROKERAGE_PHONE_HASH_KEY), for the outgoing check and
    the relay alike: equal mappers, so the relay publishes the envelopes the check built."""

    phone_key: str = field(default=DEFAULT_PHONE_KEY, repr=False)

    def __call__(self, domain_event: Any) -> list[Outgoing]:
        return map_event(domain_event, self.phone_key)


def map_event(domain_event: Any, phone_key: str = DEFAULT_PHONE_KEY) -> list[Outgoing]:
    """The `crm.customer.*` messages of a stored event. A registration's phone number (stored with the
    effect) is published as its keyed hash (`phone_key`: BROKERAGE_PHONE_HASH_KEY), never in clear."""
    if isinstance(domain_event, Institution.Created):
        return _institution(domain_event, True)
    if isinstance(domain_event, Institution.Updated):
        return _institution(domain_event, False)
    for cls, change in ((Segment.Created, "created"), (Segment.Updated, "updated"), (Segment.Deleted, "deleted")):
        if isinstance(domain_event, cls):
            return _segment(domain_event, change)
    if isinstance(domain_event, WealthReminder.Due):
        e = domain_event
        return [Outgoing(payload=c.WealthEventDue(customer_id=e.customer_id, event_key=e.event_key, kind=e.kind,
                                                  event_date=e.event_date, security=e.security, title=e.title,
                                                  days_before=e.days_before, due_at=e.due_at), occurred_at=e.due_at)]
    if not isinstance(domain_event, FACT_EVENTS):
        return []
    fact = domain_event.fact
    out = []
    for effect in domain_event.effects:
        fields = {k: v for k, v in effect.items() if k not in ("kind", "phone_dialing_code", "phone_number")}
        if effect["kind"] == "customer_registered":
            fields["phone_hash"] = phone_hash(phone_key, effect.get("phone_number"), effect.get("phone_dialing_code"))
        payload = _CONTRACTS[effect["kind"]](**fields)
        out.append(Outgoing(payload=payload, occurred_at=fact["at"], causation_id=fact["id"],
                            correlation_id=fact.get("correlation_id")))
    return out
