"""The daily asset series and ADA, folded from asset snapshot facts in the events' transaction.

For a batch: the winning snapshot per (account, local day) is upserted where it beats the stored one
(`(as_of, fact id)`, so any order and any duplicates give the same rows); each customer whose account days
changed gets its change points rewritten from the earliest changed day on (usually today's: a few rows),
then its ADA recomputed from at most seven point look-ups (`domain/daily.py`). Every row is a function of
the set of snapshot facts, so a replay writes the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, delete, func, literal, select, tuple_, union_all, update
from sqlalchemy.orm import Session

from ..domain.daily import AccountDay, CustomerDay, ada, ada_points, change_points, latest_of, local_day
from ..domain.state import Fact, parse_time
from .tables import Tables, upsert

SNAPSHOT = "trading.asset_snapshot_taken"
CHUNK = 400  # keys per IN list; SQLite allows 500 terms in a compound SELECT


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def account_day_of(customer_id: str, fact: Fact, tz: ZoneInfo) -> tuple[str, AccountDay]:
    d = fact["data"]
    at = parse_time(fact["at"])
    assert at is not None
    return customer_id, AccountDay(d["account_id"], local_day(at, tz), d["currency"],
                                   Decimal(str(d["total_assets"])), at, fact["id"])


def _row(r: Any) -> AccountDay:
    return AccountDay(r.account_id, r.day, r.currency, Decimal(r.total), _aware(r.as_of), str(r.fact_id))


def _cday(r: Any) -> CustomerDay:
    return CustomerDay(r.day, r.currency, Decimal(r.total), Decimal(r.cum))


def apply_snapshots(session: Session, t: Tables, snapshots: Iterable[tuple[str, AccountDay]]) -> None:
    by_customer: dict[str, list[AccountDay]] = {}
    for cid, a in snapshots:
        by_customer.setdefault(cid, []).append(a)
    if not by_customer:
        return
    winners = _store_winners(session, t, {cid: latest_of(rows) for cid, rows in by_customer.items()})
    if not winners:
        return
    starts = {cid: min(a.day for a in rows) for cid, rows in winners.items()}
    groups: dict[date, list[str]] = {}
    for cid, start in starts.items():
        groups.setdefault(start, []).append(cid)
    ada_rows = []
    for start, ids in sorted(groups.items()):
        for i in range(0, len(ids), CHUNK):
            ada_rows += _rewrite(session, t, sorted(ids[i:i + CHUNK]), start)
    if ada_rows:
        c = t.customer
        session.execute(update(c).where(c.c.customer_id == bindparam("cid")).values(
            {k: bindparam(k) for k in ada_rows[0] if k != "cid"}), ada_rows)


def _store_winners(session: Session, t: Tables,
                   candidates: dict[str, dict[tuple[str, date], AccountDay]]) -> dict[str, list[AccountDay]]:
    """Upsert the candidates that beat the stored (account, day) value; returns them per customer."""
    ad = t.account_day
    keys = [(cid, acc, day) for cid, m in candidates.items() for (acc, day) in m]
    stored: dict[tuple[str, str, date], tuple[datetime, str]] = {}
    for i in range(0, len(keys), CHUNK):
        rows = session.execute(select(ad.c.customer_id, ad.c.account_id, ad.c.day, ad.c.as_of, ad.c.fact_id)
                               .where(tuple_(ad.c.customer_id, ad.c.account_id, ad.c.day).in_(keys[i:i + CHUNK])))
        stored.update({(r.customer_id, r.account_id, r.day): (_aware(r.as_of), str(r.fact_id)) for r in rows})
    out: dict[str, list[AccountDay]] = {}
    rows_out = []
    for cid, m in sorted(candidates.items()):
        for (acc, day), a in sorted(m.items()):
            cur = stored.get((cid, acc, day))
            if cur is not None and cur >= a.rank:
                continue
            out.setdefault(cid, []).append(a)
            rows_out.append({"customer_id": cid, "account_id": acc, "day": day, "currency": a.currency,
                             "total": a.total, "as_of": a.as_of, "fact_id": a.fact_id})
    if rows_out:
        upsert(session, ad, rows_out, ["customer_id", "account_id", "day"])
    return out


def _rewrite(session: Session, t: Tables, ids: list[str], start: date) -> list[dict[str, Any]]:
    """Rewrite the change points of `ids` from `start` on; returns their ADA column values."""
    ad, cd = t.account_day, t.customer_day
    later: dict[str, list[AccountDay]] = {cid: [] for cid in ids}
    for r in session.execute(select(ad).where(ad.c.customer_id.in_(ids), ad.c.day >= start)):
        later[r.customer_id].append(_row(r))
    inner = ad.alias("b")
    last_before = (select(func.max(inner.c.day)).where(inner.c.customer_id == ad.c.customer_id,
                                                      inner.c.account_id == ad.c.account_id, inner.c.day < start)
                   .scalar_subquery())
    carried: dict[str, dict[str, AccountDay]] = {cid: {} for cid in ids}
    for r in session.execute(select(ad).where(ad.c.customer_id.in_(ids), ad.c.day == last_before)):
        carried[r.customer_id][r.account_id] = _row(r)
    before = start - timedelta(days=1)
    previous = points_at(session, t, [(cid, before) for cid in ids])
    new_points = {cid: change_points(carried[cid], previous.get((cid, before)), later[cid], start) for cid in ids}
    session.execute(delete(cd).where(cd.c.customer_id.in_(ids), cd.c.day >= start))
    rows = [{"customer_id": cid, "day": p.day, "currency": p.currency, "total": p.total, "cum": p.cum}
            for cid in ids for p in new_points[cid]]
    if rows:
        session.execute(cd.insert(), rows)

    as_of = {cid: max(a.day for a in later[cid]) for cid in ids if later[cid]}
    wanted = [(cid, d) for cid, day in as_of.items() for d in ada_points(day) if d < start]
    looked_up = points_at(session, t, wanted)
    out = []
    for cid, day in sorted(as_of.items()):
        mine = sorted([*([previous[(cid, before)]] if (cid, before) in previous else []), *new_points[cid]],
                      key=lambda p: p.day)

        def prefix(d: date, cid: str = cid, mine: list[CustomerDay] = mine) -> Decimal:
            if d < start:
                p = looked_up.get((cid, d))
                return p.prefix(d) if p is not None else Decimal(0)
            found = None
            for p in mine:
                if p.day <= d:
                    found = p
            return found.prefix(d) if found is not None else Decimal(0)

        windows = ada(prefix, day)
        currency = mine[-1].currency if mine else None
        out.append({"cid": cid, "ada_currency": currency, "ada_as_of": day,
                    "ada30": windows[30][0], "ada30_prev": windows[30][1], "ada90": windows[90][0],
                    "ada90_prev": windows[90][1], "ada365": windows[365][0], "ada365_prev": windows[365][1]})
    return out


def points_at(session: Session, t: Tables, pairs: Sequence[tuple[str, date]]) -> dict[tuple[str, date], CustomerDay]:
    """{(customer, day): the customer's latest change point on or before day} (absent: none yet)."""
    cd = t.customer_day
    out: dict[tuple[str, date], CustomerDay] = {}
    pairs = list(dict.fromkeys(pairs))
    for i in range(0, len(pairs), CHUNK):
        parts = [select(literal(k).label("k"), cd.c.day, cd.c.currency, cd.c.total, cd.c.cum)
                 .where(cd.c.customer_id == cid, cd.c.day <= d).order_by(cd.c.day.desc()).limit(1).subquery().select()
                 for k, (cid, d) in enumerate(pairs[i:i + CHUNK], start=i)]
        for r in session.execute(union_all(*parts) if len(parts) > 1 else parts[0]):
            out[pairs[r.k]] = _cday(r)
    return out


def series(session: Session, t: Tables, customer_id: str, first: date, last: date) -> dict[str, Any]:
    """The change points a chart of [first, last] needs: the customer's and each account's, each from the
    latest one on or before `first`."""
    ad, cd = t.account_day, t.customer_day
    start = points_at(session, t, [(customer_id, first)]).get((customer_id, first))
    cust = [*([start] if start else []),
            *(_cday(r) for r in session.execute(select(cd).where(cd.c.customer_id == customer_id, cd.c.day > first,
                                                                  cd.c.day <= last).order_by(cd.c.day)))]
    inner = ad.alias("b")
    last_before = (select(func.max(inner.c.day)).where(inner.c.customer_id == ad.c.customer_id,
                                                      inner.c.account_id == ad.c.account_id, inner.c.day <= first)
                   .scalar_subquery())
    accounts: dict[str, list[AccountDay]] = {}
    rows = session.execute(select(ad).where(ad.c.customer_id == customer_id, and_(
        ad.c.day <= last, (ad.c.day > first) | (ad.c.day == last_before))).order_by(ad.c.account_id, ad.c.day))
    for r in rows:
        accounts.setdefault(r.account_id, []).append(_row(r))
    return {"customer": cust, "accounts": accounts}
