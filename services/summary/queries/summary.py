"""Today's Summary (customer progress: today vs yesterday vs the same weekday last week) and the daily
follow-up list."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from ..domain.clock import Comparison, from_naive_utc, local_day
from ..domain.daily import ALL, METRICS
from ..domain.metrics import figure
from ..projections import tables as t
from .audience import Audience


def daily_rows(aud: Audience) -> list[Any]:
    """Which `daily_count` rows hold an audience's totals: a manager's own rows, the team aggregates
    (manager `*`), or the everyone row (`*`, `*`)."""
    dc = t.daily_count.c
    if aud.managers is not None:
        cond = [dc.manager_id.in_(aud.managers) if aud.managers else false()]
        if aud.teams is not None:
            cond.append(dc.team_id.in_(aud.teams) if aud.teams else false())
        return cond
    if aud.teams is not None:
        return [dc.manager_id == ALL, dc.team_id.in_(aud.teams) if aud.teams else false()]
    return [dc.manager_id == ALL, dc.team_id == ALL]


def _counts(session: Session, days: dict[str, date], aud: Audience,
            by_manager: bool) -> tuple[dict[str, dict[str, Decimal]], dict[str, dict[str, dict[str, Decimal]]]]:
    """Metric totals per window (label → metric → n), and per manager when asked, from the daily counts:
    a manager's own rows, the team aggregates (manager `*`) or the everyone row (`*`, `*`). Decimals:
    conversions are credited by attribution share."""
    label_of = {d: label for label, d in days.items()}
    totals = {label: dict.fromkeys(METRICS, Decimal(0)) for label in days}
    per: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(lambda: {label: dict.fromkeys(METRICS, Decimal(0))
                                                                         for label in days})
    dc = t.daily_count.c
    in_days = dc.day.in_(list(days.values()))
    for day, metric, n in session.execute(select(dc.day, dc.metric, func.sum(dc.n))
                                          .where(in_days, dc.metric.in_(METRICS), *daily_rows(aud))
                                          .group_by(dc.day, dc.metric)):
        totals[label_of[day]][metric] = Decimal(n)
    if by_manager:
        cond = [in_days, dc.metric.in_(METRICS), dc.manager_id != ALL, dc.manager_id != "", dc.team_id != ALL]
        if aud.teams is not None:
            cond.append(dc.team_id.in_(aud.teams))
        if aud.managers is not None:
            cond.append(dc.manager_id.in_(aud.managers))
        for day, metric, mgr, n in session.execute(select(dc.day, dc.metric, dc.manager_id, func.sum(dc.n))
                                                   .where(*cond).group_by(dc.day, dc.metric, dc.manager_id)):
            per[mgr][label_of[day]][metric] = Decimal(n)
    return totals, per


def _compared(totals: dict[str, dict[str, Decimal]], labels: list[str]) -> dict[str, dict[str, int | float]]:
    """metric → the day, yesterday, last week and the changes against both (exact, then as figures)."""
    metrics = {m: {label: totals[label][m] for label in labels} for m in METRICS}
    for m in metrics.values():
        m["change_vs_yesterday"] = m["today"] - m["yesterday"]
        m["change_vs_last_week"] = m["today"] - m["last_week"]
    return {name: {k: figure(v) for k, v in m.items()} for name, m in metrics.items()}


def compared_metrics(session: Session, cmp: Comparison, aud: Audience) -> dict[str, dict[str, int | float]]:
    """An audience's totals per metric on the day vs yesterday vs the same weekday last week."""
    totals, _ = _counts(session, cmp.days(), aud, False)
    return _compared(totals, list(cmp.days()))


def today_summary(session: Session, tz: ZoneInfo, day: date, aud: Audience) -> dict[str, Any]:
    cmp = Comparison(day)
    by_manager = aud.single_manager is None
    totals, per = _counts(session, cmp.days(), aud, by_manager)
    if by_manager and aud.managers is None:
        for mgr in _roster(session, aud):
            _ = per[mgr]  # active managers of the audience appear even with nothing to show
    labels = list(cmp.days())
    metrics = _compared(totals, labels)
    managers = [{"manager_id": mgr, "metrics": {m: {label: figure(per[mgr][label][m]) for label in labels}
                                                for m in METRICS}} for mgr in sorted(per)]
    return {"date": day.isoformat(), "yesterday": cmp.yesterday.isoformat(),
            "last_week": cmp.last_week.isoformat(), "timezone": tz.key, "metrics": metrics, "managers": managers}


def _roster(session: Session, aud: Audience) -> list[str]:
    """Managers not resigned, from the directory (crm.assignment manager_changed), in the audience's teams."""
    m = t.manager.c
    cond = [m.status != "resigned"]
    if aud.teams is not None:
        cond.append(m.team_id.in_(aud.teams) if aud.teams else false())
    return list(session.scalars(select(m.manager_id).where(*cond)))


# ---- daily follow-up ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DueFilter:
    node: str | None = None
    stage: str | None = None
    overdue: bool | None = None
    tags: tuple[str, ...] = ()
    intent: str | None = None
    customer_id: str | None = None


def due_list(session: Session, tz: ZoneInfo, day: date, aud: Audience, flt: DueFilter, *,
             limit: int, after: tuple[datetime, str] | None = None) -> dict[str, Any]:
    """One page of due items; `next_key` is the (due_at, item_id) of its last row when there is more."""
    w = local_day(day, tz)
    d = t.due_item.c
    cond = [d.due_at < w.end, *aud.where(t.due_item)]
    if flt.overdue is True:
        cond.append(d.due_at < w.start)
    elif flt.overdue is False:
        cond.append(d.due_at >= w.start)
    if flt.node:
        cond.append(d.node == flt.node)
    if flt.stage:
        cond.append(d.stage == flt.stage)
    if flt.intent:
        cond.append(d.intent == flt.intent)
    if flt.customer_id:
        cond.append(d.customer_id == flt.customer_id)
    for tag in flt.tags:
        cond.append(d.tags.like(f"%|{_like_escape(tag)}|%", escape="\\"))
    if after is not None:
        at, item = after
        cond.append(or_(d.due_at > at, and_(d.due_at == at, d.item_id > item)))
    rows = session.execute(select(t.due_item).where(*cond).order_by(d.due_at, d.item_id).limit(limit + 1)).mappings()
    rows = list(rows)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{
        "item_id": r["item_id"], "customer_id": r["customer_id"], "source": r["source"], "node": r["node"],
        "stage": r["stage"], "due_at": from_naive_utc(r["due_at"]), "overdue": r["due_at"] < w.start,
        "manager_id": r["manager_id"], "team_id": r["team_id"], "intent": r["intent"],
        "tags": [x for x in r["tags"].split("|") if x], "last_follow_up_at": from_naive_utc(r["last_follow_up_at"]),
    } for r in rows]
    next_key = (rows[-1]["due_at"], rows[-1]["item_id"]) if more and rows else None
    return {"date": day.isoformat(), "items": items, "next_key": next_key}


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("|", "/")
