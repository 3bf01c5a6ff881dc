"""Funnel analytics: registered → opened → funded → traded, per registration cohort, manager or team.

A customer belongs to the cohort of the local week it registered in, and to its acquisition owner (the
manager in force at registration, else the first one assigned after). Conversions count every later
milestone known (optionally only those reached by `as_of`), so a replay gives identical numbers."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.clock import local_range
from ..domain.metrics import median_seconds, rate
from ..projections import tables as t
from .audience import Audience

STEPS = (("registered", "opened"), ("opened", "funded"), ("funded", "traded"))
GROUPS = ("none", "manager", "team", "cohort")


class Bucket:
    def __init__(self) -> None:
        self.counts = dict.fromkeys(("registered", "opened", "funded", "traded"), 0)
        self.durations: dict[str, list[int]] = defaultdict(list)

    def add(self, times: dict[str, datetime | None]) -> None:
        """Counts: a later milestone implies the earlier ones were passed (e.g. a funded customer whose
        opening was never recorded counts as opened). Durations: only between recorded times."""
        reached = False
        for name in ("traded", "funded", "opened", "registered"):
            reached = reached or times[name] is not None
            if reached:
                self.counts[name] += 1
        for a, b in STEPS:
            if times[a] is not None and times[b] is not None and times[b] >= times[a]:
                self.durations[f"{a}_to_{b}"].append(int((times[b] - times[a]).total_seconds()))

    def render(self) -> dict[str, Any]:
        c = self.counts
        steps = {}
        for a, b in STEPS:
            key = f"{a}_to_{b}"
            steps[key] = {"from": c[a], "to": c[b], "conversion_rate": rate(c[b], c[a]),
                          "median_seconds": median_seconds(self.durations[key])}
        return {"counts": dict(c), "steps": steps, "overall_rate": rate(c["traded"], c["registered"]),
                "registered_to_funded_rate": rate(c["funded"], c["registered"])}


def funnel_report(session: Session, tz: ZoneInfo, first: date, last: date, aud: Audience, *, group_by: str,
                  as_of: datetime | None = None) -> dict[str, Any]:
    w = local_range(first, last, tz)
    fn = t.funnel.c
    q = (select(fn.registered_at, fn.opened_at, fn.funded_at, fn.traded_at, fn.manager_id, fn.team_id,
                fn.cohort_week)
         .where(fn.registered_at >= w.start, fn.registered_at < w.end, *aud.where(t.funnel)))
    total = Bucket()
    groups: dict[str, Bucket] = defaultdict(Bucket)
    for reg, opened, funded, traded, mgr, team, week in session.execute(q).yield_per(5000):
        times = {"registered": reg, "opened": opened, "funded": funded, "traded": traded}
        if as_of is not None:
            times = {k: (v if v is not None and v <= as_of else None) for k, v in times.items()}
            if times["registered"] is None:
                continue
        total.add(times)
        if group_by != "none":
            key = {"manager": mgr, "team": team, "cohort": week.isoformat() if week else None}[group_by]
            groups[key or ""].add(times)
    return {
        "from": first.isoformat(), "to": last.isoformat(), "timezone": tz.key, "group_by": group_by,
        "total": total.render(),
        "groups": [{"key": k or None, **groups[k].render()} for k in sorted(groups)],
    }
