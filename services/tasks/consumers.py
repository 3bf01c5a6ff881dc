"""Topic handlers of the automatic-task engine: plain functions over the shared pipeline
(`shared.runtime.pipeline`), which faust feeds (`shared.runtime.streams.FaustDriver`).

- `RULES`: one function per contract (payload class), deciding what a customer's task list does with the fact;
- `engine_apply`: loads the customers' task lists, applies the rules, collects the new domain events
  (recorded by `EngineHandler` with the Kafka tracking records, in one event-store transaction);
- `cards_handler`: the customer cards and assignments read model (SQL).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from shared.events import Event, Payload, topics
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned
from shared.events.crm_campaigns import (
    CampaignClosed,
    CampaignCreated,
    CampaignUpdated,
    TargetFollowUpRequested,
)
from shared.events.crm_customer import (
    AccountStatusChanged,
    CustomerMerged,
    CustomerUnmerged,
    FundsMoved,
    StageChanged,
    TradeRecorded,
    WealthEventDue,
)
from shared.events.crm_kyc import KycCaseDecided, KycCaseStateChanged
from shared.runtime.db import Tracker
from shared.runtime.eventstore import ProcessingEvent
from shared.runtime.handlers import EventSourcedBatchHandler, SqlBatchHandler
from shared.runtime.logging import get_logger
from shared.runtime.pipeline import Part

from .application import TasksApplication
from .domain.board import CustomerTasks
from .domain.campaign_name import CampaignName
from .domain.closure import CampaignClosure
from .domain.nodes import Node, Policy
from .projections.cards import CARD_RULES, apply_card_events

log = get_logger("tasks.engine")
Rule = Callable[[CustomerTasks, Event, Policy], None]
INPUT_TOPICS = (topics.CRM_CUSTOMER, topics.CRM_ASSIGNMENT, topics.CRM_KYC, topics.CRM_CAMPAIGNS, *topics.CAPTURE_TOPICS)
GROUP = "whale-tasks"


# ------------------------------------------------------------------------------------------ rules
def _stage_changed(board: CustomerTasks, e: Event, policy: Policy) -> None:
    board.observe_stage(e.payload.to_stage, e.payload.changed_at, str(e.event_id), policy)


def _account_status(board: CustomerTasks, e: Event, policy: Policy) -> None:
    board.observe_account_status(e.payload.status.value, e.payload.changed_at, str(e.event_id), policy)


def _funds_moved(board: CustomerTasks, e: Event, policy: Policy) -> None:
    p = e.payload
    if p.direction == "withdrawal" and policy.is_large_withdrawal(p.amount, p.currency):
        board.open_for(Node.large_withdrawal, p.occurred_at, str(e.event_id), policy)


def _trade(board: CustomerTasks, e: Event, policy: Policy) -> None:
    if e.payload.first_trade:
        board.open_for(Node.first_trade, e.payload.occurred_at, str(e.event_id), policy)


def _assigned(board: CustomerTasks, e: Event, policy: Policy) -> None:
    p = e.payload
    board.assign(p.manager_id, p.team_id, p.assigned_at, str(e.event_id), p.stage)


def _unassigned(board: CustomerTasks, e: Event, policy: Policy) -> None:
    p = e.payload
    board.unassign(p.manager_id, p.team_id, p.unassigned_at, str(e.event_id), p.reason.value, p.stage)


def _kyc_decided(board: CustomerTasks, e: Event, policy: Policy) -> None:
    p = e.payload  # the decision is the case's new state: more_info_requested, approved or rejected
    board.observe_kyc(p.case_id, p.decision, p.decided_at, str(e.event_id), policy)


def _kyc_state(board: CustomerTasks, e: Event, policy: Policy) -> None:
    p = e.payload
    board.observe_kyc(p.case_id, p.to_state.value, p.changed_at, str(e.event_id), policy)


def _campaign_follow_up(board: CustomerTasks, e: Event, policy: Policy) -> None:
    p = e.payload  # one per customer per campaign; a duplicate or re-published request opens nothing
    board.request_campaign_follow_up(p.campaign_id, p.follow_up_id, p.manager_id, p.team_id, p.requested_at,
                                     p.due_at, str(e.event_id))


def _started_by_campaign(customer_id: str, e: Event) -> CustomerTasks:
    p = e.payload  # a customer without a task list: started with the follow-up open, one stored event
    return CustomerTasks.started_by_campaign(customer_id, p.campaign_id, p.follow_up_id, p.manager_id, p.team_id,
                                             p.requested_at, p.due_at, str(e.event_id))


def _wealth_event(board: CustomerTasks, e: Event, policy: Policy) -> None:
    p = e.payload  # one per customer per calendar event; a duplicate or re-published reminder opens nothing
    due = datetime.combine(p.event_date, time(0), UTC)
    board.remind_wealth_event(p.event_key, max(due, p.due_at), p.due_at, str(e.event_id))


def _merged(board: CustomerTasks, e: Event, policy: Policy) -> None:
    board.merge_into(e.payload.survivor_id, e.payload.merged_at, str(e.event_id))


def _unmerged(board: CustomerTasks, e: Event, policy: Policy) -> None:
    board.unmerge(e.payload.unmerged_at, str(e.event_id), policy)


RULES: dict[type[Payload], Rule] = {
    StageChanged: _stage_changed,
    AccountStatusChanged: _account_status,
    FundsMoved: _funds_moved,
    TradeRecorded: _trade,
    CustomerAssigned: _assigned,
    CustomerUnassigned: _unassigned,
    KycCaseDecided: _kyc_decided,
    KycCaseStateChanged: _kyc_state,
    TargetFollowUpRequested: _campaign_follow_up,
    CustomerMerged: _merged,
    CustomerUnmerged: _unmerged,
    WealthEventDue: _wealth_event,
}
# Facts that start a task list the service has none of with their own change, in one stored event (what
# `CustomerTasks(customer_id=...)` then the rule would store as two): 100,000 at a campaign's start.
STARTS: dict[type[Payload], Callable[[str, Event], CustomerTasks]] = {TargetFollowUpRequested: _started_by_campaign}
# the task list a fact is about, where it is not the payload's `customer_id` (a merge: the merged customer's)
SUBJECT: dict[type[Payload], Callable[[Any], str]] = {CustomerMerged: lambda p: p.merged_id,
                                                      CustomerUnmerged: lambda p: p.merged_id}


# Cheap checks on the payload alone: most facts (ordinary deposits and trades…) never touch a task
# list, so the task list is not even loaded for them.
MATTERS: dict[type[Payload], Callable[[Any, Policy], bool]] = {
    FundsMoved: lambda p, policy: p.direction == "withdrawal" and policy.is_large_withdrawal(p.amount, p.currency),
    TradeRecorded: lambda p, _: bool(p.first_trade),
    KycCaseStateChanged: lambda p, _: p.to_state in ("more_info_requested", "resubmitted", "approved"),
}

# the log line of a task-list event worth one (by the event's class)
TASK_LOG: dict[type, str] = {CustomerTasks.TaskOpened: "task_created", CustomerTasks.StartedWithTask: "task_created",
                             CustomerTasks.TaskClosed: "task_closed"}


def engine_relevant(e: Event, policy: Policy) -> bool:
    if type(e.payload) in CAMPAIGN_RULES or type(e.payload) in NAMED:
        return True
    if type(e.payload) not in RULES:
        return False
    matters = MATTERS.get(type(e.payload))
    return matters is None or matters(e.payload, policy)


def _campaign_closed(board: CustomerTasks, e: Event, policy: Policy) -> None:
    board.close_campaign(e.payload.campaign_id, e.payload.closed_at, str(e.event_id))


# Campaign-wide facts (keyed by campaign, not customer): applied to every customer whose task list has an
# open follow-up of that campaign (`TasksApplication.campaign_customers`, from the task rows).
CAMPAIGN_RULES: dict[type[Payload], Rule] = {CampaignClosed: _campaign_closed}


NAMED = (CampaignCreated, CampaignUpdated)  # the campaign's name, shown beside its follow-up tasks


def _names(app: TasksApplication, events: list[Event]) -> list[CampaignName]:
    """The campaign names the batch's created/updated events record or change (`CampaignName`)."""
    named = [e for e in events if isinstance(e.payload, NAMED)]
    if not named:
        return []
    keys = {CampaignName.create_id(e.payload.campaign_id): e.payload.campaign_id for e in named}
    known: dict[str, CampaignName] = {keys[k]: n for k, n in app.load_many(list(keys)).items() if n is not None}
    changed: dict[str, CampaignName] = {}
    for e in named:
        p = e.payload
        at = p.created_at if isinstance(p, CampaignCreated) else p.updated_at
        current = known.get(p.campaign_id)
        if current is None:
            known[p.campaign_id] = CampaignName(campaign_id=p.campaign_id, name=p.plan.name, at=at,
                                                cause=str(e.event_id))
        else:
            current.learn(p.plan.name, at, str(e.event_id))
        changed[p.campaign_id] = known[p.campaign_id]
    return list(changed.values())


