"""Local days in the brokerage's time zone, as half-open UTC ranges (naive UTC, as stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def to_naive_utc(value: datetime) -> datetime:
    """Aware → naive UTC (the storage form of every timestamp in the read models)."""
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.astimezone(UTC).replace(tzinfo=None)


def from_naive_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """[start, end) in naive UTC."""

    start: datetime
    end: datetime

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def local_day(day: date, tz: ZoneInfo) -> Window:
    """The local calendar day as a UTC range (23 or 25 hours long across a DST change)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return Window(to_naive_utc(start), to_naive_utc(end))


def local_range(first: date, last: date, tz: ZoneInfo) -> Window:
    """Local days `first`..`last` inclusive as one UTC range."""
    return Window(local_day(first, tz).start, local_day(last, tz).end)


def today(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(tz).date()


def local_date_of(at: datetime, tz: ZoneInfo) -> date:
    """Local date of a naive-UTC timestamp."""
    return at.replace(tzinfo=UTC).astimezone(tz).date()


def week_start(day: date) -> date:
    """Monday of the ISO week containing `day`."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Comparison:
    """Today, yesterday and the same weekday last week."""

    today: date

    @property
    def yesterday(self) -> date:
        return self.today - timedelta(days=1)

    @property
    def last_week(self) -> date:
        return self.today - timedelta(days=7)

    def days(self) -> dict[str, date]:
        return {"today": self.today, "yesterday": self.yesterday, "last_week": self.last_week}
