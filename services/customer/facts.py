"""Upstream events → facts (the reducer's input). The only place that knows each event's business time."""

from __future__ import annotations

from typing import Any

from shared.events import Event

from .domain.state import Fact, parse_time

BUSINESS_TIME = {
    "registration.customer_registered": "registered_at",
    "registration.profile_updated": "updated_at",
    "kyc.identity_verified": "verified_at",
    "account.application_submitted": "submitted_at",
    "account.opened": "opened_at",
    "account.rejected": "rejected_at",
    "account.closed": "closed_at",
    "funding.deposit_completed": "completed_at",
    "funding.withdrawal_completed": "completed_at",
    "trading.trade_executed": "executed_at",
    "trading.asset_snapshot_taken": "as_of",
    "referral.referral_linked": "linked_at",
    "suitability.risk_assessed": "assessed_at",
}


class NotACustomerFact(ValueError):
    pass


def fact_from_event(event: Event) -> Fact:
    field = BUSINESS_TIME.get(event.event_type)
    if field is None:
        raise NotACustomerFact(event.event_type)
    data = event.data  # upcast, validated, JSON mode, unknown fields kept (a later version may read them)
    return {"id": str(event.event_id), "type": event.event_type, "at": parse_time(data[field]), "data": data,
            "correlation_id": event.envelope.correlation_id}


def crm_fact(fact_id: str, fact_type: str, at: Any, data: dict[str, Any], correlation_id: str | None = None) -> Fact:
    return {"id": fact_id, "type": fact_type, "at": parse_time(at), "data": data, "correlation_id": correlation_id}