def _closures(app: TasksApplication, events: list[Event]) -> tuple[dict[str, CampaignClosure], list[CampaignClosure]]:
    """The closed campaigns the batch's campaign events refer to (stored, or closed by this batch: new)."""
    ids = [e.payload.campaign_id for e in events if isinstance(e.payload, TargetFollowUpRequested | CampaignClosed)]
    if not ids:
        return {}, []
    known = app.closures(ids)
    new: list[CampaignClosure] = []
    for e in events:
        p = e.payload
        if isinstance(p, CampaignClosed) and p.campaign_id not in known:
            known[p.campaign_id] = CampaignClosure(campaign_id=p.campaign_id, closed_at=p.closed_at,
                                                   cause=str(e.event_id))
            new.append(known[p.campaign_id])
    return known, new


def engine_apply(app: TasksApplication) -> Callable[[list[Event]], ProcessingEvent]:
    """Reads the task lists of the batch's customers with one query, applies the rules, and collects the
    changed task lists. A follow-up request of a campaign already closed is cancelled at once, at the close's
    time and cause: the same task rows whichever of the two was consumed first."""

    def apply(events: list[Event]) -> ProcessingEvent:
        boards: dict[str, CustomerTasks] = {}
        closures, new_closures = _closures(app, events)
        steps: list[tuple[str, Rule, Event]] = []
        for e in events:
            if type(e.payload) in CAMPAIGN_RULES:
                rule = CAMPAIGN_RULES[type(e.payload)]
                steps += [(cid, rule, e) for cid in app.campaign_customers(e.payload.campaign_id)]
            elif isinstance(e.payload, NAMED):
                continue  # the campaign's name (`_names`), no task list
            elif engine_relevant(e, app.policy):
                subject = SUBJECT.get(type(e.payload))
                steps.append((subject(e.payload) if subject else e.payload.customer_id, RULES[type(e.payload)], e))
        loaded = app.boards([cid for cid, _, _ in steps])
        for cid, rule, e in steps:
            board = boards.get(cid) or loaded.get(cid)
            start = STARTS.get(type(e.payload)) if board is None else None
            if start is not None:
                board = start(cid, e)
            else:
                board = board or CustomerTasks(customer_id=cid)
                rule(board, e, app.policy)
            boards[cid] = board
            closure = closures.get(e.payload.campaign_id) if isinstance(e.payload, TargetFollowUpRequested) else None
            if closure is not None:
                board.close_campaign(closure.campaign_id, closure.closed_at, closure.cause)
        pe = ProcessingEvent()
        for closure in new_closures:
            pe.collect_events(closure)
        for name in _names(app, events):
            if name.pending_events:
                pe.collect_events(name)
        for board in boards.values():
            pending = board.pending_events
            if not pending or (len(pending) == 1 and type(pending[0]) is CustomerTasks.Started):
                continue  # unchanged, or a new task list the facts did not change: do not store it
            for ev in pending:
                line = TASK_LOG.get(type(ev))
                if line is not None:
                    log.info(line, task_id=ev.task_id, customer_id=ev.customer_id, node=ev.node, cause_id=ev.cause)
            pe.collect_events(board)  # (the kit's ProcessingEvent: no runtime Protocol checks)
        return pe

    return apply


