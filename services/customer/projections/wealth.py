"""The wealth calendar's facts (`brokerage.wealth`): IPO windows and subscriptions, corporate actions, the
positions each account holds and maturities, folded by `apply_wealth` in the consumer's batch transaction
(`SqlBatchHandler`: event ids and positions in the same transaction).

Every row is a last-writer-wins register by `(business time, event id)` (the `version` column, compared in the
upsert itself): an IPO window by ipo id, a subscription by (customer, ipo), a corporate action by action id, a
maturity by maturity id, an account's positions by (customer, account) — a newer snapshot replaces the account's
holdings. So any delivery order, duplicates included, gives the same rows. The platform's topics keep 30 days:
each event applied is journaled in the service's own store (`customer_wealth_journal`,
`shared.runtime.journal`) and a rebuild replays the journal (`Container.rebuild_read_model`).

The calendar itself is computed when read (`api/calendar.py`, `domain/wealth.py`); the reminders sent are
folded from the event store (`customer_wealth_reminder`, `projections/customer_view.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Date, DateTime, Index, MetaData, Numeric, String, Table, delete, select, tuple_
from sqlalchemy.orm import Session

from shared.events import Event
from shared.events.upstream_wealth import (
    CorporateActionAnnounced,
    IpoSubscribed,
    IpoWindowAnnounced,
    MaturityScheduled,
    PositionsReported,
)
from shared.runtime.journal import journal_table
from shared.runtime.logging import get_logger
from shared.runtime.sqlrows import upsert

log = get_logger("customer.wealth")
TS = DateTime(timezone=True)
MONEY = Numeric(28, 8)
USED = (IpoWindowAnnounced, IpoSubscribed, CorporateActionAnnounced, PositionsReported, MaturityScheduled)
CHUNK = 400


@dataclass
class WealthTables:
    journal: Table
    ipo: Table
    subscription: Table
    action: Table
    account: Table
    holding: Table
    maturity: Table
    reminder: Table  # from the event store (the reminders published), not from Kafka

    def consumer_fed(self) -> list[Table]:
        """The tables `apply_wealth` writes (rebuilt from the journal)."""
        return [self.ipo, self.subscription, self.action, self.account, self.holding, self.maturity]


def wealth_tables(md: MetaData) -> WealthTables:
    version = lambda: Column("version", String(120), nullable=False,  # noqa: E731
                             doc="(business time ISO UTC)|event id: the newest wins")
    cid = lambda **kw: Column("customer_id", String(64), nullable=False, **kw)  # noqa: E731
    ipo = Table(
        "customer_wealth_ipo", md,
        Column("ipo_id", String(64), primary_key=True), Column("security", String(32), nullable=False),
        Column("name", String(200), nullable=False), Column("open_date", Date, nullable=False),
        Column("close_date", Date, nullable=False), Column("listing_date", Date), version(),
    )
    Index("ix_wealth_ipo_close", ipo.c.close_date, ipo.c.ipo_id)
    subscription = Table(
        "customer_wealth_subscription", md,
        cid(primary_key=True), Column("ipo_id", String(64), primary_key=True), Column("account_id", String(64)),
        Column("quantity", MONEY, nullable=False), Column("status", String(16), nullable=False), version(),
    )
    Index("ix_wealth_subscription_ipo", subscription.c.ipo_id, subscription.c.customer_id)
    action = Table(
        "customer_wealth_action", md,
        Column("action_id", String(64), primary_key=True), Column("security", String(32), nullable=False),
        Column("kind", String(16), nullable=False), Column("ex_date", Date), Column("record_date", Date),
        Column("pay_date", Date), Column("event_date", Date, nullable=False, doc="ex, else record, else pay date"),
        Column("amount_per_share", MONEY), Column("currency", String(3)), Column("ratio", String(200)), version(),
    )
    Index("ix_wealth_action_security", action.c.security, action.c.event_date)
    Index("ix_wealth_action_date", action.c.event_date, action.c.security)
    account = Table(
        "customer_wealth_account", md,
        cid(primary_key=True), Column("account_id", String(64), primary_key=True),
        Column("as_of", TS, nullable=False), version(),
    )
    holding = Table(
        "customer_wealth_holding", md,
        cid(primary_key=True), Column("account_id", String(64), primary_key=True),
        Column("security", String(32), primary_key=True), Column("quantity", MONEY, nullable=False),
    )
    Index("ix_wealth_holding_security", holding.c.security, holding.c.customer_id)
    maturity = Table(
        "customer_wealth_maturity", md,
        Column("maturity_id", String(64), primary_key=True), cid(), Column("account_id", String(64), nullable=False),
        Column("product", String(200), nullable=False), Column("maturity_date", Date, nullable=False),
        Column("amount", MONEY), Column("currency", String(3)), version(),
    )
    Index("ix_wealth_maturity_customer", maturity.c.customer_id, maturity.c.maturity_date)
    Index("ix_wealth_maturity_date", maturity.c.maturity_date, maturity.c.customer_id)
    reminder = Table(
        "customer_wealth_reminder", md,
        cid(primary_key=True), Column("event_key", String(200), primary_key=True),
        Column("event_date", Date, nullable=False), Column("due_at", TS, nullable=False),
    )
    return WealthTables(journal_table(md, "customer_wealth_journal"), ipo, subscription, action, account, holding,
                        maturity, reminder)


def version_of(at: datetime, event_id: str) -> str:
    """`(business time, event id)` as one string that sorts like the pair (fixed-width UTC ISO time)."""
    return f"{at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%f')}|{event_id}"


def _keep(bucket: dict[Any, dict[str, Any]], key: Any, row: dict[str, Any]) -> None:
    cur = bucket.get(key)
    if cur is None or row["version"] > cur["version"]:
        bucket[key] = row


def apply_wealth(t: WealthTables):  # type: ignore[no-untyped-def]
    """`apply(session, events)` for SqlBatchHandler (journaled: `shared.runtime.journal.journaled`)."""

    def apply(session: Session, events: list[Event]) -> None:
        ipos: dict[Any, dict[str, Any]] = {}
        subs: dict[Any, dict[str, Any]] = {}
        actions: dict[Any, dict[str, Any]] = {}
        maturities: dict[Any, dict[str, Any]] = {}
        snapshots: dict[Any, dict[str, Any]] = {}
        for e in events:
            p, eid = e.payload, str(e.event_id)
            if isinstance(p, IpoWindowAnnounced):
                _keep(ipos, p.ipo_id, {"ipo_id": p.ipo_id, "security": p.security, "name": p.name,
                                       "open_date": p.open_date, "close_date": p.close_date,
                                       "listing_date": p.listing_date, "version": version_of(p.announced_at, eid)})
            elif isinstance(p, IpoSubscribed):
                _keep(subs, (p.customer_id, p.ipo_id), {
                    "customer_id": p.customer_id, "ipo_id": p.ipo_id, "account_id": p.account_id,
                    "quantity": p.quantity, "status": p.status.value, "version": version_of(p.updated_at, eid)})
            elif isinstance(p, CorporateActionAnnounced):
                _keep(actions, p.action_id, {
                    "action_id": p.action_id, "security": p.security, "kind": p.kind.value, "ex_date": p.ex_date,
                    "record_date": p.record_date, "pay_date": p.pay_date,
                    "event_date": p.ex_date or p.record_date or p.pay_date, "amount_per_share": p.amount_per_share,
                    "currency": p.currency, "ratio": p.ratio, "version": version_of(p.announced_at, eid)})
            elif isinstance(p, MaturityScheduled):
                _keep(maturities, p.maturity_id, {
                    "maturity_id": p.maturity_id, "customer_id": p.customer_id, "account_id": p.account_id,
                    "product": p.product, "maturity_date": p.maturity_date, "amount": p.amount,
                    "currency": p.currency, "version": version_of(p.scheduled_at, eid)})
            elif isinstance(p, PositionsReported):
                held: dict[str, Any] = {}
                for h in p.positions:  # one security listed twice: the quantities add up
                    held[h.security] = held.get(h.security, 0) + h.quantity
                _keep(snapshots, (p.customer_id, p.account_id), {
                    "customer_id": p.customer_id, "account_id": p.account_id, "as_of": p.as_of,
                    "version": version_of(p.as_of, eid), "held": held})
        for table, bucket, keys in ((t.ipo, ipos, ["ipo_id"]), (t.subscription, subs, ["customer_id", "ipo_id"]),
                                    (t.action, actions, ["action_id"]), (t.maturity, maturities, ["maturity_id"])):
            upsert(session, table, [bucket[k] for k in sorted(bucket)], keys, newer="version")
        if snapshots:
            _apply_snapshots(session, t, snapshots)
        log.info("wealth_projected", events=len(events), ipos=len(ipos), subscriptions=len(subs),
                 actions=len(actions), maturities=len(maturities), snapshots=len(snapshots))

    return apply


def _apply_snapshots(session: Session, t: WealthTables, snapshots: dict[Any, dict[str, Any]]) -> None:
    """The snapshots newer than the stored one of their account replace its holdings."""
    a, h = t.account, t.holding
    keys = sorted(snapshots)
    stored: dict[Any, str] = {}
    for i in range(0, len(keys), CHUNK):
        rows = session.execute(select(a.c.customer_id, a.c.account_id, a.c.version)
                               .where(tuple_(a.c.customer_id, a.c.account_id).in_(keys[i:i + CHUNK])))
        stored.update({(r.customer_id, r.account_id): r.version for r in rows})
    winners = [snapshots[k] for k in keys if stored.get(k) is None or snapshots[k]["version"] > stored[k]]
    if not winners:
        return
    upsert(session, a, [{k: v for k, v in w.items() if k != "held"} for w in winners],
           ["customer_id", "account_id"])
    won = [(w["customer_id"], w["account_id"]) for w in winners]
    for i in range(0, len(won), CHUNK):
        session.execute(delete(h).where(tuple_(h.c.customer_id, h.c.account_id).in_(won[i:i + CHUNK])))
    rows = [{"customer_id": w["customer_id"], "account_id": w["account_id"], "security": s, "quantity": q}
            for w in winners for s, q in sorted(w["held"].items()) if q > 0]
    if rows:
        session.execute(h.insert(), rows)
