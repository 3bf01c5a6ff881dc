"""The rows one batch of platform / CRM events writes, gathered per table, and how they are written: a fixed
number of statements per table (executemany of one compiled statement), order-independent (see info.py)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, or_, select, tuple_, update
from sqlalchemy.orm import Session

from shared.events import Event
from shared.runtime.sqlrows import insert_ignore, upsert

from . import tables as t


class Rows:
    """What one batch writes, gathered per table."""

    def __init__(self) -> None:
        self.customers: dict[str, datetime | None] = {}
        self.owners: dict[tuple[str, str], dict[str, Any]] = {}
        self.managers: dict[str, dict[str, Any]] = {}
        self.facts: list[dict[str, Any]] = []
        self.logins: list[dict[str, Any]] = []
        self.statement: list[dict[str, Any]] = []
        self.accounts: dict[str, str] = {}  # account id -> customer id (row must exist)
        self.account_updates: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.allocations: dict[str, str] = {}
        self.allocation_updates: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.allocation_deposits: list[dict[str, Any]] = []
        self.funds: list[dict[str, Any]] = []

    def customer(self, customer_id: str, registered_at: datetime | None = None) -> None:
        if registered_at is not None or customer_id not in self.customers:
            self.customers[customer_id] = registered_at or self.customers.get(customer_id)

    def fact(self, e: Event, section: str, at: datetime, data: dict[str, Any], item_id: str | None = None) -> None:
        cid = e.payload.customer_id
        self.customer(cid)
        self.facts.append({"event_id": str(e.event_id), "customer_id": cid, "section": section,
                           "item_id": item_id, "at": at, "data": data})

    def entry(self, p: Any, kind: str, ref: str, at: datetime, amount: Decimal, currency: str, **extra: Any) -> None:
        self.account(p.customer_id, p.account_id)
        self.statement.append({"entry_id": f"{kind}:{ref}", "customer_id": p.customer_id,
                               "account_id": p.account_id, "kind": kind, "at": at, "amount": amount,
                               "currency": currency, "reference": ref, "symbol": extra.get("symbol"),
                               "side": extra.get("side"), "quantity": extra.get("quantity"),
                               "price": extra.get("price"), "description": extra.get("description")})

    def account(self, customer_id: str, account_id: str) -> None:
        self.customer(customer_id)
        self.accounts.setdefault(account_id, customer_id)

    def allocation(self, customer_id: str, allocation_id: str) -> None:
        self.customer(customer_id)
        self.allocations.setdefault(allocation_id, customer_id)


# --------------------------------------------------------------------------------------------- writes
def to_utc(r: Rows) -> None:
    """Every time in UTC: payload times may carry any offset, and SQL compares them as stored."""
    def fix(row: dict[str, Any]) -> None:
        for key, value in row.items():
            if isinstance(value, datetime):
                row[key] = value.astimezone(UTC)

    groups = [r.facts, r.logins, r.statement, r.allocation_deposits, r.funds, list(r.owners.values()),
              list(r.managers.values()),
              *r.account_updates.values(), *r.allocation_updates.values()]
    for group in groups:
        for row in group:
            fix(row)
    for cid, at in r.customers.items():
        r.customers[cid] = at.astimezone(UTC) if at is not None else None


def write(session: Session, r: Rows) -> None:
    insert_ignore(session, t.customer, [{"customer_id": c, "registered_at": None} for c in r.customers], ["customer_id"])
    registered = [{"k": c, "at": at} for c, at in r.customers.items() if at is not None]
    if registered:
        session.execute(update(t.customer).where(t.customer.c.customer_id == bindparam("k"))
                        .values(registered_at=bindparam("at")).execution_options(synchronize_session=False),
                        registered)
    _write_owners(session, r)
    _write_latest(session, t.manager, "manager_id", r.managers)
    insert_ignore(session, t.fact, r.facts, ["event_id"])
    insert_ignore(session, t.login, r.logins, ["login_id"])
    insert_ignore(session, t.statement, r.statement, ["entry_id"])
    insert_ignore(session, t.account, [{"account_id": a, "customer_id": c} for a, c in r.accounts.items()],
                  ["account_id"])
    _write_accounts(session, r.account_updates)
    insert_ignore(session, t.allocation, [{"allocation_id": a, "customer_id": c} for a, c in r.allocations.items()],
                  ["allocation_id"])
    _write_allocations(session, r.allocation_updates)
    insert_ignore(session, t.allocation_deposit, r.allocation_deposits, ["transaction_id"])
    _write_funds(session, r.funds)


def _bulk(session: Session, stmt: Any, params: list[dict[str, Any]]) -> None:
    if params:
        session.execute(stmt.execution_options(synchronize_session=False), params)


def _write_owners(session: Session, r: Rows) -> None:
    if not r.owners:
        return
    o = t.owner
    keys = list(r.owners)
    existing = {(x.customer_id, x.manager_id): (_aware(x.changed_at), x.event_id) for x in session.execute(
        select(o.c.customer_id, o.c.manager_id, o.c.changed_at, o.c.event_id)
        .where(tuple_(o.c.customer_id, o.c.manager_id).in_(keys)))}
    newer = [row for key, row in r.owners.items()
             if key not in existing or (row["changed_at"], row["event_id"]) > existing[key]]
    upsert(session, o, newer, ["customer_id", "manager_id"])


def _write_latest(session: Session, table: Any, key: str, rows: dict[str, dict[str, Any]]) -> None:
    """Last-writer-wins by (changed_at, event_id) per key."""
    if not rows:
        return
    k, at, eid = table.c[key], table.c.changed_at, table.c.event_id
    existing = {x[0]: (_aware(x[1]), x[2]) for x in session.execute(select(k, at, eid).where(k.in_(list(rows))))}
    newer = [row for key_, row in rows.items()
             if key_ not in existing or (row["changed_at"], row["event_id"]) > existing[key_]]
    upsert(session, table, newer, [key])


def _write_accounts(session: Session, u: dict[str, list[dict[str, Any]]]) -> None:
    a = t.account
    k = a.c.account_id == bindparam("k")
    _bulk(session, update(a).where(k).values(account_type=bindparam("account_type"),
                                             opened_at=bindparam("opened_at")), u["opened"])
    _bulk(session, update(a).where(k).values(closed_at=bindparam("closed_at")), u["closed"])
    _bulk(session, update(a).where(k, a.c.currency.is_(None)).values(currency=bindparam("currency")), u["currency"])
    _bulk(session, update(a).where(k, or_(a.c.balance_as_of.is_(None), a.c.balance_as_of < bindparam("as_of")))
          .values(balance=bindparam("balance"), cash=bindparam("cash"), currency=bindparam("currency"),
                  balance_as_of=bindparam("as_of")), _latest(u["balance"], "as_of"))


def _write_allocations(session: Session, u: dict[str, list[dict[str, Any]]]) -> None:
    a = t.allocation
    k = a.c.allocation_id == bindparam("k")
    _bulk(session, update(a).where(k).values(
        account_id=bindparam("account_id"), fund_id=bindparam("fund_id"), fund_name=bindparam("fund_name"),
        initial_amount=bindparam("initial_amount"), currency=bindparam("currency"),
        started_at=bindparam("started_at")), u["started"])
    _bulk(session, update(a).where(k).values(stopped_at=bindparam("stopped_at")), u["stopped"])
    _bulk(session, update(a).where(k, or_(a.c.valued_at.is_(None), a.c.valued_at < bindparam("as_of"))).values(
        value=bindparam("value"), performance_pct=bindparam("performance_pct"), valued_at=bindparam("as_of")),
        _latest(u["valued"], "as_of"))


def _write_funds(session: Session, funds: list[dict[str, Any]]) -> None:
    latest = {f["fund_id"]: f for f in sorted(funds, key=lambda f: f["as_of"])}
    if not latest:
        return
    f = t.fund
    existing = dict(session.execute(select(f.c.fund_id, f.c.as_of).where(f.c.fund_id.in_(list(latest)))).all())
    newer = [row for fid, row in latest.items() if fid not in existing or _aware(existing[fid]) < row["as_of"]]
    upsert(session, f, newer, ["fund_id"])


def _latest(updates: list[dict[str, Any]], at: str) -> list[dict[str, Any]]:
    """One update per key: the latest by `at` (one executemany row per key keeps the WHERE guard exact)."""
    out: dict[str, dict[str, Any]] = {}
    for u in updates:
        if u["k"] not in out or u[at] > out[u["k"]][at]:
            out[u["k"]] = u
    return list(out.values())


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value

