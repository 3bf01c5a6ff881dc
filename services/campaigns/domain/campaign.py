"""The Campaign aggregate: planning, same-level review and execution.

Statuses: draft → (submit) in_review → approved | rejected; an edit of an approved campaign returns it to
review, an edit of a rejected one makes it a draft again; approved → (start: the audience frozen with its
size, one target per customer with the owner the distribution chose) running → (close, at the end time)
closed. An approved campaign never started closes at its end time with no audience. Every step is an event
naming who and when; the plan is kept in its published (JSON) form.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from .distribution import NEEDS_TEAM, Target
from .errors import CampaignEnded, InvalidPlan, InvalidTransition, OwnCampaign, RejectionNeedsComment
from .review import ReviewPolicy

NAMESPACE = uuid.UUID("3c0f8a52-6f1e-4f2b-9a57-0d7e5c1b9e21")
DRAFT, IN_REVIEW, APPROVED, REJECTED, RUNNING, CLOSED = ("draft", "in_review", "approved", "rejected", "running",
                                                         "closed")
EDITABLE = (DRAFT, IN_REVIEW, APPROVED, REJECTED)
CHUNK = 1000  # targets per frozen-targets event (each maps to that many follow-up requests)
CONTROL_CHUNK = 5000  # hold-out customer ids per frozen-control event (nothing is published for them)
END_TIME, MANUAL = "end_time", "manual"


def follow_up_id(campaign_id: uuid.UUID | str, customer_id: str) -> str:
    """One follow-up per customer per campaign, the same id however often it is published."""
    return str(uuid.uuid5(NAMESPACE, f"follow-up:{campaign_id}:{customer_id}"))


def outreach_request_id(campaign_id: uuid.UUID | str, customer_id: str, channel: str) -> str:
    """One message per target per channel, the same id however often it is published."""
    return str(uuid.uuid5(NAMESPACE, f"outreach:{campaign_id}:{customer_id}:{channel}"))


def message_channels(plan: Mapping[str, Any]) -> list[str]:
    """The messaging channels that send something: those with a message on the plan, in its order."""
    return [m["channel"] for m in plan.get("messages") or []]


def as_time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def check_plan(plan: Mapping[str, Any]) -> None:
    """Rules across fields (each field's own format is the contract's)."""
    if as_time(plan["end_at"]) <= as_time(plan["start_at"]):
        raise InvalidPlan("end_at must be after start_at", field="end_at")
    if plan["distribution"] in NEEDS_TEAM and not plan.get("team_id"):
        raise InvalidPlan(f"distribution {plan['distribution']} needs a team_id", field="team_id")
    sends = message_channels(plan)
    if len(set(sends)) != len(sends) or not set(sends) <= set(plan["channels"]):
        raise InvalidPlan("one message per channel, and only for the plan's channels", field="messages")


class Campaign(Aggregate):
    @classmethod
    def create(cls, *, plan: Mapping[str, Any], by: str, level: int, scope: Mapping[str, Any],
               at: datetime) -> Campaign:
        check_plan(plan)
        return cls(plan=dict(plan), created_by=by, creator_level=level, scope=dict(scope), at=at)

    @event("Created")
    def __init__(self, *, plan: dict[str, Any], created_by: str, creator_level: int, scope: dict[str, Any],
                 at: datetime) -> None:
        self.plan = dict(plan)
        self.created_by = created_by
        self.creator_level = creator_level
        self.scope = dict(scope)  # the creator's data scope: the audience never reaches beyond it
        self.created_at = at
        self.updated_at = at
        self.status = DRAFT
        self.authors = [created_by]  # who wrote the plan since its last review: none of them reviews it
        self.reviewed_by: str | None = None
        self.review_comment: str | None = None
        self.audience_size: int | None = None
        self.started_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.cost: dict[str, Any] | None = None  # {"amount": "…", "currency": "HKD", "note": …}
        self.outreach_after: str | None = None  # outreach sent to the targets up to this customer id (in order)
        self.final_counts: dict[str, int] | None = None  # the execution figures frozen at the close

    @property
    def start_at(self) -> datetime:
        return as_time(self.plan["start_at"])

    @property
    def end_at(self) -> datetime:
        return as_time(self.plan["end_at"])

    # ------------------------------------------------------------------------------------ planning
    def edit(self, *, plan: Mapping[str, Any], by: str, at: datetime) -> None:
        if self.status not in EDITABLE:
            raise InvalidTransition(f"a {self.status} campaign cannot be edited")
        check_plan(plan)
        status = {APPROVED: IN_REVIEW, REJECTED: DRAFT}.get(self.status, self.status)
        self._updated(plan=dict(plan), by=by, at=at, status=status)

    @event("Updated")
    def _updated(self, *, plan: dict[str, Any], by: str, at: datetime, status: str) -> None:
        self.plan = dict(plan)
        self.status = status
        self.updated_at = at
        if by not in self.authors:
            self.authors = [*self.authors, by]

    def submit(self, *, by: str, at: datetime) -> None:
        if self.status not in (DRAFT, REJECTED):
            raise InvalidTransition(f"a {self.status} campaign cannot be submitted")
        self._submitted(by=by, at=at)

    @event("Submitted")
    def _submitted(self, *, by: str, at: datetime) -> None:
        self.status = IN_REVIEW
        self.updated_at = at
        if by not in self.authors:
            self.authors = [*self.authors, by]

    # ------------------------------------------------------------------------------------ review
    def review(self, *, by: str, level: int, approve: bool, comment: str | None, at: datetime,
               policy: ReviewPolicy) -> None:
        if self.status != IN_REVIEW:
            raise InvalidTransition(f"a {self.status} campaign is not in review")
        if by in self.authors:
            raise OwnCampaign("nobody reviews a campaign they created or edited")
        policy.check(self.creator_level, level)
        comment = (comment or "").strip() or None
        if approve:
            self._approved(by=by, at=at, comment=comment)
        else:
            if comment is None:
                raise RejectionNeedsComment("a rejection needs a comment", field="comment")
            self._rejected(by=by, at=at, comment=comment)

    @event("Approved")
    def _approved(self, *, by: str, at: datetime, comment: str | None) -> None:
        self.status = APPROVED
        self.reviewed_by, self.review_comment, self.updated_at = by, comment, at
        self.authors = []

    @event("Rejected")
    def _rejected(self, *, by: str, at: datetime, comment: str) -> None:
        self.status = REJECTED
        self.reviewed_by, self.review_comment, self.updated_at = by, comment, at
        self.authors = []

    # ------------------------------------------------------------------------------------ execution
    def start(self, *, by: str | None, at: datetime, targets: Sequence[Target], control: Sequence[str] = ()) -> bool:
        """Freeze the audience (`targets`, as the distribution chose; `control`: the customers of the audience held
        out as the control group, not targeted) and start. False if already running or closed (a start decided
        twice: the second one changes nothing)."""
        if self.status in (RUNNING, CLOSED):
            return False
        if self.status != APPROVED:
            raise InvalidTransition(f"a {self.status} campaign cannot start: it must be approved")
        if at >= self.end_at:
            raise CampaignEnded("the campaign's end time has passed")
        rows = [[c, m, t] for c, m, t in sorted(targets, key=lambda t: t[0])]
        self._started(by=by, at=at, audience_size=len(rows))
        for i in range(0, len(rows), CHUNK):
            self._targets_frozen(chunk=i // CHUNK, targets=rows[i:i + CHUNK], at=at)
        held = sorted(control)
        for i in range(0, len(held), CONTROL_CHUNK):
            self._control_frozen(chunk=i // CONTROL_CHUNK, customers=held[i:i + CONTROL_CHUNK], at=at)
        return True

    @event("Started")
    def _started(self, *, by: str | None, at: datetime, audience_size: int) -> None:
        self.status = RUNNING
        self.started_at, self.updated_at, self.audience_size = at, at, audience_size

    @event("TargetsFrozen")
    def _targets_frozen(self, *, chunk: int, targets: list[list[str | None]], at: datetime) -> None:
        pass  # the targets live in the read model (campaign_target) and on the topic, not in memory

    @event("ControlFrozen")
    def _control_frozen(self, *, chunk: int, customers: list[str], at: datetime) -> None:
        pass  # the hold-out lives in the read model (cp_control) for the evaluation

    def request_outreach(self, *, customers: Sequence[str], at: datetime) -> bool:
        """Send the plan's messages to the next targets (customer ids after `outreach_after`, ascending). Only
        while running: nothing after the close. False if there is nothing to send."""
        customers = sorted(c for c in customers if self.outreach_after is None or c > self.outreach_after)
        if self.status != RUNNING or not customers or not message_channels(self.plan):
            return False
        self._outreach_requested(customers=customers, channels=message_channels(self.plan), at=at)
        return True

    @event("OutreachRequested")
    def _outreach_requested(self, *, customers: list[str], channels: list[str], at: datetime) -> None:
        self.outreach_after = customers[-1]

    def close(self, *, by: str | None, at: datetime, reason: str, final_counts: Mapping[str, int] | None = None) -> bool:
        """Close a running campaign (or an approved one never started, at its end time), freezing its execution
        figures. False if closed."""
        if self.status == CLOSED:
            return False
        if self.status != RUNNING and not (self.status == APPROVED and reason == END_TIME):
            raise InvalidTransition(f"a {self.status} campaign cannot be closed")
        self._closed(by=by, at=at, reason=reason, final_counts=dict(final_counts) if final_counts else None)
        return True

    @event("Closed")
    def _closed(self, *, by: str | None, at: datetime, reason: str, final_counts: dict[str, int] | None = None) -> None:
        self.status = CLOSED
        self.closed_at, self.updated_at = at, at
        self.final_counts = final_counts
        if self.audience_size is None:
            self.audience_size = 0

    # ------------------------------------------------------------------------------------ evaluation
    def record_cost(self, *, amount: str, currency: str, note: str | None, by: str, at: datetime) -> bool:
        """The campaign's whole cost so far (the latest entry counts), in any status. False if unchanged."""
        cost = {"amount": amount, "currency": currency, "note": note}
        if self.cost == cost:
            return False
        self._cost_recorded(amount=amount, currency=currency, note=note, by=by, at=at)
        return True

    @event("CostRecorded")
    def _cost_recorded(self, *, amount: str, currency: str, note: str | None, by: str, at: datetime) -> None:
        self.cost = {"amount": amount, "currency": currency, "note": note}
