"""User management: the client/lead owner and the admin access level, as requests to the platform.

Who may change an owner (`UserOwnerChange`): the customer must be in the caller's data scope and the new owner
an active account manager in it too (a team lead: a manager of one of their teams; an admin: anyone). The
admin access level (`UserAccessLevelManage`, admins) applies to any user. Both need a reason; both are
stored as requests, sent to the platform, answered on `brokerage.request_results` and audited per step.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select, true
from sqlalchemy.orm import Session

from shared.events.crm_usercrm import AccessLevelChange, OwnerChange, RequestAction
from shared.runtime.api import Problem
from shared.runtime.auth import Perm, Principal, Scope, require

from ..projections import tables as t
from .actions import ACCEPTED, IdempotencyKey, submit
from .deps import PROBLEM_BASE, CustomerIdPath, check_customer, invalid, reading
from .models import AccessLevelIn, OwnerIn

router = APIRouter(prefix="/usercrm/customers/{customer_id}", tags=["actions"])
OwnerChanger = Annotated[Principal, Depends(require(Perm.UserOwnerChange))]
AccessLevelManager = Annotated[Principal, Depends(require(Perm.UserAccessLevelManage))]
ACTIVE = "active"


def current_owner(session: Session, customer_id: str) -> dict[str, Any] | None:
    """The customer's active owner (from the assignment service's events), latest first."""
    o = t.owner
    row = session.execute(select(o.c.manager_id, o.c.team_id, o.c.changed_at).where(
        o.c.customer_id == customer_id, o.c.active == true()).order_by(o.c.changed_at.desc()).limit(1)).first()
    return None if row is None else {"manager_id": row.manager_id, "team_id": row.team_id, "since": row.changed_at}


def current_access_level(session: Session, customer_id: str) -> str | None:
    """The level of the latest access-level change the platform completed (None: never changed by the CRM)."""
    r = t.request
    row = session.execute(select(r.c.summary).where(
        r.c.customer_id == customer_id, r.c.action == str(RequestAction.change_access_level),
        r.c.state == "completed").order_by(r.c.done_at.desc(), r.c.request_id.desc()).limit(1)).first()
    return None if row is None else row.summary.get("access_level")


def _manager(session: Session, manager_id: str) -> dict[str, Any] | None:
    m = t.manager
    row = session.execute(select(m.c.team_id, m.c.status).where(m.c.manager_id == manager_id)).first()
    return None if row is None else {"team_id": row.team_id, "status": row.status}


def check_new_owner(principal: Principal, manager: dict[str, Any] | None, owner_id: str) -> None:
    """422 for an unknown or inactive manager; 403 for a manager outside the caller's data scope."""
    if manager is None:
        raise invalid("body.owner_id", f"no account manager {owner_id!r}")
    if manager["status"] != ACTIVE:
        raise invalid("body.owner_id", f"account manager {owner_id!r} is {manager['status']}")
    if principal.scope == Scope.own and owner_id != principal.user_id:
        raise Problem(403, "Forbidden", "you may only give customers to yourself",
                      type_=f"{PROBLEM_BASE}owner_out_of_scope")
    if principal.scope == Scope.team and manager["team_id"] not in principal.teams:
        raise Problem(403, "Forbidden", f"account manager {owner_id!r} is not in your teams",
                      type_=f"{PROBLEM_BASE}owner_out_of_scope")


def _unchanged(what: str) -> Problem:
    return Problem(409, "Conflict", f"the {what} is already that", type_=f"{PROBLEM_BASE}unchanged")


@router.post("/owner", **ACCEPTED, summary="Change the client/lead owner (to an active account manager in scope)",
             responses={403: {"description": "Missing UserOwnerChange, or the new owner is outside your scope."},
                        409: {"description": "The new owner is the current owner."}})
async def change_owner(request: Request, customer_id: CustomerIdPath, body: OwnerIn, principal: OwnerChanger,
                       idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    manager, owner = await reading(request, lambda s: (_manager(s, body.owner_id), current_owner(s, customer_id)))
    check_new_owner(principal, manager, body.owner_id)
    previous = owner["manager_id"] if owner else None
    if previous == body.owner_id and not idempotency_key:
        raise _unchanged("owner")
    change = OwnerChange(owner_id=body.owner_id, team_id=manager["team_id"] if manager else None,
                         previous_owner_id=previous)
    return await submit(request, principal, customer_id, RequestAction.change_owner, idempotency_key,
                        owner=change, reason=body.reason)


@router.post("/access-level", **ACCEPTED, summary="Change the user's admin access level on the platform",
             responses={409: {"description": "The user already has that level."}})
async def change_access_level(request: Request, customer_id: CustomerIdPath, body: AccessLevelIn,
                              principal: AccessLevelManager, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    previous = await reading(request, lambda s: current_access_level(s, customer_id))
    if previous == str(body.access_level) and not idempotency_key:
        raise _unchanged("access level")
    change = AccessLevelChange(access_level=body.access_level, previous_level=previous)
    return await submit(request, principal, customer_id, RequestAction.change_access_level, idempotency_key,
                        access=change, reason=body.reason)
