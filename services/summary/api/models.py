"""Request bodies, and the answers with a declared shape."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ..domain.clock import Comparison


class ReportIn(BaseModel):
    """My daily report for one local date."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1, max_length=4000, description="What was done today.")
    next_plan: str | None = Field(default=None, max_length=4000, description="Plan for the next day.")
    issues: str | None = Field(default=None, max_length=4000, description="Problems needing help.")
    expected_version: int | None = Field(
        default=None, ge=0, description="Optimistic concurrency: the version being edited (0 = must be new)."
    )


class ChangelogIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=4000)
    version_label: str | None = Field(default=None, max_length=60, description="Release label, e.g. 2024.06.1.")


class BrokerageDay(BaseModel):
    """The brokerage's calendar now: what 'today' means in every count of this service (the staff's browsers
    may be in another time zone)."""

    timezone: str = Field(description="The brokerage's time zone (IANA name, SUMMARY_TIMEZONE).")
    now: AwareDatetime = Field(description="The current time in that zone.")
    today: date = Field(description="The brokerage's current date.")
    yesterday: date = Field(description="The day before `today`.")
    last_week: date = Field(description="The same weekday a week before `today` (Today's Summary compares with it).")

    @classmethod
    def at(cls, timezone: str, now: datetime) -> BrokerageDay:
        cmp = Comparison(now.date())
        return cls(timezone=timezone, now=now, today=cmp.today, yesterday=cmp.yesterday, last_week=cmp.last_week)


class Compared(BaseModel):
    """A metric's figures; conversions are credited by attribution share, so they may be fractional (4 places)."""

    today: float
    yesterday: float
    last_week: float
    change_vs_yesterday: float
    change_vs_last_week: float


class RollupRow(BaseModel):
    node_id: str
    kind: str = Field(description="company, region, branch or team.")
    name: str
    teams: list[str] = Field(description="The teams at or under the node that the figures sum (those the caller may see).")
    metrics: dict[str, Compared] = Field(description="Today's Summary's metrics: the day, yesterday, last week.")


class Rollup(BaseModel):
    """Today's Summary by organisation level: a node's figures and one row per child node."""

    date: date
    yesterday: date
    last_week: date
    timezone: str
    node: RollupRow
    children: list[RollupRow]
