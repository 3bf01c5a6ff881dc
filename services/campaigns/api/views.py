"""Campaign views built from the aggregate, its stored events and the read model's rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..domain.campaign import Campaign

HISTORY_NAMES = {Campaign.Created: "created", Campaign.Updated: "updated", Campaign.Submitted: "submitted",
                 Campaign.Approved: "approved", Campaign.Rejected: "rejected", Campaign.Started: "started",
                 Campaign.TargetsFrozen: "targets_frozen", Campaign.Closed: "closed",
                 Campaign.CostRecorded: "cost_recorded"}


def aware(value: datetime | None) -> datetime | None:
    """SQLite gives back naive UTC times."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def campaign_view(c: Campaign) -> dict[str, Any]:
    return {"campaign_id": str(c.id), "status": c.status, "plan": dict(c.plan), "created_by": c.created_by,
            "created_at": c.created_at, "updated_at": c.updated_at, "reviewed_by": c.reviewed_by,
            "review_comment": c.review_comment, "audience_size": c.audience_size, "started_at": c.started_at,
            "closed_at": c.closed_at, "version": c.version}


def campaign_item(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("campaign_id", "name", "status", "distribution", "created_by", "reviewed_by", "audience_size")
    return {**{k: row[k] for k in keys}, **{k: aware(row[k]) for k in ("start_at", "end_at", "updated_at")}}


def history_entry(ev: Any) -> dict[str, Any]:
    """Who did what and when (a targets-frozen entry gives its number of targets, not the customers)."""
    by = getattr(ev, "created_by", None) or getattr(ev, "by", None)
    entry: dict[str, Any] = {"version": ev.originator_version, "event": HISTORY_NAMES.get(type(ev), "other"),
                             "at": ev.at, "by": by, "comment": getattr(ev, "comment", None)}
    if isinstance(ev, Campaign.Updated):
        entry["status"] = ev.status
    if isinstance(ev, Campaign.Started):
        entry["audience_size"] = ev.audience_size
    if isinstance(ev, Campaign.TargetsFrozen):
        entry["audience_size"] = len(ev.targets)
    return entry
