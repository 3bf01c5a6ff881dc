"""Aggregates owned by the summary service: a manager's daily report (one per manager and local date, every
edit kept as an event — the audit trail) and the home dashboard's changelog entries."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate, event

REPORT_NAMESPACE = uuid.UUID("a3f1c2d4-7b8e-4c1a-9d2e-5f6a7b8c9d0e")


def report_id(manager_id: str, report_date: date) -> uuid.UUID:
    return uuid.uuid5(REPORT_NAMESPACE, f"{manager_id}:{report_date.isoformat()}")


class DailyReport(Aggregate):
    """My daily report. `report_date` is the local date (ISO string) in the brokerage's time zone."""

    @staticmethod
    def create_id(manager_id: str, report_date: str, **_: Any) -> uuid.UUID:  # type: ignore[override]
        return report_id(manager_id, date.fromisoformat(report_date))

    @event("Written")
    def __init__(self, manager_id: str, report_date: str, team_id: str | None, summary: str,
                 next_plan: str | None, issues: str | None, written_by: str):
        self.manager_id = manager_id
        self.report_date = report_date
        self.team_id = team_id
        self.summary = summary
        self.next_plan = next_plan
        self.issues = issues
        self.updated_by = written_by

    def same_content(self, summary: str, next_plan: str | None, issues: str | None) -> bool:
        return (self.summary, self.next_plan, self.issues) == (summary, next_plan, issues)

    @event("Edited")
    def edit(self, summary: str, next_plan: str | None, issues: str | None, edited_by: str) -> None:
        self.summary = summary
        self.next_plan = next_plan
        self.issues = issues
        self.updated_by = edited_by


class ChangelogEntry(Aggregate):
    """A system changelog entry posted by an operator; withdrawing hides it from the dashboard."""

    @event("Posted")
    def __init__(self, title: str, body: str, version_label: str | None, posted_by: str):
        self.title = title
        self.body = body
        self.version_label = version_label
        self.posted_by = posted_by
        self.withdrawn = False

    @event("Withdrawn")
    def withdraw(self, withdrawn_by: str) -> None:
        self.withdrawn = True
        self.withdrawn_by = withdrawn_by
