"""The wealth calendar: what an upcoming event is (its key, its title) and the reminder sent for it.

A customer's calendar holds, between two days: the windows of the IPOs they subscribed to (closing day,
listing day), the corporate actions on the securities they hold (on the ex date, else the record date, else
the pay date), and their maturities. Open IPO windows are brokerage-wide events (no customer): every calendar
shows them, no reminder is sent for them. An event's key is `<kind>:<source id>`, stable whatever changes
about it: one reminder per (customer, key), `CUSTOMER_WEALTH_REMINDER_DAYS` days before its day.

`WealthReminder` is the reminder sent: an aggregate per (customer, key) in the event store, published by the
outbox as `crm.customer.wealth_event_due`. Creating it twice conflicts on version 1, which is what keeps a
reminder from being sent twice by two schedulers or after a restart.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate, event

from .imports import JOB_NAMESPACE

IPO_OPENS, IPO_CLOSES, IPO_LISTING = "ipo_opens", "ipo_closes", "ipo_listing"
CORPORATE_ACTION, MATURITY = "corporate_action", "maturity"
KINDS = (IPO_OPENS, IPO_CLOSES, IPO_LISTING, CORPORATE_ACTION, MATURITY)
LIVE_SUBSCRIPTIONS = ("subscribed", "allotted")  # a cancelled or unallotted subscription has no more events
MAX_DAYS = 366  # the widest calendar one request may ask for


@dataclass(frozen=True)
class CalendarEvent:
    """One row of a calendar (`customer_id` None: a brokerage-wide event)."""

    event_date: date
    customer_id: str | None
    kind: str
    ref_id: str
    security: str | None
    label: str | None
    quantity: Decimal | None = None
    amount: Decimal | None = None
    currency: str | None = None
    account_id: str | None = None

    @property
    def key(self) -> str:
        return event_key(self.kind, self.ref_id)

    @property
    def title(self) -> str:
        return title(self.kind, self.label, self.security)

    def sort_key(self) -> tuple[date, str, str]:
        return self.event_date, self.customer_id or "", self.key


def event_key(kind: str, ref_id: str) -> str:
    return f"{kind}:{ref_id}"


def title(kind: str, label: str | None, security: str | None) -> str:
    """What happens, in a few words (no personal data: it travels in the reminder and the task)."""
    what = label or security or ""
    sec = f" ({security})" if security and label and security != label else ""
    return {
        IPO_OPENS: f"IPO subscription opens: {what}{sec}",
        IPO_CLOSES: f"IPO subscription closes: {what}{sec}",
        IPO_LISTING: f"IPO listing: {what}{sec}",
        CORPORATE_ACTION: f"{(label or 'corporate action').capitalize()}: {security or ''}".rstrip(": "),
        MATURITY: f"Maturity: {what}",
    }[kind][:200]


def window(today: date, days: int) -> tuple[date, date]:
    """The days a reminder run covers: from today to `days` days ahead (both included)."""
    return today, today + timedelta(days=days)


def merge_brokerage(own: list[CalendarEvent], brokerage: list[CalendarEvent]) -> list[CalendarEvent]:
    """A customer's calendar: their own events and the brokerage-wide ones, an IPO they subscribed to shown
    once (as theirs), sorted by (day, key)."""
    mine = {(e.kind, e.ref_id) for e in own}
    out = own + [e for e in brokerage if (e.kind, e.ref_id) not in mine]
    return sorted(out, key=lambda e: (e.event_date, e.key, e.customer_id or ""))


def item(e: CalendarEvent) -> dict[str, Any]:
    """The API's shape of an event."""
    return {"event_key": e.key, "kind": e.kind, "date": e.event_date.isoformat(), "customer_id": e.customer_id,
            "scope": "customer" if e.customer_id else "brokerage", "ref_id": e.ref_id, "security": e.security,
            "title": e.title, "quantity": _money(e.quantity), "amount": _money(e.amount), "currency": e.currency,
            "account_id": e.account_id}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(str(value)).normalize(), "f")  # (SQLite: a float)


def reminder_uuid(customer_id: str, key: str) -> uuid.UUID:
    return uuid.uuid5(JOB_NAMESPACE, f"wealth-reminder:{customer_id}:{key}")


class WealthReminder(Aggregate):
    """The reminder of one calendar event to one customer's owner, sent once (`event_date`: ISO day)."""

    @staticmethod
    def create_id(customer_id: str, event_key: str, **_: Any) -> uuid.UUID:  # type: ignore[override]
        return reminder_uuid(customer_id, event_key)

    @event("Due")
    def __init__(self, customer_id: str, event_key: str, kind: str, event_date: str, security: str | None,
                 title: str, days_before: int, due_at: datetime):
        self.customer_id, self.event_key, self.kind, self.event_date = customer_id, event_key, kind, event_date
        self.security, self.title, self.days_before, self.due_at = security, title, days_before, due_at
