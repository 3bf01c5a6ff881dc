"""Funnel analytics: registered → opened → funded → traded, per registration cohort, manager or team.

A customer belongs to the cohort of the local week it registered in, and its registration to its acquisition
owner (the manager in force at registration, else the first one assigned after). Conversions count every later
milestone known (optionally only those reached by `as_of`), so a replay gives identical numbers, and are
**credited by attribution share** (seed 002, 业绩归属; `sm_funnel_credit`): the owner of the stage a conversion
happened in gets its share, the every-stage owner the rest, so per manager / team a conversion may count 0.6 and
0.4 while the customer counts 1 in the total. The data scope and the manager / team filters select whose credit
is counted (and whose acquisitions are registered). Medians are over the customers acquired in scope."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, select
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
        return _render(self.counts, {k: median_seconds(v) for k, v in self.durations.items()})


def funnel_report(session: Session, tz: ZoneInfo, first: date, last: date, aud: Audience, *, group_by: str,
                  as_of: datetime | None = None, in_database: bool | None = None) -> dict[str, Any]:
    """On PostgreSQL the aggregation runs in the database (same definitions, see `_sql_buckets`)."""
    if in_database is None:
        in_database = session.get_bind().dialect.name == "postgresql"
    if in_database:
        total, groups = _sql_buckets(session, tz, first, last, aud, group_by, as_of)
    else:
        total, groups = _python_buckets(session, tz, first, last, aud, group_by=group_by, as_of=as_of)
    credit_total, credit_groups = _credits(session, tz, first, last, aud, group_by, as_of)
    total = _by_share(total, credit_total)
    groups = {k: _by_share(groups.get(k), credit_groups.get(k, {})) for k in {*groups, *credit_groups}}
    return _report(first, last, tz, group_by, total, groups)


CREDITED = ("opened", "funded", "traded")


def _credits(session: Session, tz: ZoneInfo, first: date, last: date, aud: Audience, group_by: str,
             as_of: datetime | None) -> tuple[dict[str, Decimal], dict[str, dict[str, Decimal]]]:
    """The conversions reached by the customers registered in the window, summed by attribution share, in total
    and per group (the credited manager / team, or the customer's cohort)."""
    w = local_range(first, last, tz)
    fn, cr = t.funnel.c, t.funnel_credit.c
    reached = _reached(as_of)
    sums = [func.sum(case((and_(cr.milestone == m, reached[m]), cr.share), else_=0)).label(m) for m in CREDITED]
    key = {"none": literal(""), "manager": cr.manager_id, "team": cr.team_id, "cohort": fn.cohort_week}[group_by]
    cond = [fn.registered_at >= w.start, fn.registered_at < w.end, *aud.where(t.funnel_credit)]
    if as_of is not None:
        cond.append(fn.registered_at <= as_of)
    src = t.funnel_credit.join(t.funnel, fn.customer_id == cr.customer_id)
    groups: dict[str, dict[str, Decimal]] = {}
    total = dict.fromkeys(CREDITED, Decimal(0))
    for r in session.execute(select(key.label("k"), *sums).select_from(src).where(*cond).group_by(key)).mappings():
        k = r["k"].isoformat() if isinstance(r["k"], date) else (r["k"] or "")
        groups[k] = {m: Decimal(str(r[m] or 0)) for m in CREDITED}
        for m in CREDITED:
            total[m] += groups[k][m]
    return total, ({} if group_by == "none" else groups)


def _by_share(rendered: dict[str, Any] | None, credited: dict[str, Decimal]) -> dict[str, Any]:
    """A bucket's registrations and medians with its conversions as credited by share."""
    counts: dict[str, Any] = {"registered": rendered["counts"]["registered"] if rendered else 0}
    counts |= {m: credited.get(m, Decimal(0)) for m in CREDITED}
    medians = {k: v["median_seconds"] for k, v in rendered["steps"].items()} if rendered else {}
    return _render(counts, medians)


def _number(value: Any) -> int | float:
    """A count: whole when it is, else the shares' sum (4 places)."""
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else float(d.quantize(Decimal("0.0001"), ROUND_HALF_EVEN))


def _report(first: date, last: date, tz: ZoneInfo, group_by: str, total: dict[str, Any],
            groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"from": first.isoformat(), "to": last.isoformat(), "timezone": tz.key, "group_by": group_by,
            "total": total, "groups": [{"key": k or None, **groups[k]} for k in sorted(groups)]}


def _render(counts: dict[str, Any], medians: dict[str, int | None]) -> dict[str, Any]:
    steps = {}
    for a, b in STEPS:
        key = f"{a}_to_{b}"
        steps[key] = {"from": _number(counts[a]), "to": _number(counts[b]), "conversion_rate": rate(counts[b], counts[a]),
                      "median_seconds": medians.get(key)}
    return {"counts": {k: _number(v) for k, v in counts.items()}, "steps": steps,
            "overall_rate": rate(counts["traded"], counts["registered"]),
            "registered_to_funded_rate": rate(counts["funded"], counts["registered"])}


def _half_even(value: Any) -> int | None:
    if value is None:
        return None
    return int(Decimal(str(value)).quantize(Decimal(1), ROUND_HALF_EVEN))


def _masked(as_of: datetime | None) -> dict[str, Any]:
    """The milestone times, those after `as_of` (if any) read as not reached."""
    fn = t.funnel.c
    cols = {"registered": fn.registered_at, "opened": fn.opened_at, "funded": fn.funded_at, "traded": fn.traded_at}
    return cols if as_of is None else {k: case((c <= as_of, c)) for k, c in cols.items()}


def _reached(as_of: datetime | None) -> dict[str, Any]:
    """Whether each milestone was reached: a later one implies the earlier ones."""
    cols = _masked(as_of)
    return {
        "traded": cols["traded"].isnot(None),
        "funded": func.coalesce(cols["funded"], cols["traded"]).isnot(None),
        "opened": func.coalesce(cols["opened"], cols["funded"], cols["traded"]).isnot(None),
        "registered": cols["registered"].isnot(None),
    }


def _sql_buckets(session: Session, tz: ZoneInfo, first: date, last: date, aud: Audience, group_by: str,
                 as_of: datetime | None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    w = local_range(first, last, tz)
    fn = t.funnel.c
    cols = _masked(as_of)
    reached = _reached(as_of)
    exprs = [func.count().filter(cond).label(f"n_{k}") for k, cond in reached.items()]
    for a, b in STEPS:
        secs = func.floor(func.extract("epoch", cols[b] - cols[a]))
        exprs.append(func.percentile_cont(0.5).within_group(secs).filter(
            and_(cols[a].isnot(None), cols[b].isnot(None), cols[b] >= cols[a])).label(f"m_{a}_to_{b}"))
    key = {"none": literal(""), "manager": func.coalesce(fn.manager_id, ""), "team": func.coalesce(fn.team_id, ""),
           "cohort": func.coalesce(func.to_char(fn.cohort_week, "YYYY-MM-DD"), "")}[group_by].label("k")
    cond = [fn.registered_at >= w.start, fn.registered_at < w.end, *aud.where(t.funnel)]
    if as_of is not None:
        cond.append(fn.registered_at <= as_of)
    q = select(key, *exprs).where(*cond).group_by(key) if group_by != "none" else select(key, *exprs).where(*cond)
    rows = list(session.execute(q).mappings())
    groups = {r["k"]: _from_row(r) for r in rows}
    if group_by == "none":
        total = groups.get("", _from_row(None))
        return total, {}
    total_row = session.execute(select(literal("").label("k"), *exprs).where(*cond)).mappings().one()
    return _from_row(total_row), groups


def _from_row(r: Any) -> dict[str, Any]:
    names = ("registered", "opened", "funded", "traded")
    counts = {n: int(r[f"n_{n}"] or 0) if r is not None else 0 for n in names}
    medians = {f"{a}_to_{b}": _half_even(r[f"m_{a}_to_{b}"]) if r is not None else None for a, b in STEPS}
    return _render(counts, medians)


def _python_buckets(session: Session, tz: ZoneInfo, first: date, last: date, aud: Audience, *, group_by: str,
                    as_of: datetime | None = None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
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
    return total.render(), {k: g.render() for k, g in groups.items()}
