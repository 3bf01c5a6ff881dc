"""Task nodes, the policy that turns facts into tasks, and domain errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from shared.events.crm_customer import STAGE_ORDER, Stage

TASK_NAMESPACE = uuid.UUID("0f4c2d7e-93a1-4b51-8f0e-2a6d5c1b7e34")


class Node(StrEnum):
    """A task node: one list on the Tasks page, one card count."""

    tmt_registration = "tmt_registration"  # registered, no application yet
    pending_account_opening = "pending_account_opening"
    pending_funding = "pending_funding"
    funded = "funded"
    first_trade = "first_trade"
    large_withdrawal = "large_withdrawal"
    account_rejected = "account_rejected"
    kyc_more_info = "kyc_more_info"
    scheduled_follow_up = "scheduled_follow_up"  # next follow-up time of a follow-up record
    campaign_followup = "campaign_followup"  # a campaign's target, for the owner the campaign chose
    wealth_event = "wealth_event"  # a wealth calendar event (IPO, dividend, maturity) a few days away


class TaskStatus(StrEnum):
    open = "open"
    completed = "completed"  # a follow-up was recorded from it
    converted = "converted"  # the customer moved on; the task is no longer relevant
    cancelled = "cancelled"  # superseded (e.g. a newer scheduled follow-up)


STAGE_NODES: dict[Stage, Node] = {
    Stage.registered: Node.tmt_registration,
    Stage.pending_account_opening: Node.pending_account_opening,
    Stage.pending_funding: Node.pending_funding,
    Stage.funded: Node.funded,
}
NODE_STAGE = {node: stage for stage, node in STAGE_NODES.items()}

# Nodes that close as converted once the customer reaches (at least) this stage.
CONVERTED_AT: dict[Node, Stage] = {
    Node.account_rejected: Stage.pending_funding,
    Node.kyc_more_info: Stage.pending_funding,
}


def task_id_for(cause: str, node: Node) -> str:
    """Tasks are keyed by the event (or follow-up) that caused them: a replay yields the same id."""
    return str(uuid.uuid5(TASK_NAMESPACE, f"{cause}:{node}"))


def stage_rank(stage: Stage | str | None) -> int:
    return -1 if stage is None else STAGE_ORDER[Stage(stage)]


def is_stale_for(node: Node, stage: Stage) -> bool:
    """Whether an open task of `node` is stale once the customer is at `stage`."""
    if node in NODE_STAGE:
        return stage_rank(stage) > stage_rank(NODE_STAGE[node])
    if node in CONVERTED_AT:
        return stage_rank(stage) >= stage_rank(CONVERTED_AT[node])
    return False


DEFAULT_DUE_HOURS: dict[str, float] = {n.value: 24.0 for n in Node}


@dataclass(frozen=True)
class Policy:
    """Configurable thresholds and due times (built from settings)."""

    due_hours: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_DUE_HOURS))
    large_withdrawal_thresholds: dict[str, Decimal] = field(default_factory=dict)

    def due_at(self, node: Node, at: datetime) -> datetime:
        hours = self.due_hours.get(node.value, DEFAULT_DUE_HOURS[node.value])
        return at + timedelta(hours=hours)

    def is_large_withdrawal(self, amount: Decimal, currency: str) -> bool:
        threshold = self.large_withdrawal_thresholds.get(currency)
        return threshold is not None and amount >= threshold


class DomainError(Exception):
    """A command that the current state does not allow (maps to 409 / 404 at the API)."""


class TaskNotOpen(DomainError):
    pass


class TaskNotFound(DomainError):
    pass


class InvalidTransition(DomainError):
    pass


class TicketGone(DomainError):
    pass


class CommentNotFound(DomainError):
    pass


class NotCommentAuthor(DomainError):
    pass
