"""Builders of the `crm.*` events the summary consumes, for tests, the benchmark and demos.

Event ids are deterministic when `event_id` is given, so the same scenario can be published twice."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from shared.events import Envelope, Event, registry
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned, ManagerChanged, TeamChanged
from shared.events.crm_customer import (
    AccountStatusChanged,
    CustomerOnboarded,
    FundsMoved,
    StageChanged,
    TradeRecorded,
)
from shared.events.crm_kyc import KycCaseDecided, KycCaseStateChanged
from shared.events.crm_tasks import FollowUpRecorded, TaskClosed, TaskCreated

PRODUCER = "whale-crm/samples"
_NS = uuid.UUID("0d7c9a51-2f4b-4e0a-8c3e-6b1f7d2a9e44")

STAGE_AFTER = {"registered": None, "applied": "registered", "opened": "pending_account_opening",
               "funded": "pending_funding", "traded": "funded"}


def _env(payload: object, at: datetime, key: str | None) -> Envelope:
    eid = uuid.uuid5(_NS, key) if key else None
    return registry.envelope(payload, producer=PRODUCER, occurred_at=at, event_id=eid)  # type: ignore[arg-type]


def as_event(env: Envelope) -> Event:
    return registry.decode(env.model_dump(mode="json"))


def registered(cid: str, at: datetime, key: str | None = None) -> Envelope:
    return _env(CustomerOnboarded(customer_id=cid, registered_at=at, channel="app"), at, key)


def stage(cid: str, to: str, at: datetime, frm: str | None = None, key: str | None = None) -> Envelope:
    return _env(StageChanged(customer_id=cid, from_stage=frm, to_stage=to, changed_at=at,
                             cause_event_id=uuid.uuid4().hex, cause_event_type="test"), at, key)


def account(cid: str, status: str, at: datetime, application_id: str = "app-1", key: str | None = None) -> Envelope:
    return _env(AccountStatusChanged(customer_id=cid, status=status, application_id=application_id, changed_at=at),
                at, key)


def first_deposit(cid: str, at: datetime, amount: str = "100", key: str | None = None) -> Envelope:
    return _env(FundsMoved(customer_id=cid, transaction_id=f"tx-{cid}", direction="deposit",
                           amount=Decimal(amount), currency="USD", occurred_at=at, first_deposit=True), at, key)


def first_trade(cid: str, at: datetime, key: str | None = None) -> Envelope:
    return _env(TradeRecorded(customer_id=cid, trade_id=f"tr-{cid}", occurred_at=at, first_trade=True), at, key)


def assigned(cid: str, manager: str, team: str | None, at: datetime, stage: str | None = None,
             key: str | None = None, share: str = "1") -> Envelope:
    return _env(CustomerAssigned(customer_id=cid, manager_id=manager, team_id=team, stage=stage, reason="rule",
                                 assigned_at=at, share=Decimal(share)), at, key)


def unassigned(cid: str, manager: str, team: str | None, at: datetime, key: str | None = None) -> Envelope:
    return _env(CustomerUnassigned(customer_id=cid, manager_id=manager, team_id=team, reason="reclaimed",
                                   unassigned_at=at), at, key)


def manager_changed(manager: str, team: str | None, at: datetime, status: str = "active") -> Envelope:
    return _env(ManagerChanged(manager_id=manager, name="AM", team_id=team, status=status, changed_at=at), at, None)


def team_changed(team: str, leader: str | None, at: datetime) -> Envelope:
    return _env(TeamChanged(team_id=team, name="Team", leader_id=leader, changed_at=at), at, None)


def follow_up(fid: str, cid: str, manager: str, at: datetime, *, next_at: datetime | None = None,
              intent: str | None = None, tags: list[str] | None = None, task_id: str | None = None) -> Envelope:
    return _env(FollowUpRecorded(follow_up_id=fid, customer_id=cid, manager_id=manager, recorded_at=at,
                                 next_follow_up_at=next_at, intent=intent, tags=tags or [], task_id=task_id),
                at, f"fu:{fid}")


def task_created(tid: str, cid: str, node: str, due: datetime, at: datetime, assignee: str | None = None,
                 team: str | None = None) -> Envelope:
    return _env(TaskCreated(task_id=tid, customer_id=cid, node=node, assignee_id=assignee, team_id=team,
                            due_at=due, created_at=at), at, f"tc:{tid}")


def task_closed(tid: str, cid: str, node: str, at: datetime, outcome: str = "completed") -> Envelope:
    return _env(TaskClosed(task_id=tid, customer_id=cid, node=node, outcome=outcome, closed_at=at), at, f"tx:{tid}")


def kyc_state(case: str, cid: str, to: str, at: datetime, frm: str | None = None) -> Envelope:
    return _env(KycCaseStateChanged(case_id=case, customer_id=cid, application_id="app-1", from_state=frm,
                                    to_state=to, changed_at=at), at, None)


def kyc_decided(case: str, cid: str, decision: str, at: datetime) -> Envelope:
    return _env(KycCaseDecided(case_id=case, customer_id=cid, application_id="app-1", decision=decision,
                               decided_by="rev-1", decided_at=at, completion_pct=100), at, None)


def journey(cid: str, manager: str, team: str | None, registered_at: datetime, *, applied: datetime | None = None,
            opened: datetime | None = None, funded: datetime | None = None, traded: datetime | None = None,
            assign_at: datetime | None = None) -> list[Envelope]:
    """A customer's path: registration, assignment, and each later milestone with its stage change."""
    out = [registered(cid, registered_at), stage(cid, "registered", registered_at),
           assigned(cid, manager, team, assign_at or registered_at)]
    steps = [("applied", applied, "pending_account_opening"), ("opened", opened, "pending_funding"),
             ("funded", funded, "funded"), ("traded", traded, "traded")]
    prev = "registered"
    for name, at, to in steps:
        if at is None:
            break
        if name == "applied":
            out.append(account(cid, "applied", at))
        elif name == "opened":
            out.append(account(cid, "opened", at))
        elif name == "funded":
            out.append(first_deposit(cid, at))
        else:
            out.append(first_trade(cid, at))
        out.append(stage(cid, to, at, frm=prev))
        prev = to
    return out
