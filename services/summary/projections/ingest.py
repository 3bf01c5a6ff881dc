"""Turning decoded `crm.*` events into raw rows (pure: no database access)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.events import Event
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned, ManagerChanged, TeamChanged
from shared.events.crm_customer import (
    AccountStatus,
    AccountStatusChanged,
    CustomerMerged,
    CustomerOnboarded,
    CustomerUnmerged,
    FundsMoved,
    StageChanged,
    TradeRecorded,
)
from shared.events.crm_kyc import KycCaseDecided, KycCaseStateChanged
from shared.events.crm_tasks import FollowUpRecorded, TaskClosed, TaskCreated

from ..domain.clock import to_naive_utc


def tags_text(tags: list[str]) -> str:
    """Tags as "|a|b|" so that `LIKE '%|a|%'` finds one exactly; '|' inside a tag is replaced."""
    clean = sorted({t.replace("|", "/").strip() for t in tags if t and t.strip()})
    return "|" + "".join(f"{t}|" for t in clean)


@dataclass
class RawBatch:
    history: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    kyc: list[dict[str, Any]] = field(default_factory=list)
    managers: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    customers: set[str] = field(default_factory=set)
    ignored: int = 0

    def hist(self, event: Event, customer_id: str, kind: str, at: Any, a: str | None = None,
             b: str | None = None, c: str | None = None, suffix: str = "", d: str | None = None) -> None:
        self.history.append({"event_id": f"{event.event_id}{suffix}", "customer_id": customer_id, "kind": kind,
                             "at": to_naive_utc(at), "a": a, "b": b, "c": c, "d": d})
        self.customers.add(customer_id)

    def task(self, task_id: str, **values: Any) -> None:
        row = self.tasks.setdefault(task_id, {"task_id": task_id})
        for k, v in values.items():
            if v is not None:
                row[k] = v


def collect(events: list[Event]) -> RawBatch:
    batch = RawBatch()
    for event in events:
        _one(batch, event)
    return batch


def _one(batch: RawBatch, event: Event) -> None:  # noqa: C901 - one flat dispatch table
    p = event.payload
    if isinstance(p, CustomerOnboarded):
        batch.hist(event, p.customer_id, "milestone", p.registered_at, a="registered")
    elif isinstance(p, StageChanged):
        batch.hist(event, p.customer_id, "stage", p.changed_at, a=str(p.to_stage))
    elif isinstance(p, AccountStatusChanged):
        ref = p.application_id or p.account_id or ""
        if p.status == AccountStatus.applied:
            batch.hist(event, p.customer_id, "milestone", p.changed_at, a="applied", b=ref)
        elif p.status == AccountStatus.opened:
            batch.hist(event, p.customer_id, "milestone", p.changed_at, a="opened", b=ref)
        elif p.status == AccountStatus.rejected:
            batch.hist(event, p.customer_id, "rejected", p.changed_at, b=ref)
        else:
            batch.ignored += 1
    elif isinstance(p, FundsMoved):
        if p.direction == "deposit" and p.first_deposit:
            batch.hist(event, p.customer_id, "milestone", p.occurred_at, a="funded", b=p.transaction_id)
        else:
            batch.ignored += 1
    elif isinstance(p, TradeRecorded):
        if p.first_trade:
            batch.hist(event, p.customer_id, "milestone", p.occurred_at, a="traded", b=p.trade_id)
        else:
            batch.ignored += 1
    elif isinstance(p, CustomerMerged):  # the merged customer counts no more: its survivor is the customer
        batch.hist(event, p.merged_id, "merged", p.merged_at, a=p.survivor_id)
    elif isinstance(p, CustomerUnmerged):
        batch.hist(event, p.merged_id, "unmerged", p.unmerged_at, a=p.survivor_id)
    elif isinstance(p, CustomerAssigned):
        batch.hist(event, p.customer_id, "assign", p.assigned_at, a=p.manager_id, b=p.team_id, c=p.stage,
                   d=str(p.share))
    elif isinstance(p, CustomerUnassigned):
        batch.hist(event, p.customer_id, "unassign", p.unassigned_at, a=p.manager_id, b=p.team_id, c=p.stage)
    elif isinstance(p, FollowUpRecorded):
        batch.follow_ups.append({
            "follow_up_id": p.follow_up_id, "customer_id": p.customer_id, "manager_id": p.manager_id,
            "recorded_at": to_naive_utc(p.recorded_at),
            "next_follow_up_at": to_naive_utc(p.next_follow_up_at) if p.next_follow_up_at else None,
            "intent": p.intent, "tier": p.tier, "tags": tags_text(p.tags), "task_id": p.task_id,
            "team_id": None, "stage": None,
        })
        batch.customers.add(p.customer_id)
    elif isinstance(p, TaskCreated):
        batch.task(p.task_id, customer_id=p.customer_id, node=p.node, assignee_id=p.assignee_id,
                   team_id=p.team_id, due_at=to_naive_utc(p.due_at), created_at=to_naive_utc(p.created_at))
        batch.customers.add(p.customer_id)
    elif isinstance(p, TaskClosed):
        batch.task(p.task_id, customer_id=p.customer_id, node=p.node, closed_at=to_naive_utc(p.closed_at),
                   outcome=p.outcome)
        batch.customers.add(p.customer_id)
    elif isinstance(p, KycCaseStateChanged):
        batch.kyc.append({"case_id": p.case_id, "customer_id": p.customer_id, "state": str(p.to_state),
                          "changed_at": to_naive_utc(p.changed_at), "event_id": str(event.event_id)})
        batch.customers.add(p.customer_id)
    elif isinstance(p, KycCaseDecided):
        batch.kyc.append({"case_id": p.case_id, "customer_id": p.customer_id, "state": p.decision,
                          "changed_at": to_naive_utc(p.decided_at), "event_id": str(event.event_id)})
        batch.customers.add(p.customer_id)
    elif isinstance(p, ManagerChanged):
        batch.managers.append({"manager_id": p.manager_id, "team_id": p.team_id, "status": str(p.status),
                               "changed_at": to_naive_utc(p.changed_at), "event_id": str(event.event_id)})
    elif isinstance(p, TeamChanged):
        batch.teams.append({"team_id": p.team_id, "leader_id": p.leader_id,
                            "changed_at": to_naive_utc(p.changed_at), "event_id": str(event.event_id)})
    else:
        batch.ignored += 1  # other facts on these topics carry nothing the summary counts
