"""Home dashboard: workflow node counts, account-opening duration and success rate, shortcut counts, changelog."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..domain.clock import from_naive_utc
from ..domain.daily import DUE_METRIC, OPENING_METRICS
from ..domain.metrics import figure, mean_seconds, rate
from ..projections import tables as t
from .audience import Audience
from .summary import daily_rows

OPEN_KYC_STATES = ("pending", "in_review", "awaiting_second_review", "more_info_requested", "resubmitted")
STAGES = ("registered", "pending_account_opening", "pending_funding", "funded", "traded")


def node_counts(session: Session, aud: Audience) -> dict[str, dict[str, int]]:
    n = t.node_count.c
    out: dict[str, dict[str, int]] = {"stage": dict.fromkeys(STAGES, 0), "kyc": {}, "task": {}}
    rows = session.execute(select(n.dimension, n.node, func.sum(n.n)).where(*aud.where(t.node_count))
                           .group_by(n.dimension, n.node))
    for dim, node, total in rows:
        out.setdefault(dim, {})[node] = int(total)
    return {"customers_per_stage": out["stage"], "kyc_cases_per_state": dict(sorted(out["kyc"].items())),
            "open_tasks_per_node": dict(sorted(out["task"].items()))}


def account_opening(session: Session, tz: ZoneInfo, first: date, last: date, aud: Audience) -> dict[str, Any]:
    """Openings and rejections decided in [first, last] (local dates): mean durations of the openings
    (application submitted → opened; registered → opened) and success rate = opened / (opened + rejected).
    Summed from the daily counts (an interval of local days is a sum of days)."""
    dc = t.daily_count.c
    sums = dict.fromkeys(OPENING_METRICS, 0)
    for metric, total in session.execute(select(dc.metric, func.sum(dc.n)).where(
            dc.day >= first, dc.day <= last, dc.metric.in_(OPENING_METRICS), *daily_rows(aud))
            .group_by(dc.metric)):
        sums[metric] = int(total)
    opened, rejected = sums["ao_opened"], sums["ao_rejected"]
    return {
        "from": first.isoformat(), "to": last.isoformat(), "timezone": tz.key,
        "opened": opened, "rejected": rejected, "decided": opened + rejected,
        "success_rate": rate(opened, opened + rejected),
        "avg_seconds_submitted_to_opened": mean_seconds(sums["ao_submitted_secs"], sums["ao_submitted_n"]),
        "samples_submitted_to_opened": sums["ao_submitted_n"],
        "avg_seconds_registered_to_opened": mean_seconds(sums["ao_registered_secs"], sums["ao_registered_n"]),
        "samples_registered_to_opened": sums["ao_registered_n"],
    }


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def shortcuts(session: Session, tz: ZoneInfo, day: date, aud: Audience, caller: str) -> dict[str, Any]:
    dc = t.daily_count.c
    due = session.execute(select(
        func.sum(dc.n).filter(dc.day < day), func.sum(dc.n).filter(dc.day == day),
    ).where(dc.metric == DUE_METRIC, dc.day <= day, *daily_rows(aud))).one()
    n = t.node_count.c
    counts = defaultdict(int)
    for dim, node, total in session.execute(select(n.dimension, n.node, func.sum(n.n))
                                            .where(n.dimension.in_(("kyc", "task")), *aud.where(t.node_count))
                                            .group_by(n.dimension, n.node)):
        if dim == "task" or node in OPEN_KYC_STATES:
            counts[dim] += int(total)
    today_counts = dict(session.execute(select(dc.metric, func.sum(dc.n)).where(
        dc.day == day, dc.metric.in_(("registrations", "account_openings", "fundings")), *daily_rows(aud))
        .group_by(dc.metric)).all())
    r = t.daily_report.c
    written = session.scalar(select(func.count()).where(r.manager_id == caller, r.report_date == day)) or 0
    return {
        "date": day.isoformat(), "follow_ups_overdue": int(due[0] or 0), "follow_ups_due_today": int(due[1] or 0),
        "open_tasks": counts["task"], "kyc_cases_open": counts["kyc"],
        "registered_today": int(today_counts.get("registrations", 0)),
        "opened_today": figure(today_counts.get("account_openings", 0)),  # by attribution share
        "funded_today": figure(today_counts.get("fundings", 0)),
        "my_report_written_today": bool(written),
    }


def changelog_page(session: Session, *, limit: int, before: tuple[datetime, str] | None,
                   include_withdrawn: bool = False) -> list[dict[str, Any]]:
    c = t.changelog.c
    cond = [] if include_withdrawn else [c.withdrawn.is_(False)]
    if before:
        at, eid = before
        cond.append(or_(c.posted_at < at, and_(c.posted_at == at, c.entry_id < eid)))
    rows = session.execute(select(t.changelog).where(*cond).order_by(c.posted_at.desc(), c.entry_id.desc())
                           .limit(limit)).mappings()
    return [{"entry_id": r["entry_id"], "posted_at": from_naive_utc(r["posted_at"]), "posted_by": r["posted_by"],
             "title": r["title"], "body": r["body"], "version_label": r["version_label"],
             "withdrawn": r["withdrawn"], "_key": (r["posted_at"], r["entry_id"])} for r in rows]
