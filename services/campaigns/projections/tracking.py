"""Execution tracking per target, fed by the consumer with the audience facts (`consumers.py`):

- `brokerage.outreach_results` (`outreach.result`): the delivery of each outreach message (`cp_outreach`);
  a message delivered contacts the target, one opened reaches it;
- `crm.tasks.events` (`crm.tasks.follow_up_recorded`) within the campaign's run (start to planned end): a
  follow-up contacts the target; a captured call with talk time, or a follow-up with an intent, reaches it; the
  intent `interested` / `declined` (or `not_interested`) is the target's response (the latest one counts);
- `crm.customer.events` (`crm.customer.stage_changed`) in the attribution window (from the start for
  `attribution_window_days`, as the indicators count it): a stage reached that is one of the plan's conversion metrics (account opened = pending_funding,
  funded, first trade = traded) converts the target.

Every fact is a register of (business time|event id): the earliest for contacted, reached, converted and each
delivery step, the latest for the response, so any delivery order, in batches or one by one, gives the same
rows; the status derives from them and only moves forward (converted > interested | declined > reached >
contacted > targeted). Each fact applied to a target is also a row of `cp_target_log` (ids, action, channel or
metric: never free text). A batch is written with a fixed number of statements."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.events import Event
from shared.events.crm_customer import STAGE_ORDER, Stage, StageChanged
from shared.events.crm_tasks import FollowUpRecorded
from shared.events.upstream_user import OutreachResult
from shared.runtime.logging import get_logger
from shared.runtime.sqlrows import insert_ignore, upsert

from .audience import key
from .tables import campaign, outreach, target_log, target_status

log = get_logger("campaigns.tracking")
Row = dict[str, Any]
TRACKING_FACTS = (OutreachResult, FollowUpRecorded, StageChanged)
PLATFORM_FACTS = (OutreachResult,)  # from a `brokerage.*` topic: journaled (`consumers.py`)
STEP_RANK = {"requested": 0, "sent": 1, "failed": 2, "delivered": 3, "opened": 4}
CONVERSIONS = {Stage.pending_funding: "account_opened", Stage.funded: "funded", Stage.traded: "first_trade"}
RESPONSES = {"interested": "interested", "declined": "declined", "not_interested": "declined",
             "not interested": "declined"}


def _earliest(row: Row, column: str, k: str) -> bool:
    if row[column] is None or k < row[column]:
        row[column] = k
        return True
    return False


def status_of(row: Row) -> str:
    if row["converted_key"]:
        return "converted"
    if row["response"]:
        return str(row["response"])
    if row["reached_key"]:
        return "reached"
    return "contacted" if row["contacted_key"] else "targeted"


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _log(logs: dict[tuple[str, str, str, str], Row], t: Row, k: str, action: str, at: datetime,
         detail: str | None) -> None:
    logs[(t["campaign_id"], k, t["customer_id"], action)] = {
        "campaign_id": t["campaign_id"], "key": k, "customer_id": t["customer_id"], "action": action,
        "at": _aware(at).astimezone(UTC), "detail": detail}


def _targets(session: Session, customers: Iterable[str]) -> tuple[dict[str, list[Row]], dict[str, Row]]:
    """The status rows of these customers' targets, by customer, and their campaigns' windows."""
    wanted = sorted(set(customers))
    if not wanted:
        return {}, {}
    by_customer: dict[str, list[Row]] = {}
    for r in session.execute(select(target_status).where(target_status.c.customer_id.in_(wanted))
                             .order_by(target_status.c.campaign_id)).mappings():
        by_customer.setdefault(r["customer_id"], []).append(dict(r))
    ids = sorted({r["campaign_id"] for rows in by_customer.values() for r in rows})
    windows: dict[str, Row] = {}
    if ids:
        for r in session.execute(select(campaign.c.campaign_id, campaign.c.started_at, campaign.c.end_at,
                                        campaign.c.plan).where(campaign.c.campaign_id.in_(ids))).mappings():
            if r["started_at"] is None:
                continue
            days = int(r["plan"].get("attribution_window_days") or 0)
            windows[r["campaign_id"]] = {"start": _aware(r["started_at"]), "end": _aware(r["end_at"]),
                                         "until": _aware(r["started_at"]) + timedelta(days=days),
                                         "metrics": set(r["plan"].get("metrics") or [])}
    return by_customer, windows


def _follow_up(t: Row, w: Row, e: Event, logs: dict[Any, Row]) -> None:
    p = e.payload
    if not w["start"] <= p.recorded_at <= w["end"]:
        return
    k = key(p.recorded_at, e)
    _earliest(t, "contacted_key", k)
    response = RESPONSES.get((p.intent or "").strip().lower())
    if response or (p.source == "call" and (p.duration_s or 0) > 0):
        _earliest(t, "reached_key", k)
    if response and (t["response_key"] is None or k > t["response_key"]):
        t["response"], t["response_key"] = response, k
    _log(logs, t, k, "follow_up_recorded", p.recorded_at, response or p.source)


def _stage(t: Row, w: Row, e: Event, logs: dict[Any, Row]) -> None:
    p = e.payload
    if not w["start"] <= p.changed_at <= w["until"]:
        return
    low = -1 if p.from_stage is None else STAGE_ORDER[p.from_stage]
    reached = [m for s, m in CONVERSIONS.items() if low < STAGE_ORDER[s] <= STAGE_ORDER[p.to_stage]]
    metric = next((m for m in reached if m in w["metrics"]), None)
    if metric is None:
        return
    k = key(p.changed_at, e)
    if _earliest(t, "converted_key", k):
        t["conversion"] = metric
    _log(logs, t, k, "converted", p.changed_at, metric)


def _result(session: Session, results: list[Event], by_customer: dict[str, list[Row]],
            logs: dict[Any, Row]) -> list[Row]:
    """Apply the delivery results to their outreach rows and targets; returns the changed outreach rows."""
    ids = sorted({e.payload.request_id for e in results})
    rows = {r["request_id"]: dict(r) for r in session.execute(
        select(outreach).where(outreach.c.request_id.in_(ids))).mappings()} if ids else {}
    changed: dict[str, Row] = {}
    for e in results:
        p = e.payload
        row = rows.get(p.request_id)
        if row is None:  # not one of ours (or its campaign's store was reset): nothing to track
            log.warning("outreach_result_unknown_request", request_id=p.request_id)
            continue
        k, step = key(p.at, e), str(p.status)
        if _earliest(row, f"{step}_key", k) and step == "failed":
            row["reason_code"] = p.reason_code
        row["status"] = max((s for s in STEP_RANK if s == "requested" or row.get(f"{s}_key")), key=STEP_RANK.get)
        changed[p.request_id] = row
        t = next((t for t in by_customer.get(row["customer_id"], []) if t["campaign_id"] == row["campaign_id"]), None)
        if t is None:
            continue
        if step in ("delivered", "opened"):
            _earliest(t, "contacted_key", k)
        if step == "opened":
            _earliest(t, "reached_key", k)
        _log(logs, t, k, f"outreach_{step}", p.at, row["channel"])
    return [changed[k] for k in sorted(changed)]


def apply_tracking_facts(session: Session, events: list[Event]) -> None:
    """`SqlBatchHandler` apply (with the audience facts): the batch's delivery results, follow-ups and stage
    changes, applied to the targets of started campaigns."""
    mine = [e for e in events if isinstance(e.payload, TRACKING_FACTS)]
    if not mine:
        return
    by_customer, windows = _targets(session, (e.payload.customer_id for e in mine))
    logs: dict[Any, Row] = {}
    results = [e for e in mine if isinstance(e.payload, OutreachResult)]
    sent = _result(session, results, by_customer, logs)
    for e in mine:
        if isinstance(e.payload, OutreachResult):
            continue
        for t in by_customer.get(e.payload.customer_id, []):
            w = windows.get(t["campaign_id"])
            if w is None:
                continue
            (_follow_up if isinstance(e.payload, FollowUpRecorded) else _stage)(t, w, e, logs)
    touched = sorted((t for rows in by_customer.values() for t in rows), key=lambda t: (t["campaign_id"], t["customer_id"]))
    upsert(session, target_status, [{**t, "status": status_of(t)} for t in touched], ["campaign_id", "customer_id"])
    upsert(session, outreach, sent, ["request_id"])
    insert_ignore(session, target_log, [logs[k] for k in sorted(logs)], ["campaign_id", "key", "customer_id", "action"])
