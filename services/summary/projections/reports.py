"""Projection of the summary's own event store (daily reports, changelog) into SQL for team listings.

Idempotent: a row is only written by an event with a higher aggregate version than it holds."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from shared.runtime.sqlrows import dialect_insert

from ..domain.clock import to_naive_utc
from ..domain.reports import ChangelogEntry, DailyReport
from . import tables as t


def apply_own_events(session: Session, events: list[Any]) -> None:
    for ev in events:
        if isinstance(ev, DailyReport.Written | DailyReport.Edited):
            _report(session, ev)
        elif isinstance(ev, ChangelogEntry.Posted | ChangelogEntry.Withdrawn):
            _changelog(session, ev)


def _report(session: Session, ev: Any) -> None:
    at = to_naive_utc(ev.timestamp)
    values: dict[str, Any] = {
        "report_id": str(ev.originator_id), "summary": ev.summary, "next_plan": ev.next_plan,
        "issues": ev.issues, "version": ev.originator_version, "updated_at": at,
    }
    if isinstance(ev, DailyReport.Written):
        values.update(manager_id=ev.manager_id, team_id=ev.team_id, report_date=date.fromisoformat(ev.report_date),
                      created_at=at, updated_by=ev.written_by)
        stmt = dialect_insert(session, t.daily_report).values(**values)
        session.execute(stmt.on_conflict_do_nothing())
    else:
        values["updated_by"] = ev.edited_by
        upd = t.daily_report.update().where(t.daily_report.c.report_id == values["report_id"],
                                             t.daily_report.c.version < values["version"])
        session.execute(upd.values(**{k: v for k, v in values.items() if k != "report_id"}))


def _changelog(session: Session, ev: Any) -> None:
    eid = str(ev.originator_id)
    if isinstance(ev, ChangelogEntry.Posted):
        stmt = dialect_insert(session, t.changelog).values(
            entry_id=eid, posted_at=to_naive_utc(ev.timestamp), posted_by=ev.posted_by, title=ev.title,
            body=ev.body, version_label=ev.version_label, withdrawn=False, version=ev.originator_version)
        session.execute(stmt.on_conflict_do_nothing())
    else:
        session.execute(t.changelog.update().where(t.changelog.c.entry_id == eid,
                                                   t.changelog.c.version < ev.originator_version)
                        .values(withdrawn=True, version=ev.originator_version))
