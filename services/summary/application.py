"""The summary's eventsourcing application: thin commands over the daily-report and changelog aggregates."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from shared.runtime.eventstore import TrackingApplication

from .domain.reports import ChangelogEntry, DailyReport, report_id


class VersionConflict(Exception):
    def __init__(self, expected: int, actual: int):
        super().__init__(f"expected version {expected}, report is at version {actual}")
        self.expected, self.actual = expected, actual


class SummaryApplication(TrackingApplication):
    def get_report(self, manager_id: str, report_date: date) -> DailyReport | None:
        try:
            return self.repository.get(report_id(manager_id, report_date))  # type: ignore[return-value]
        except AggregateNotFoundError:
            return None

    def write_report(self, *, manager_id: str, report_date: date, team_id: str | None, summary: str,
                     next_plan: str | None, issues: str | None, by: str,
                     expected_version: int | None = None) -> tuple[DailyReport, bool]:
        """Create or edit; returns (report, created). An identical re-submission records nothing."""
        report = self.get_report(manager_id, report_date)
        if report is None:
            if expected_version not in (None, 0):
                raise VersionConflict(expected_version, 0)
            report = DailyReport(manager_id=manager_id, report_date=report_date.isoformat(), team_id=team_id,
                                 summary=summary, next_plan=next_plan, issues=issues, written_by=by)
            self.save(report)
            return report, True
        if expected_version is not None and expected_version != report.version:
            raise VersionConflict(expected_version, report.version)
        if not report.same_content(summary, next_plan, issues):
            report.edit(summary=summary, next_plan=next_plan, issues=issues, edited_by=by)
            self.save(report)
        return report, False

    def report_history(self, manager_id: str, report_date: date) -> list[dict[str, Any]]:
        out = []
        for ev in self.repository.event_store.get(report_id(manager_id, report_date)):
            out.append({
                "version": ev.originator_version,
                "action": "written" if isinstance(ev, DailyReport.Written) else "edited",
                "at": ev.timestamp,
                "by": getattr(ev, "written_by", None) or getattr(ev, "edited_by", None),
                "summary": ev.summary, "next_plan": ev.next_plan, "issues": ev.issues,
            })
        return out

    def post_changelog(self, *, title: str, body: str, version_label: str | None, by: str) -> ChangelogEntry:
        entry = ChangelogEntry(title=title, body=body, version_label=version_label, posted_by=by)
        self.save(entry)
        return entry

    def withdraw_changelog(self, entry_id: UUID, *, by: str) -> ChangelogEntry | None:
        try:
            entry: ChangelogEntry = self.repository.get(entry_id)  # type: ignore[assignment]
        except AggregateNotFoundError:
            return None
        if not entry.withdrawn:
            entry.withdraw(withdrawn_by=by)
            self.save(entry)
        return entry
