"""The customer's service history for the 360° (`GET /customers/{id}/360`), from the CRM events other services
publish (never their databases): follow-up records and tickets (`crm.tasks.events`), KYC cases
(`crm.kyc.events`), requests on the user's behalf such as messages (`crm.usercrm.events`) and campaign touches
(`crm.campaigns.events`).

One table per section, written by `apply_activity` in the consumer's batch transaction (`SqlBatchHandler`:
event ids and positions in the same transaction). Each row is keyed by its fact's natural id (a follow-up, a
campaign touch) or by the event id (the changes of a ticket, a KYC case, a request), inserted once and never
updated, so any delivery order, duplicates included, gives the same rows; the current state of a ticket, a
case or a request is folded when read (`current`: the latest change by (time, event id)). Campaign names are a
last-writer-wins register by (time, event id). The topics are `crm.*` (kept forever): the tables are rebuilt by
replaying them from offset 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text, or_
from sqlalchemy.orm import Session

from shared.events import Event
from shared.events.crm_campaigns import CampaignCreated, CampaignUpdated, TargetFollowUpRequested
from shared.events.crm_kyc import KycCaseDecided, KycCaseStateChanged
from shared.events.crm_tasks import FollowUpRecorded, TicketChanged, TicketOpened
from shared.events.crm_usercrm import RequestStateChanged
from shared.runtime.logging import get_logger

log = get_logger("customer.activity")
TS = DateTime(timezone=True)


@dataclass
class ActivityTables:
    follow_up: Table
    ticket_event: Table
    kyc_event: Table
    request_event: Table
    campaign_touch: Table
    campaign_name: Table

    def all(self) -> list[Table]:
        return [self.follow_up, self.ticket_event, self.kyc_event, self.request_event, self.campaign_touch,
                self.campaign_name]


def activity_tables(md: MetaData) -> ActivityTables:
    cid = lambda: Column("customer_id", String(64), nullable=False)  # noqa: E731
    follow_up = Table(
        "customer_follow_up", md,
        Column("follow_up_id", String(64), primary_key=True), cid(),
        Column("manager_id", String(64), nullable=False), Column("task_id", String(64)),
        Column("intent", String(200)), Column("tier", String(200)),
        Column("contact_methods", JSON, nullable=False), Column("tags", JSON, nullable=False),
        Column("remarks", Text), Column("next_follow_up_at", TS), Column("recorded_at", TS, nullable=False),
        Column("event_id", String(36), nullable=False),
    )
    Index("ix_follow_up_customer", follow_up.c.customer_id, follow_up.c.recorded_at)
    ticket = Table(
        "customer_ticket_event", md,
        Column("event_id", String(36), primary_key=True), cid(), Column("ticket_id", String(64), nullable=False),
        Column("change", String(32), nullable=False, doc="opened, or the ticket_changed change"),
        Column("category", String(200)), Column("priority", String(16)), Column("status", String(16)),
        Column("assignee_id", String(64)), Column("actor_id", String(64)), Column("at", TS, nullable=False),
    )
    Index("ix_ticket_event_customer", ticket.c.customer_id, ticket.c.at)
    kyc = Table(
        "customer_kyc_event", md,
        Column("event_id", String(36), primary_key=True), cid(), Column("case_id", String(64), nullable=False),
        Column("application_id", String(64), nullable=False),
        Column("kind", String(16), nullable=False, doc="state (case_state_changed) or decision (case_decided)"),
        Column("state", String(32), nullable=False, doc="to_state, or the decision"),
        Column("completion_pct", Integer), Column("high_risk", Boolean, nullable=False),
        Column("at", TS, nullable=False),
    )
    Index("ix_kyc_event_customer", kyc.c.customer_id, kyc.c.at)
    request = Table(
        "customer_request_event", md,
        Column("event_id", String(36), primary_key=True), cid(), Column("request_id", String(64), nullable=False),
        Column("action", String(32), nullable=False), Column("state", String(32), nullable=False),
        Column("actor_id", String(200)), Column("reason_code", String(200)), Column("at", TS, nullable=False),
    )
    Index("ix_request_event_customer", request.c.customer_id, request.c.at)
    touch = Table(
        "customer_campaign_touch", md,
        Column("event_id", String(36), primary_key=True), cid(), Column("campaign_id", String(64), nullable=False),
        Column("follow_up_id", String(64), nullable=False), Column("manager_id", String(64)),
        Column("team_id", String(64)), Column("channels", JSON, nullable=False),
        Column("requested_at", TS, nullable=False), Column("due_at", TS, nullable=False),
    )
    Index("ix_campaign_touch_customer", touch.c.customer_id, touch.c.requested_at)
    name = Table(
        "customer_campaign_name", md,
        Column("campaign_id", String(64), primary_key=True), Column("name", String(200), nullable=False),
        Column("at", TS, nullable=False), Column("event_id", String(36), nullable=False),
    )
    return ActivityTables(follow_up, ticket, kyc, request, touch, name)


def _row(e: Event) -> tuple[str, dict[str, Any]] | None:
    """(section, row) for an event the 360 shows; None for the others."""
    p, eid = e.payload, str(e.event_id)
    if isinstance(p, FollowUpRecorded):
        return "follow_up", {"follow_up_id": p.follow_up_id, "customer_id": p.customer_id, "manager_id": p.manager_id,
                             "task_id": p.task_id, "intent": p.intent, "tier": p.tier,
                             "contact_methods": list(p.contact_methods), "tags": list(p.tags), "remarks": p.remarks,
                             "next_follow_up_at": p.next_follow_up_at, "recorded_at": p.recorded_at, "event_id": eid}
    if isinstance(p, TicketOpened):
        return "ticket_event", {"event_id": eid, "customer_id": p.customer_id, "ticket_id": p.ticket_id,
                                "change": "opened", "category": p.category, "priority": p.priority, "status": "open",
                                "assignee_id": p.assignee_id, "actor_id": p.created_by, "at": p.opened_at}
    if isinstance(p, TicketChanged):
        return "ticket_event", {"event_id": eid, "customer_id": p.customer_id, "ticket_id": p.ticket_id,
                                "change": p.change, "category": None, "priority": None, "status": p.status,
                                "assignee_id": p.assignee_id, "actor_id": p.changed_by, "at": p.changed_at}
    if isinstance(p, KycCaseStateChanged):
        return "kyc_event", {"event_id": eid, "customer_id": p.customer_id, "case_id": p.case_id,
                             "application_id": p.application_id, "kind": "state", "state": p.to_state.value,
                             "completion_pct": p.completion_pct, "high_risk": p.high_risk, "at": p.changed_at}
    if isinstance(p, KycCaseDecided):
        return "kyc_event", {"event_id": eid, "customer_id": p.customer_id, "case_id": p.case_id,
                             "application_id": p.application_id, "kind": "decision", "state": p.decision,
                             "completion_pct": p.completion_pct, "high_risk": p.high_risk, "at": p.decided_at}
    if isinstance(p, RequestStateChanged):
        return "request_event", {"event_id": eid, "customer_id": p.customer_id, "request_id": p.request_id,
                                 "action": p.action.value, "state": p.to_state.value, "actor_id": p.actor_id,
                                 "reason_code": p.reason_code, "at": p.changed_at}
    if isinstance(p, TargetFollowUpRequested):
        return "campaign_touch", {"event_id": eid, "customer_id": p.customer_id, "campaign_id": p.campaign_id,
                                  "follow_up_id": p.follow_up_id, "manager_id": p.manager_id, "team_id": p.team_id,
                                  "channels": [c.value for c in p.channels], "requested_at": p.requested_at,
                                  "due_at": p.due_at}
    if isinstance(p, CampaignCreated | CampaignUpdated):
        at = p.created_at if isinstance(p, CampaignCreated) else p.updated_at
        return "campaign_name", {"campaign_id": p.campaign_id, "name": p.plan.name, "at": at, "event_id": eid}
    return None


def relevant(e: Event) -> bool:
    return _row(e) is not None


def apply_activity(tables: ActivityTables):  # type: ignore[no-untyped-def]
    """`apply(session, events)` for SqlBatchHandler: one INSERT … ON CONFLICT DO NOTHING per section table
    (rows sorted by key: concurrent writers lock in one order) and one conditional upsert for campaign names."""
    from .tables import insert_for

    keys = {"follow_up": ["follow_up_id"], "campaign_name": ["campaign_id"]}

    def apply(session: Session, events: list[Event]) -> None:
        rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        for e in events:
            found = _row(e)
            if found is None:
                continue
            section, row = found
            key = tuple(row[k] for k in keys.get(section, ["event_id"]))
            bucket = rows.setdefault(section, {})
            cur = bucket.get(key)
            if section == "campaign_name" and cur is not None and (cur["at"], cur["event_id"]) >= (row["at"],
                                                                                                 row["event_id"]):
                continue
            if section != "campaign_name" and cur is not None and cur["event_id"] <= row["event_id"]:
                continue  # the same fact twice under two ids: the smaller id, whatever the order
            bucket[key] = row
        for section in sorted(rows):
            table: Table = getattr(tables, section)
            batch = [rows[section][k] for k in sorted(rows[section])]
            stmt = insert_for(session, table)
            if section == "campaign_name":
                t = table
                newer = or_(stmt.excluded.at > t.c.at, (stmt.excluded.at == t.c.at) & (stmt.excluded.event_id > t.c.event_id))
                stmt = stmt.on_conflict_do_update(index_elements=["campaign_id"], where=newer,
                                                  set_={c: stmt.excluded[c] for c in ("name", "at", "event_id")})
            elif section == "follow_up":  # one fact: the smallest event id, in any order
                cols = [c.name for c in table.c if c.name != "follow_up_id"]
                stmt = stmt.on_conflict_do_update(index_elements=["follow_up_id"],
                                                  where=stmt.excluded.event_id < table.c.event_id,
                                                  set_={c: stmt.excluded[c] for c in cols})
            else:
                stmt = stmt.on_conflict_do_nothing(index_elements=["event_id"])
            session.execute(stmt, batch)
        if rows:
            log.info("activity_projected", events=len(events), rows=sum(len(b) for b in rows.values()))

    return apply


def current(changes: Iterable[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """Fold each entity's changes (rows of one section, any order) into its current view: the latest non-null
    value of each field by (time, event id), the first time seen, and the changes count."""
    out: dict[str, dict[str, Any]] = {}
    for r in sorted(changes, key=lambda r: (_t(r["at"]), r["event_id"])):
        cur = out.setdefault(r[key], {key: r[key], "first_at": r["at"], "changes": 0})
        cur["changes"] += 1
        cur["last_at"] = r["at"]
        for k, v in r.items():
            if k not in (key, "at", "event_id", "customer_id") and v is not None:
                cur[k] = v
    return out


def _t(value: datetime) -> datetime:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
