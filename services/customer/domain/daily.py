"""Daily asset series and average daily assets (ADA): pure functions, no database.

- An account's value on a local day (the brokerage's time zone) is its last snapshot of that day
  (`(as_of, fact id)` decides), carried forward over days without one (T+1 data: the platform's end-of-day
  snapshot of day d arrives on d+1, and a day without one keeps the previous value).
- The customer's value on a day is the sum of its accounts' carried values in the valuation currency of
  the most recent snapshot as of that day (no FX in this service, as for total assets).
- The customer series is stored as change points only: a row for a day whose (currency, total) differs
  from the day before, with `cum`, the sum of the daily totals from the first day up to that day
  inclusive. The sum over any window is then two point look-ups: P(b) - P(a - 1), where
  P(d) = cum + total × (d - day) of the latest change point on or before d (0 before the first one).
- ADA over n days ending on day D = (P(D) - P(D - n)) / n: days before the first snapshot count as 0
  (the usual definition: the average of the daily balances over the window). The previous window is the
  n days before: (P(D - n) - P(D - 2n)) / n.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

WINDOWS = (30, 90, 365)
ADA_QUANTUM = Decimal("0.00000001")  # the MONEY column's scale


@dataclass(frozen=True)
class AccountDay:
    """One account's end-of-day value: its last snapshot of the local day."""

    account_id: str
    day: date
    currency: str
    total: Decimal
    as_of: datetime
    fact_id: str

    @property
    def rank(self) -> tuple[datetime, str]:
        return (self.as_of, self.fact_id)


@dataclass(frozen=True)
class CustomerDay:
    """A change point of the customer's series: from `day` on, the value is `total` (in `currency`) until the
    next change point; `cum` is the sum of the daily totals up to and including `day`."""

    day: date
    currency: str
    total: Decimal
    cum: Decimal

    def prefix(self, d: date) -> Decimal:
        """P(d) for a day on or after this change point (and before the next one)."""
        return self.cum + self.total * (d - self.day).days


def local_day(at: datetime, tz: ZoneInfo) -> date:
    """The brokerage's calendar day of an aware time."""
    if at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return at.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local day, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def latest_of(candidates: Iterable[AccountDay]) -> dict[tuple[str, date], AccountDay]:
    """The winning snapshot per (account, day) among candidates (the last of the day)."""
    out: dict[tuple[str, date], AccountDay] = {}
    for a in candidates:
        cur = out.get((a.account_id, a.day))
        if cur is None or a.rank > cur.rank:
            out[(a.account_id, a.day)] = a
    return out


def value_of(accounts: dict[str, AccountDay]) -> tuple[str, Decimal] | None:
    """(currency, total) of a set of carried account values; None without any."""
    if not accounts:
        return None
    currency = max(accounts.values(), key=lambda a: a.rank).currency
    return currency, sum((a.total for a in accounts.values() if a.currency == currency), Decimal(0))


def change_points(carried: dict[str, AccountDay], previous: CustomerDay | None, rows: Iterable[AccountDay],
                  start: date) -> list[CustomerDay]:
    """The customer's change points from `start` to the last day of `rows`.

    `carried`: each account's latest value before `start`; `previous`: the customer's latest change point
    before `start`; `rows`: every account value on `start` or later (all of them, not only the new ones)."""
    by_day: dict[date, list[AccountDay]] = {}
    for r in rows:
        if r.day < start:
            raise ValueError("rows before start")
        by_day.setdefault(r.day, []).append(r)
    if not by_day:
        return []
    accounts = dict(carried)
    last = previous
    out: list[CustomerDay] = []
    for day in sorted(by_day):  # between two days with rows nothing changes: only those days can be change points
        for r in by_day[day]:
            accounts[r.account_id] = r
        value = value_of(accounts)
        assert value is not None
        currency, total = value
        if last is not None and (last.currency, last.total) == (currency, total):
            continue
        before = last.prefix(day - timedelta(days=1)) if last is not None else Decimal(0)
        last = CustomerDay(day, currency, total, before + total)
        out.append(last)
    return out


def prefix_at(points: list[CustomerDay], d: date) -> Decimal:
    """P(d) from change points sorted by day (0 before the first)."""
    found = None
    for p in points:
        if p.day > d:
            break
        found = p
    return found.prefix(d) if found is not None else Decimal(0)


def ada_points(as_of: date) -> list[date]:
    """The days whose P() the windows ending on `as_of` need."""
    return sorted({as_of, *(as_of - timedelta(days=k * n) for n in WINDOWS for k in (1, 2))})


def ada(prefix: Callable[[date], Decimal], as_of: date) -> dict[int, tuple[Decimal, Decimal]]:
    """{window: (ADA ending on `as_of`, ADA of the window before)} from a P() function."""
    out = {}
    for n in WINDOWS:
        p0, p1, p2 = prefix(as_of), prefix(as_of - timedelta(days=n)), prefix(as_of - timedelta(days=2 * n))
        out[n] = (((p0 - p1) / n).quantize(ADA_QUANTUM), ((p1 - p2) / n).quantize(ADA_QUANTUM))
    return out


def expand(points: list[CustomerDay], first: date, last: date) -> list[tuple[date, str | None, Decimal | None]]:
    """One (day, currency, total) per day from `first` to `last`, carried forward; None before the first point.
    `points` sorted by day and including the latest one on or before `first` when there is one."""
    out = []
    i, cur = 0, None
    d = first
    while d <= last:
        while i < len(points) and points[i].day <= d:
            cur = points[i]
            i += 1
        out.append((d, cur.currency if cur else None, cur.total if cur else None))
        d += timedelta(days=1)
    return out


def change(current: Decimal | None, previous: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """(absolute change, change in percent of the previous window; None when the previous was 0)."""
    if current is None or previous is None:
        return None, None
    diff = current - previous
    pct = (diff * 100 / previous).quantize(Decimal("0.01")) if previous != 0 else None
    return diff, pct
