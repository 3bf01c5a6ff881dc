"""The fold of the service's own events into `cp_campaign` and `cp_target`, run in the transaction that stores
the events (`app.read_model`) and by the rebuild over the whole store (`rebuild_from_store`).

A batch is written with a fixed number of statements: one read of the rows of campaigns the batch does not
create, one upsert of the changed campaign rows (sorted by id), then each event's frozen targets (one insert per
1,000) and outreach requests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.runtime.sqlrows import insert_ignore, insert_rows, upsert

from ..domain.campaign import CLOSED, IN_REVIEW, RUNNING, Campaign, as_time, follow_up_id, outreach_request_id
from .audience import stamp
from .tables import campaign, cost, holdout, outreach, target, target_log, target_status

Row = dict[str, Any]


def _ts(value: Any) -> datetime:
    return as_time(value).astimezone(UTC)


def _plan_columns(plan: dict[str, Any]) -> Row:
    return {"name": plan["name"], "distribution": plan["distribution"], "team_id": plan.get("team_id"),
            "start_at": _ts(plan["start_at"]), "end_at": _ts(plan["end_at"]), "plan": dict(plan)}


def _created(row: Row | None, ev: Any) -> Row:
    scope = ev.scope
    return {"campaign_id": str(ev.originator_id), **_plan_columns(ev.plan), "status": "draft",
            "created_by": ev.created_by, "scope_kind": scope["scope"], "scope_user": scope["user_id"],
            "creator_team": scope.get("team"), "reviewed_by": None, "audience_size": None,
            "created_at": _ts(ev.at), "updated_at": _ts(ev.at), "started_at": None, "closed_at": None}


def _updated(row: Row | None, ev: Any) -> Row:
    assert row is not None
    return {**row, **_plan_columns(ev.plan), "status": ev.status, "updated_at": _ts(ev.at)}


def _submitted(row: Row | None, ev: Any) -> Row:
    assert row is not None
    return {**row, "status": IN_REVIEW, "updated_at": _ts(ev.at)}


def _reviewed(status: str) -> Callable[[Row | None, Any], Row]:
    def apply(row: Row | None, ev: Any) -> Row:
        assert row is not None
        return {**row, "status": status, "reviewed_by": ev.by, "updated_at": _ts(ev.at)}

    return apply


def _started(row: Row | None, ev: Any) -> Row:
    assert row is not None
    return {**row, "status": RUNNING, "audience_size": ev.audience_size, "started_at": _ts(ev.at),
            "updated_at": _ts(ev.at)}


def _frozen(row: Row | None, ev: Any) -> Row:
    assert row is not None
    return row


def _same(row: Row | None, ev: Any) -> Row:
    assert row is not None
    return row


def _closed(row: Row | None, ev: Any) -> Row:
    assert row is not None
    return {**row, "status": CLOSED, "audience_size": row["audience_size"] or 0, "closed_at": _ts(ev.at),
            "updated_at": _ts(ev.at)}


FOLDS: dict[type, Callable[[Row | None, Any], Row]] = {
    Campaign.Created: _created,
    Campaign.Updated: _updated,
    Campaign.Submitted: _submitted,
    Campaign.Approved: _reviewed("approved"),
    Campaign.Rejected: _reviewed("rejected"),
    Campaign.Started: _started,
    Campaign.TargetsFrozen: _frozen,
    Campaign.ControlFrozen: _frozen,
    Campaign.Closed: _closed,
    Campaign.CostRecorded: _same,
    Campaign.OutreachRequested: _frozen,
}


def fold(session: Session, events: list[Any]) -> None:
    """Write the rows `events` (new domain events, in store order) imply."""
    mine = [e for e in events if type(e) in FOLDS]
    if not mine:
        return
    created = {str(e.originator_id) for e in mine if isinstance(e, Campaign.Created)}
    wanted = sorted({str(e.originator_id) for e in mine} - created)
    rows: dict[str, Row] = {}
    if wanted:
        rows = {r["campaign_id"]: dict(r) for r in session.execute(
            select(campaign).where(campaign.c.campaign_id.in_(wanted))).mappings()}
    costs: dict[str, Row] = {}
    for ev in mine:
        cid = str(ev.originator_id)
        rows[cid] = {**FOLDS[type(ev)](rows.get(cid), ev), "version": ev.originator_version}
        if isinstance(ev, Campaign.CostRecorded):
            costs[cid] = {"campaign_id": cid, "amount": Decimal(ev.amount), "currency": ev.currency,
                          "note": ev.note, "recorded_by": ev.by, "recorded_at": _ts(ev.at)}
    upsert(session, campaign, [rows[k] for k in sorted(rows)], ["campaign_id"])
    upsert(session, cost, [costs[k] for k in sorted(costs)], ["campaign_id"])
    for ev in mine:  # each event's targets / outreach written as soon as they are rows (see `_targets`)
        if isinstance(ev, Campaign.TargetsFrozen):
            _targets(session, str(ev.originator_id), ev.targets)
        elif isinstance(ev, Campaign.ControlFrozen):
            insert_rows(session, holdout, [{"campaign_id": str(ev.originator_id), "customer_id": c}
                                           for c in ev.customers], ignore=["campaign_id", "customer_id"])
        elif isinstance(ev, Campaign.OutreachRequested):
            _outreach(session, str(ev.originator_id), ev)


def _targets(session: Session, cid: str, frozen: list[list[str | None]]) -> None:
    """One frozen-targets event's rows (1,000 targets). Written event by event, not after building a start's
    100,000 rows: the transaction never waits idle on Python for long (eventsourcing ends a PostgreSQL
    transaction idle for 5 s: a 100,000-target start under load was cut off between two statements)."""
    targets = [{"campaign_id": cid, "customer_id": c, "follow_up_id": follow_up_id(cid, c), "manager_id": m,
                "team_id": t} for c, m, t in frozen]
    insert_rows(session, target, targets, ignore=["campaign_id", "customer_id"])
    insert_rows(session, target_status, [{"campaign_id": cid, "customer_id": t["customer_id"], "status": "targeted"}
                                         for t in targets], ignore=["campaign_id", "customer_id"])


def _outreach(session: Session, cid: str, ev: Any) -> None:
    """One outreach event's requests (a tick's targets x the plan's message channels) and their log lines."""
    at = _ts(ev.at)
    sends = [{"request_id": outreach_request_id(cid, c, ch), "campaign_id": cid, "customer_id": c, "channel": ch,
              "requested_at": at} for c in ev.customers for ch in ev.channels]
    insert_ignore(session, outreach, [{**r, "status": "requested"} for r in sends], ["request_id"])
    insert_ignore(session, target_log, [
        {"campaign_id": r["campaign_id"], "key": stamp(r["requested_at"], r["request_id"]), "customer_id": r["customer_id"],
         "action": "outreach_requested", "at": r["requested_at"], "detail": r["channel"]} for r in sends],
        ["campaign_id", "key", "customer_id", "action"])
