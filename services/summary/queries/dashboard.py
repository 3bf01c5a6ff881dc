"""Home dashboard: workflow node counts, account-opening duration and success rate, shortcut counts, changelog."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..domain.clock import from_naive_utc, local_day, local_range
from ..domain.metrics import mean_seconds, rate
from ..projections import tables as t
from .audience import Audience

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
    (application submitted → opened; registered → opened) and success rate = opened / (opened + rejected)."""
    w = local_range(first, last, tz)
    f = t.fact.c
    in_window = [f.at >= w.start, f.at < w.end, *aud.where(t.fact)]
    opened = session.execute(select(
        func.count(), func.sum(f.secs_since_applied), func.count(f.secs_since_applied),
        func.sum(f.secs_since_registered), func.count(f.secs_since_registered),
    ).where(f.kind == "opened", *in_window)).one()
    rejected = session.scalar(select(func.count()).where(f.kind == "rejected", *in_window)) or 0
    n_opened = int(opened[0] or 0)
    return {
        "from": first.isoformat(), "to": last.isoformat(), "timezone": tz.key,
        "opened": n_opened, "rejected": int(rejected), "decided": n_opened + int(rejected),
        "success_rate": rate(n_opened, n_opened + int(rejected)),
        "avg_seconds_submitted_to_opened": mean_seconds(_int(opened[1]), int(opened[2] or 0)),
        "samples_submitted_to_opened": int(opened[2] or 0),
        "avg_seconds_registered_to_opened": mean_seconds(_int(opened[3]), int(opened[4] or 0)),
        "samples_registered_to_opened": int(opened[4] or 0),
    }


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def shortcuts(session: Session, tz: ZoneInfo, day: date, aud: Audience, caller: str) -> dict[str, Any]:
    w = local_day(day, tz)
    d = t.due_item.c
    due = session.execute(select(
        func.count().filter(d.due_at < w.start), func.count().filter(d.due_at >= w.start),
    ).where(d.due_at < w.end, *aud.where(t.due_item))).one()
    n = t.node_count.c
    counts = defaultdict(int)
    for dim, node, total in session.execute(select(n.dimension, n.node, func.sum(n.n))
                                            .where(n.dimension.in_(("kyc", "task")), *aud.where(t.node_count))
                                            .group_by(n.dimension, n.node)):
        if dim == "task" or node in OPEN_KYC_STATES:
            counts[dim] += int(total)
    f = t.fact.c
    today_facts = dict(session.execute(select(f.kind, func.count()).where(
        f.at >= w.start, f.at < w.end, f.kind.in_(("registered", "opened", "funded")), *aud.where(t.fact))
        .group_by(f.kind)).all())
    r = t.daily_report.c
    written = session.scalar(select(func.count()).where(r.manager_id == caller, r.report_date == day)) or 0
    return {
        "date": day.isoformat(), "follow_ups_overdue": int(due[0] or 0), "follow_ups_due_today": int(due[1] or 0),
        "open_tasks": counts["task"], "kyc_cases_open": counts["kyc"],
        "registered_today": int(today_facts.get("registered", 0)),
        "opened_today": int(today_facts.get("opened", 0)), "funded_today": int(today_facts.get("funded", 0)),
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
