"""My daily report: a manager writes, edits and views theirs; a team lead reads their team's."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.runtime.auth import Perm, Principal, Scope, require
from shared.runtime.logging import get_logger

from ..application import VersionConflict
from ..container import Container
from ..domain.clock import from_naive_utc
from ..domain.reports import DailyReport
from ..projections import tables as t
from .deps import DAY_RANGE, audience, container, invalid, local_today, read
from .models import ReportIn

Day = Annotated[date, Path(**DAY_RANGE)]
router = APIRouter(prefix="/summary/reports", tags=["daily reports"])
log = get_logger("summary.api")
Reader = Annotated[Principal, Depends(require(Perm.ClientProfileReadOnly))]
Writer = Annotated[Principal, Depends(require(Perm.ReportWrite))]
EDITABLE_DAYS = 7


def _out(r: DailyReport) -> dict[str, Any]:
    return {"report_id": str(r.id), "manager_id": r.manager_id, "team_id": r.team_id, "date": r.report_date,
            "summary": r.summary, "next_plan": r.next_plan, "issues": r.issues, "version": r.version,
            "created_at": r.created_on, "updated_at": r.modified_on, "updated_by": r.updated_by}


def _visible(principal: Principal, r: DailyReport) -> bool:
    if r.manager_id == principal.user_id or principal.scope == Scope.all:
        return True
    return principal.scope == Scope.team and r.team_id is not None and r.team_id in principal.teams


@router.put("/{report_date}")
async def write_report(request: Request, response: Response, report_date: Day, body: ReportIn,
                       principal: Writer) -> dict[str, Any]:
    """Write or edit the caller's own report for a local date (today or up to 7 days back)."""
    c = container(request)
    today = local_today(c)
    if report_date > today:
        raise invalid("report_date", "cannot write a report for a future date")
    if report_date < today - timedelta(days=EDITABLE_DAYS):
        raise HTTPException(409, detail=f"reports older than {EDITABLE_DAYS} days can no longer be edited")
    try:
        report, created = await asyncio.to_thread(
            c.app.write_report, manager_id=principal.user_id, report_date=report_date, team_id=principal.team_id,
            summary=body.summary, next_plan=body.next_plan, issues=body.issues, by=principal.user_id,
            expected_version=body.expected_version)
    except VersionConflict as exc:
        raise HTTPException(409, detail=str(exc)) from None
    log.info("daily_report_written", report_id=str(report.id), manager_id=principal.user_id,
             report_date=report_date.isoformat(), version=report.version, created=created)
    response.status_code = 201 if created else 200
    return _out(report)


async def _load_visible(c: Container, principal: Principal, report_date: date,
                        manager_id: str | None) -> DailyReport:
    mgr = manager_id or principal.user_id
    report = await asyncio.to_thread(c.app.get_report, mgr, report_date)
    if report is None or not _visible(principal, report):
        raise HTTPException(404, detail=f"no daily report of {mgr!r} for {report_date.isoformat()}")
    return report


@router.get("/{report_date}")
async def get_report(request: Request, report_date: Day, principal: Reader,
                     manager_id: str | None = None) -> dict[str, Any]:
    """One report: the caller's own, or (team lead, `all` scope) a manager's by `manager_id`."""
    return _out(await _load_visible(container(request), principal, report_date, manager_id))


@router.get("/{report_date}/history")
async def get_history(request: Request, report_date: Day, principal: Reader,
                      manager_id: str | None = None) -> dict[str, Any]:
    """Audit trail: every version of the report, who wrote it and when."""
    c = container(request)
    report = await _load_visible(c, principal, report_date, manager_id)
    versions = await asyncio.to_thread(c.app.report_history, report.manager_id, report_date)
    return {"report_id": str(report.id), "manager_id": report.manager_id, "date": report.report_date,
            "versions": versions}


@router.get("")
async def list_reports(request: Request, principal: Reader,
                       day: Annotated[date | None, Query(alias="date", **DAY_RANGE)] = None,
                       manager_id: str | None = None, team_id: str | None = None,
                       cursor: Annotated[str | None, Query(max_length=64)] = None,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    """Reports of one local date in the caller's scope, by manager id (keyset: `cursor` = last manager id)."""
    c = container(request)
    aud = audience(principal, manager_id, team_id)
    the_day = day or local_today(c)

    def q(s: Session) -> list[dict[str, Any]]:
        r = t.daily_report.c
        cond = [r.report_date == the_day, *aud.where(t.daily_report)]
        if principal.scope == Scope.own:
            cond = [r.report_date == the_day, r.manager_id == principal.user_id]
        if cursor:
            cond.append(r.manager_id > cursor)
        rows = s.execute(select(t.daily_report).where(*cond).order_by(r.manager_id).limit(limit + 1)).mappings()
        return [dict(x) for x in rows]

    rows = await read(c, q)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{"report_id": x["report_id"], "manager_id": x["manager_id"], "team_id": x["team_id"],
              "date": x["report_date"].isoformat(), "summary": x["summary"], "next_plan": x["next_plan"],
              "issues": x["issues"], "version": x["version"], "created_at": from_naive_utc(x["created_at"]),
              "updated_at": from_naive_utc(x["updated_at"]), "updated_by": x["updated_by"]} for x in rows]
    return {"date": the_day.isoformat(), "items": items, "next_cursor": rows[-1]["manager_id"] if more else None}


