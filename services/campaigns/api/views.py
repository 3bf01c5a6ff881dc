"""Campaign views built from the aggregate, its stored events and the read model's rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ..domain.campaign import Campaign

HISTORY_NAMES = {Campaign.Created: "created", Campaign.Updated: "updated", Campaign.Submitted: "submitted",
                 Campaign.Approved: "approved", Campaign.Rejected: "rejected", Campaign.Started: "started",
                 Campaign.TargetsFrozen: "targets_frozen", Campaign.ControlFrozen: "control_frozen",
                 Campaign.Closed: "closed",
                 Campaign.CostRecorded: "cost_recorded", Campaign.OutreachRequested: "outreach_requested"}


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
    if isinstance(ev, Campaign.ControlFrozen):
        entry["audience_size"] = len(ev.customers)
    if isinstance(ev, Campaign.OutreachRequested):
        entry["audience_size"] = len(ev.customers)
    return entry


def time_of(k: str | None) -> datetime | None:
    """The business time of a tracking register (`time|event id`)."""
    return aware(datetime.fromisoformat(k.split("|", 1)[0])) if k else None


def target_item(row: dict[str, Any], status: dict[str, Any] | None, sends: list[dict[str, Any]]) -> dict[str, Any]:
    item = {k: row[k] for k in ("customer_id", "follow_up_id", "manager_id", "team_id")}
    if status:
        item.update(status=status["status"], contacted_at=time_of(status["contacted_key"]),
                    reached_at=time_of(status["reached_key"]), response=status["response"],
                    converted_at=time_of(status["converted_key"]), conversion=status["conversion"])
    item["channels"] = [{"channel": o["channel"], "request_id": o["request_id"], "status": o["status"],
                         "requested_at": aware(o["requested_at"]), "reason_code": o["reason_code"],
                         "at": time_of(o.get(f"{o['status']}_key")) or aware(o["requested_at"])} for o in sends]
    return item


LOG_COLUMNS = ("at", "action", "by", "customer_id", "detail")


class LogStream:
    """The campaign's log, built in order from its steps (its history: who, when; a review's outcome, not its
    comment) and the facts about its targets read in pages (`cp_target_log` in key order, which is time
    order): by time, a step before a fact at the same instant. `take(page)` gives a page's facts with the steps
    due before them; `rest()` the steps after the last fact. Only the steps are held, never all the facts."""

    def __init__(self, events: list[Any]):
        self.steps = sorted(({"at": aware(h["at"]), "action": h["event"], "by": h["by"], "customer_id": None,
                              "detail": h.get("status") or (str(h["audience_size"])
                                                            if h.get("audience_size") is not None else None)}
                             for h in map(history_entry, events)), key=lambda r: r["at"])
        self._next = 0

    def take(self, facts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        out, steps = [], self.steps
        for f in facts:
            row = {"at": aware(f["at"]), "action": f["action"], "by": None, "customer_id": f["customer_id"],
                   "detail": f["detail"]}
            while self._next < len(steps) and steps[self._next]["at"] <= row["at"]:
                out.append(steps[self._next])
                self._next += 1
            out.append(row)
        return out

    def rest(self) -> list[dict[str, Any]]:
        out, self._next = self.steps[self._next:], len(self.steps)
        return out


def campaign_log(events: list[Any], facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The whole log of `LogStream` from facts read at once (the JSON route's first `limit` of them)."""
    log = LogStream(events)
    return log.take(facts) + log.rest()


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # no formula injection in a spreadsheet