# ------------------------------------------------------------------------------------------ handlers
class EngineHandler(EventSourcedBatchHandler):
    """Task lists + tracking in the event store (exactly-once per offset; task ids keyed by cause). Only the
    events a rule cares about reach the task lists; a batch without any stores its position lazily.

    faust's agents (one per input topic) run concurrently; a customer's registration and assignment reach
    two of them at about the same time. One writer at a time in this process, so they do not fail each
    other's saves; conflicts remain possible only with the API and other replicas, and the pipeline retries
    those."""

    def __init__(self, app: TasksApplication, consumer: str, topics: list[str]):
        super().__init__(app, consumer, engine_apply(app), topics, name="engine",
                         relevant=lambda e: engine_relevant(e, app.policy))
        self._lock = threading.Lock()

    def apply(self, topic: str, partition: int, events: list[Event], next_offset: int) -> None:
        with self._lock:
            super().apply(topic, partition, events, next_offset)

    def apply_many(self, parts: list[Part]) -> None:
        with self._lock:
            super().apply_many(parts)


def cards_handler(sessions: sessionmaker[Session], tracker: Tracker) -> SqlBatchHandler:
    """Customer card + assignment read model (SQL; event ids and positions in the same transaction)."""
    return SqlBatchHandler(sessions, tracker, apply_card_events, name="cards",
                           relevant=lambda e: type(e.payload) in CARD_RULES)


__all__ = ["GROUP", "INPUT_TOPICS", "RULES", "EngineHandler", "cards_handler", "engine_apply"]
