"""The wealth calendar read from the wealth tables (`projections/wealth.py`), and the reminders.

`customer_events` is one UNION ALL over the customers' own events between two days (subscribed IPOs' closing
and listing days, corporate actions on held securities, maturities), narrowed by a condition on the customer
id (one customer, a data scope, a manager) and paged by `(day, customer id, kind, source id)`;
`brokerage_events` the open IPO windows. `Reminders.run_once` (run by the worker's leader, `LeaderScheduler`)
creates a `WealthReminder` for every own event from today to `CUSTOMER_WEALTH_REMINDER_DAYS` ahead that has
none yet; the outbox publishes it as `crm.customer.wealth_event_due`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from eventsourcing.persistence import IntegrityError
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, sessionmaker

from shared.runtime.logging import get_logger

from .application import CustomerApplication
from .domain.wealth import (
    CORPORATE_ACTION,
    IPO_CLOSES,
    IPO_LISTING,
    IPO_OPENS,
    LIVE_SUBSCRIPTIONS,
    MATURITY,
    CalendarEvent,
    WealthReminder,
    window,
)
from .projections.tables import Tables

log = get_logger("customer.calendar")
CustomerCond = Callable[[Any], ColumnElement[bool] | None]  # customer id column → condition (None: any)
COLUMNS = ("event_date", "customer_id", "kind", "ref_id", "security", "label", "quantity", "amount", "currency",
           "account_id")


def _parts(t: Tables, first: date, last: date, who: CustomerCond, kinds: set[str] | None) -> list[Select[Any]]:
    w = t.wealth
    # typed NULLs: PostgreSQL takes an untyped NULL in the first SELECT of a UNION for text
    no_money, no_text = cast(null(), w.subscription.c.quantity.type), cast(null(), String)
    sub, ipo, act, hold, mat = w.subscription, w.ipo, w.action, w.holding, w.maturity
    parts = []

    def narrowed(stmt: Select[Any], cid: Any, day: Any) -> Select[Any]:
        cond = who(cid)
        stmt = stmt.where(day >= first, day <= last)
        return stmt.where(cond) if cond is not None else stmt

    for kind, day in ((IPO_CLOSES, ipo.c.close_date), (IPO_LISTING, ipo.c.listing_date)):
        if kinds is None or kind in kinds:
            parts.append(narrowed(select(
                day.label("event_date"), sub.c.customer_id, literal(kind).label("kind"), ipo.c.ipo_id.label("ref_id"),
                ipo.c.security, ipo.c.name.label("label"), sub.c.quantity.label("quantity"), no_money.label("amount"),
                no_text.label("currency"), sub.c.account_id)
                .select_from(sub.join(ipo, ipo.c.ipo_id == sub.c.ipo_id))
                .where(or_(*(sub.c.status == s for s in LIVE_SUBSCRIPTIONS))),  # (no IN list: see fetch_all)
                sub.c.customer_id, day))
    if kinds is None or CORPORATE_ACTION in kinds:
        held = select(hold.c.customer_id, hold.c.security).where(hold.c.quantity > 0).distinct().subquery("held")
        parts.append(narrowed(select(
            act.c.event_date, held.c.customer_id, literal(CORPORATE_ACTION).label("kind"),
            act.c.action_id.label("ref_id"), act.c.security, act.c.kind.label("label"), no_money.label("quantity"),
            act.c.amount_per_share.label("amount"), act.c.currency, no_text.label("account_id"))
            .select_from(held.join(act, act.c.security == held.c.security)), held.c.customer_id, act.c.event_date))
    if kinds is None or MATURITY in kinds:
        parts.append(narrowed(select(
            mat.c.maturity_date.label("event_date"), mat.c.customer_id, literal(MATURITY).label("kind"),
            mat.c.maturity_id.label("ref_id"), no_text.label("security"), mat.c.product.label("label"),
            no_money.label("quantity"), mat.c.amount, mat.c.currency, mat.c.account_id), mat.c.customer_id,
            mat.c.maturity_date))
    return parts


def calendar_event(r: Any) -> CalendarEvent:
    """A row of `customer_events_stmt` (a mapping: a Row's `_mapping` or a `fetch_all` dict)."""
    day = r["event_date"]
    day = day if isinstance(day, date) else date.fromisoformat(str(day))
    return CalendarEvent(day, r["customer_id"], r["kind"], r["ref_id"], r["security"], r["label"], r["quantity"],
                         r["amount"], r["currency"], r["account_id"])


def customer_events_stmt(t: Tables, first: date, last: date, who: CustomerCond, *,
                         kinds: set[str] | None = None, after: tuple[date, str, str, str] | None = None,
                         limit: int | None = None) -> Select[Any] | None:
    """The statement of `customer_events` (None: no kind asked for has customers' events)."""
    parts = _parts(t, first, last, who, kinds)
    if not parts:
        return None
    u = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("calendar")
    order = (u.c.event_date, u.c.customer_id, u.c.kind, u.c.ref_id)
    stmt = select(*(u.c[c] for c in COLUMNS))
    if after is not None:
        stmt = stmt.where(tuple_(*order) > tuple_(*after))
    stmt = stmt.order_by(*order)
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


def customer_events(session: Session, t: Tables, first: date, last: date, who: CustomerCond, *,
                    kinds: set[str] | None = None, after: tuple[date, str, str, str] | None = None,
                    limit: int | None = None) -> list[CalendarEvent]:
    """The customers' own events from `first` to `last` (both included), by (day, customer, kind, source)."""
    stmt = customer_events_stmt(t, first, last, who, kinds=kinds, after=after, limit=limit)
    return [] if stmt is None else [calendar_event(r._mapping) for r in session.execute(stmt)]


def brokerage_stmts(t: Tables, first: date, last: date, *, kinds: set[str] | None = None,
                    limit: int = 200) -> dict[str, Select[Any]]:
    """The statements of `brokerage_events`, by kind (`brokerage_from_rows` makes the events of their rows)."""
    ipo = t.wealth.ipo
    return {kind: select(ipo).where(day >= first, day <= last).order_by(day, ipo.c.ipo_id).limit(limit)
            for kind, day in ((IPO_OPENS, ipo.c.open_date), (IPO_CLOSES, ipo.c.close_date))
            if kinds is None or kind in kinds}


def brokerage_from_rows(rows: dict[str, list[Any]], limit: int = 200) -> list[CalendarEvent]:
    """`brokerage_stmts`' rows (mappings, by kind) as events, by day."""
    out = [CalendarEvent(r["open_date" if kind == IPO_OPENS else "close_date"], None, kind, r["ipo_id"],
                         r["security"], r["name"]) for kind, kind_rows in rows.items() for r in kind_rows]
    return sorted(out, key=lambda e: (e.event_date, e.key))[:limit]


def brokerage_events(session: Session, t: Tables, first: date, last: date, *,
                     kinds: set[str] | None = None, limit: int = 200) -> list[CalendarEvent]:
    """The IPO windows opening or closing from `first` to `last`: events of the whole brokerage."""
    stmts = brokerage_stmts(t, first, last, kinds=kinds, limit=limit)
    return brokerage_from_rows({k: [r._mapping for r in session.execute(s)] for k, s in stmts.items()}, limit)


def holdings_stmt(t: Tables, customer_id: Any) -> Select[Any]:
    """The statement of `holdings` (`customer_id`: a value or a bind parameter)."""
    a, h = t.wealth.account, t.wealth.holding
    return (select(h.c.account_id, h.c.security, h.c.quantity, a.c.as_of)
            .select_from(h.join(a, and_(a.c.customer_id == h.c.customer_id, a.c.account_id == h.c.account_id)))
            .where(h.c.customer_id == customer_id).order_by(h.c.account_id, h.c.security))


def holding_entries(rows: list[Any]) -> list[dict[str, Any]]:
    """`holdings_stmt`'s rows (mappings) as the API shows them."""
    return [{"account_id": r["account_id"], "security": r["security"],
             "quantity": format(r["quantity"].normalize(), "f"),
             "as_of": (r["as_of"] if r["as_of"].tzinfo else r["as_of"].replace(tzinfo=UTC)).isoformat()}
            for r in rows]


def holdings(session: Session, t: Tables, customer_id: str) -> list[dict[str, Any]]:
    """What the customer holds, per account, as of its latest snapshot."""
    return holding_entries([r._mapping for r in session.execute(holdings_stmt(t, customer_id))])


class Reminders:
    """Creates the reminders due (one `WealthReminder` per customer and event, never two)."""

    def __init__(self, app: CustomerApplication, sessions: sessionmaker[Session], tables: Tables, *, days: int,
                 today: Callable[[], date], clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.app, self.sessions, self.tables, self.days = app, sessions, tables, days
        self.today, self.clock = today, clock

    def due(self, today: date) -> list[CalendarEvent]:
        """The own events from today to `days` ahead that have no reminder yet."""
        first, last = window(today, self.days)
        r = self.tables.wealth.reminder
        with self.sessions() as s:
            events = customer_events(s, self.tables, first, last, lambda _cid: None)
            sent: set[tuple[str, str]] = set()
            ids = sorted({e.customer_id for e in events if e.customer_id})
            for i in range(0, len(ids), 500):
                sent.update(s.execute(select(r.c.customer_id, r.c.event_key)
                                      .where(r.c.customer_id.in_(ids[i:i + 500]))).tuples())
        return [e for e in events if e.customer_id and (e.customer_id, e.key) not in sent]

    def run_once(self) -> int:
        """Send what is due; returns how many reminders were created."""
        now = self.clock()
        created = 0
        for e in self.due(self.today()):
            reminder = WealthReminder(customer_id=e.customer_id, event_key=e.key, kind=e.kind,
                                      event_date=e.event_date.isoformat(), security=e.security, title=e.title,
                                      days_before=self.days, due_at=now)
            try:
                self.app.save(reminder)
            except IntegrityError:  # another leader (or an earlier run whose row is not read yet) sent it
                continue
            created += 1
        if created:
            log.info("wealth_reminders_created", count=created)
        return created

