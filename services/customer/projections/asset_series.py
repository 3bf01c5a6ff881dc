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

from sqlalchemy import bindparam, delete, literal, select, text, tuple_, union_all, update
from sqlalchemy.orm import Session

from ..domain.daily import AccountDay, CustomerDay, ada, ada_points, change_points, latest_of, local_day
from ..domain.state import Fact, parse_time
from .tables import Tables, insert_for, upsert

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
        known = sorted({(r["customer_id"], r["account_id"]) for r in rows_out})
        session.execute(insert_for(session, t.asset_account).on_conflict_do_nothing(),
                        [{"customer_id": c, "account_id": a} for c, a in known])
    return out


def _rewrite(session: Session, t: Tables, ids: list[str], start: date) -> list[dict[str, Any]]:
    """Rewrite the change points of `ids` from `start` on; returns their ADA column values."""
    ad, cd = t.account_day, t.customer_day
    later: dict[str, list[AccountDay]] = {cid: [] for cid in ids}
    for r in session.execute(select(ad).where(ad.c.customer_id.in_(ids), ad.c.day >= start)):
        later[r.customer_id].append(_row(r))
    carried: dict[str, dict[str, AccountDay]] = {cid: {} for cid in ids}
    for (cid, _acc), r in accounts_before(session, t, ids, start).items():
        carried[cid][r.account_id] = r
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


def _latest(session: Session, table: Any, keys: tuple[str, ...], wanted: Sequence[tuple[tuple[str, ...], date]],
            *, strict: bool) -> dict[tuple[tuple[str, ...], date], Any]:
    """{(key, day): the row of `key` with the latest day on or before `day` (before it: `strict`)}, one index
    probe each (backwards on the primary key, stopping at the first row), in UNION ALL statements."""
    out: dict[tuple[tuple[str, ...], date], Any] = {}
    wanted = list(dict.fromkeys(wanted))
    if wanted and session.get_bind().dialect.name == "postgresql":
        # one statement, planned once: the wanted keys as arrays, a LATERAL probe per key
        cols = ", ".join(f"CAST(:c{j} AS text[])" for j in range(len(keys)))
        names = ", ".join(f"c{j}" for j in range(len(keys)))
        match = " AND ".join(f't."{c}" = v.c{j}' for j, c in enumerate(keys))
        sql = text(f'SELECT v.k, r.* FROM unnest(CAST(:k AS int[]), {cols}, CAST(:d AS date[])) AS v(k, {names}, d) '
                   f'CROSS JOIN LATERAL (SELECT * FROM "{table.name}" t WHERE {match} '
                   f'AND t.day {"<" if strict else "<="} v.d ORDER BY t.day DESC LIMIT 1) r')
        params: dict[str, Any] = {"k": list(range(len(wanted))), "d": [d for _, d in wanted]}
        for j in range(len(keys)):
            params[f"c{j}"] = [key[j] for key, _ in wanted]
        for r in session.execute(sql, params):
            out[wanted[r.k]] = r
        return out
    for i in range(0, len(wanted), CHUNK):
        parts = [select(literal(k).label("k"), table)
                 .where(*(table.c[c] == v for c, v in zip(keys, key, strict=True)),
                        table.c.day < d if strict else table.c.day <= d)
                 .order_by(table.c.day.desc()).limit(1).subquery().select()
                 for k, (key, d) in enumerate(wanted[i:i + CHUNK], start=i)]
        for r in session.execute(union_all(*parts) if len(parts) > 1 else parts[0]):
            out[wanted[r.k]] = r
    return out


def points_at(session: Session, t: Tables, pairs: Sequence[tuple[str, date]]) -> dict[tuple[str, date], CustomerDay]:
    """{(customer, day): the customer's latest change point on or before day} (absent: none yet)."""
    found = _latest(session, t.customer_day, ("customer_id",), [((cid,), d) for cid, d in pairs], strict=False)
    return {(key[0], d): _cday(r) for (key, d), r in found.items()}


def accounts_before(session: Session, t: Tables, ids: list[str], day: date, *,
                    inclusive: bool = False) -> dict[tuple[str, str], AccountDay]:
    """{(customer, account): the account's latest value before `day` (on or before: `inclusive`)} for every
    account of `ids` that has one (the accounts from `customer_asset_account`)."""
    aa = t.asset_account
    pairs = session.execute(select(aa.c.customer_id, aa.c.account_id).where(aa.c.customer_id.in_(ids))).all()
    found = _latest(session, t.account_day, ("customer_id", "account_id"), [((c, a), day) for c, a in pairs],
                    strict=not inclusive)
    return {(key[0], key[1]): _row(r) for (key, _d), r in found.items()}


def series(session: Session, t: Tables, customer_id: str, first: date, last: date) -> dict[str, Any]:
    """The change points a chart of [first, last] needs: the customer's and each account's, each from the
    latest one on or before `first`."""
    ad, cd = t.account_day, t.customer_day
    start = points_at(session, t, [(customer_id, first)]).get((customer_id, first))
    cust = [*([start] if start else []),
            *(_cday(r) for r in session.execute(select(cd).where(cd.c.customer_id == customer_id, cd.c.day > first,
                                                                  cd.c.day <= last).order_by(cd.c.day)))]
    accounts: dict[str, list[AccountDay]] = {}
    for (_cid, acc), r in sorted(accounts_before(session, t, [customer_id], first, inclusive=True).items()):
        accounts[acc] = [r]
    for r in session.execute(select(ad).where(ad.c.customer_id == customer_id, ad.c.day > first, ad.c.day <= last)
                             .order_by(ad.c.account_id, ad.c.day)):
        accounts.setdefault(r.account_id, []).append(_row(r))
    return {"customer": cust, "accounts": accounts}
