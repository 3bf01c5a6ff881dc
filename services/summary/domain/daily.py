"""Daily counts behind Today's Summary, as each customer's contributions (so they can be moved by the
difference whenever the customer's facts are recomputed).

A customer contributes, per local day and metric, one to its manager's row, one to its team's aggregate row
(manager `*`) and one to the everyone row (manager `*`, team `*`). Follow-up metrics count distinct customers
followed up in the day, so a customer followed up twice in a day contributes once to each row. Conversions
(`account_openings`, `fundings`) are credited by attribution share: a fact split between its manager (`share`)
and a co-owner (1 − share) adds each part to that manager's row and team aggregate, 1 in total to everyone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .clock import local_date_of

FACT_METRICS = {"opened": "account_openings", "funded": "fundings"}
FOLLOW_UP_METRICS = {
    "pending_account_opening": "pending_account_opening_follow_ups",
    "pending_funding": "pending_funding_follow_ups",
    "registered": "registration_follow_ups",
    "funded": "funded_follow_ups",
}
# Follow-ups recorded on a campaign's follow-up task (tasks node `campaign_followup`), whatever the stage.
CAMPAIGN_NODE, CAMPAIGN_METRIC = "campaign_followup", "campaign_follow_ups"
METRICS = tuple(FACT_METRICS.values()) + tuple(FOLLOW_UP_METRICS.values()) + (CAMPAIGN_METRIC,)
ALL = "*"
# Account-opening figures per day (sums, so any interval of local days is a sum of days): openings,
# rejections, and the duration sums and sample counts of the openings; registrations for the shortcuts.
OPENING_METRICS = ("ao_opened", "ao_rejected", "ao_submitted_secs", "ao_submitted_n", "ao_registered_secs",
                   "ao_registered_n")
COUNTED_KINDS = ("registered", "opened", "funded", "rejected")
SHARED_METRICS = ("account_openings", "fundings")  # credited by attribution share
WHOLE = Decimal(1)
DUE_METRIC = "due_items"

DailyKey = tuple[date, str, str, str]  # local day, metric, manager ("" unassigned, * aggregate), team ("" none)


def _keys(day: date, metric: str, manager: str | None, team: str | None) -> tuple[DailyKey, ...]:
    t = team or ""
    return ((day, metric, manager or "", t), (day, metric, ALL, t), (day, metric, ALL, ALL))


def due_contributions(tz: ZoneInfo, due_items: Iterable[dict[str, Any]]) -> Counter[DailyKey]:
    """Items to follow up per local due date (metric `due_items`): overdue = the days before today."""
    out: Counter[DailyKey] = Counter()
    for item in due_items:
        for key in _keys(local_date_of(item["due_at"], tz), DUE_METRIC, item["manager_id"], item["team_id"]):
            out[key] += 1
    return out


def _fact_values(f: dict[str, Any]) -> list[tuple[str, int]]:
    kind = f["kind"]
    if kind == "registered":
        return [("registrations", 1)]
    if kind == "funded":
        return [("fundings", 1)]
    if kind == "rejected":
        return [("ao_rejected", 1)]
    if kind != "opened":
        return []
    out = [("account_openings", 1), ("ao_opened", 1)]
    if f.get("secs_since_applied") is not None:
        out += [("ao_submitted_secs", f["secs_since_applied"]), ("ao_submitted_n", 1)]
    if f.get("secs_since_registered") is not None:
        out += [("ao_registered_secs", f["secs_since_registered"]), ("ao_registered_n", 1)]
    return out


def credits(f: dict[str, Any]) -> list[tuple[str | None, str | None, Decimal]]:
    """(manager, team, part) of a fact: its manager's share and the co-owner's rest, or the whole."""
    share = f.get("share")
    if share is None or Decimal(share) >= WHOLE or not f.get("co_manager_id"):
        return [(f["manager_id"], f["team_id"], WHOLE)]
    part = Decimal(share)
    return [(f["manager_id"], f["team_id"], part), (f["co_manager_id"], f.get("co_team_id"), WHOLE - part)]


def daily_contributions(tz: ZoneInfo, facts: Iterable[dict[str, Any]],
                        follow_ups: Iterable[dict[str, Any]]) -> Counter[DailyKey]:
    out: Counter[DailyKey] = Counter()
    for f in facts:
        day = local_date_of(f["at"], tz)
        for metric, value in _fact_values(f):
            if metric in SHARED_METRICS:
                for manager, team, part in credits(f):
                    for key in _keys(day, metric, manager, team):
                        out[key] += part * value
                continue
            for key in _keys(day, metric, f["manager_id"], f["team_id"]):
                out[key] += value
    seen: set[tuple[str, DailyKey]] = set()
    for fu in follow_ups:
        metrics = [FOLLOW_UP_METRICS.get(fu["stage"] or ""),
                   CAMPAIGN_METRIC if fu.get("task_node") == CAMPAIGN_NODE else None]
        at: datetime = fu["recorded_at"]
        for metric in filter(None, metrics):
            for key in _keys(local_date_of(at, tz), metric, fu["manager_id"], fu["team_id"]):
                if (fu["customer_id"], key) not in seen:
                    seen.add((fu["customer_id"], key))
                    out[key] += 1
    return out
