"""Outbox mapper: stored request events -> `crm.usercrm.user_request` (to the platform, when a request is
sent: on creation without approval, or on approval), `crm.usercrm.request_state_changed` (every step) and
`crm.usercrm.owner_change_confirmed` (a change_owner request the platform completed: the assignment service
makes the new owner the customer's account manager).

The request contract is rebuilt from the aggregate *at the stored version* (the relay may publish an old
notification after a restart), so what is sent is what was stored."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from shared.events.crm_usercrm import OwnerChangeConfirmed, RequestAction, RequestState, RequestStateChanged
from shared.events.crm_usercrm import UserRequest as RequestContract
from shared.runtime.outbox import Outgoing

from .domain.request import UserRequest

RequestAt = Callable[[uuid.UUID, int], UserRequest]  # (aggregate id, version) -> the request at that version


def request_contract(r: UserRequest) -> RequestContract:
    return RequestContract(
        request_id=r.request_id, customer_id=r.customer_id, action=r.action, requested_by=r.requested_by,
        requested_role=r.requested_role, requested_at=r.requested_at, approved_by=r.approved_by, reason=r.reason,
        **r.params,
    )


def owner_change_confirmed(r: UserRequest, at: datetime) -> OwnerChangeConfirmed:
    owner = r.params["owner"]
    return OwnerChangeConfirmed(
        request_id=r.request_id, customer_id=r.customer_id, owner_id=owner["owner_id"],
        team_id=owner.get("team_id"), previous_owner_id=owner.get("previous_owner_id"),
        requested_by=r.requested_by, requested_at=r.requested_at, reason=r.reason, confirmed_at=at)


def _step(ev: Any) -> tuple[str | None, datetime]:
    if isinstance(ev, UserRequest.Requested):
        return ev.requested_by, ev.at
    if isinstance(ev, UserRequest.Approved | UserRequest.Declined):
        return ev.by, ev.at
    return None, ev.at


class UsercrmOutboxMapper:
    def __init__(self, request_at: RequestAt):
        self._request_at = request_at

    def __call__(self, ev: Any) -> Sequence[Outgoing]:
        if not isinstance(ev, UserRequest.Requested | UserRequest.Approved | UserRequest.Declined
                          | UserRequest.Answered):
            return []
        r = self._request_at(ev.originator_id, ev.originator_version)
        before = self._request_at(ev.originator_id, ev.originator_version - 1) if ev.originator_version > 1 else None
        actor, at = _step(ev)
        out = []
        sent_now = (isinstance(ev, UserRequest.Requested) and not r.needs_approval) or isinstance(
            ev, UserRequest.Approved)
        if sent_now:
            out.append(Outgoing(request_contract(r), occurred_at=at, correlation_id=r.correlation_id,
                                causation_id=r.request_id))
        out.append(Outgoing(
            RequestStateChanged(
                request_id=r.request_id, customer_id=r.customer_id, action=r.action,
                from_state=before.state if before is not None else None, to_state=r.state, changed_at=at,
                actor_id=actor, reason_code=getattr(ev, "reason_code", None),
                amount=r.amount, currency=r.currency,
            ),
            occurred_at=at, correlation_id=r.correlation_id, causation_id=r.request_id))
        if (isinstance(ev, UserRequest.Answered) and r.state == RequestState.completed
                and r.action == RequestAction.change_owner):  # an answer completes a request once
            out.append(Outgoing(owner_change_confirmed(r, at), occurred_at=at, correlation_id=r.correlation_id,
                                causation_id=r.request_id))
        return out
