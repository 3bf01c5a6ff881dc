"""Requests on users' behalf: per customer (the timeline of the User management panel), one request,
the maker-checker queue with approve / decline, and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from shared.events.crm_usercrm import RequestAction, RequestState
from shared.runtime.api import Problem, domain_problem
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery
from shared.runtime.logging import get_logger

from ..domain.errors import DomainError, UnknownRequest
from ..projections import tables as t
from . import paging
from .deps import (
    PROBLEM_BASE,
    CustomerIdPath,
    blocking,
    check_customer,
    container,
    in_scope,
    invalid,
    not_found,
    plain,
    reading,
)
from .models import AuditPage, DecisionIn, RequestPage, RequestView
from .views import request_view, row_view

log = get_logger("usercrm.api")
router = APIRouter(prefix="/usercrm", tags=["requests"])
Reader = Annotated[Principal, Depends(require(Perm.ClientProfileReadOnly))]
Checker = Annotated[Principal, Depends(require(Perm.UserMoneyApprove))]
Auditor = Annotated[Principal, Depends(require(Perm.AuditRead))]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = CursorQuery


def _page(session: Session, stmt: Any, limit: int, cursor: str | None) -> dict[str, Any]:
    """Newest first by (requested_at, request_id)."""
    r = t.request
    if cursor:
        at, rid = paging.decode(cursor, (datetime, str))
        stmt = stmt.where(tuple_(r.c.requested_at, r.c.request_id) < tuple_(at, rid))
    rows = list(session.execute(stmt.order_by(r.c.requested_at.desc(), r.c.request_id.desc())
                                .limit(limit + 1)).mappings())
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = paging.encode(rows[-1]["requested_at"], rows[-1]["request_id"]) if more else None
    return {"items": [row_view(x) for x in rows], "next_cursor": nxt}


@router.get("/customers/{customer_id}/requests", response_model=RequestPage,
            summary="The customer's requests, newest first (messages with their delivery result included)")
async def customer_requests(request: Request, customer_id: CustomerIdPath, principal: Reader,
                            state: Annotated[list[RequestState] | None, Query()] = None,
                            action: Annotated[list[RequestAction] | None, Query()] = None,
                            cursor: Cursor = None, limit: Limit = 50) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    r = t.request
    stmt = select(r).where(r.c.customer_id == customer_id)
    if state:
        stmt = stmt.where(r.c.state.in_([str(s) for s in state]))
    if action:
        stmt = stmt.where(r.c.action.in_([str(a) for a in action]))
    return await reading(request, lambda s: _page(s, stmt, limit, cursor))


@router.get("/approvals", response_model=RequestPage,
            summary="Money requests awaiting a second person's approval, in the caller's data scope")
async def approvals(request: Request, principal: Checker, cursor: Cursor = None, limit: Limit = 50) -> dict[str, Any]:
    r = t.request
    stmt = select(r).where(r.c.state == str(RequestState.awaiting_approval))
    cond = in_scope(principal, r.c.customer_id)
    if cond is not None:
        stmt = stmt.where(cond)
    return await reading(request, lambda s: _page(s, stmt, limit, cursor))


async def _visible_request(request: Request, principal: Principal, request_id: str) -> Any:
    c = container(request)
    try:
        agg = await blocking(c.app.get_request, request_id)
    except UnknownRequest:
        raise not_found("request", request_id) from None
    try:
        await check_customer(request, principal, agg.customer_id)
    except Problem:
        raise not_found("request", request_id) from None
    return agg


@router.get("/requests/{request_id}", response_model=RequestView, summary="One request and its state")
async def get_request(request: Request, request_id: str, principal: Reader) -> dict[str, Any]:
    return request_view(await _visible_request(request, principal, request_id))


async def _decide(request: Request, principal: Principal, request_id: str, verb: Literal["approve", "decline"],
                  note: str | None) -> dict[str, Any]:
    await _visible_request(request, principal, request_id)
    app, now, role = container(request).app, datetime.now(UTC), ",".join(principal.roles) or None
    try:
        if verb == "approve":
            agg = await blocking(app.approve, request_id, principal.user_id, role, now)
        else:
            agg = await blocking(app.decline, request_id, principal.user_id, role, now, note)
    except DomainError as exc:  # self-approval 403, invalid transition 409
        raise domain_problem(exc, PROBLEM_BASE) from None
    log.info("usercrm_request_" + ("approved" if verb == "approve" else "declined"), request_id=request_id,
             customer_id=agg.customer_id, state=str(agg.state))
    return request_view(agg)


@router.post("/requests/{request_id}/approve", response_model=RequestView,
             summary="Approve a money request (maker-checker: not your own); it is then sent to the platform")
async def approve(request: Request, request_id: str, principal: Checker) -> dict[str, Any]:
    return await _decide(request, principal, request_id, "approve", None)


@router.post("/requests/{request_id}/decline", response_model=RequestView,
             summary="Decline a money request awaiting approval (not your own); it is never sent")
async def decline(request: Request, request_id: str, body: DecisionIn, principal: Checker) -> dict[str, Any]:
    return await _decide(request, principal, request_id, "decline", body.note)


@router.get("/audit", response_model=AuditPage,
            summary="Audit log: every step of every request (who, role, what, customer id, when, outcome)")
async def audit_log(request: Request, principal: Auditor,
                    customer_id: Annotated[str | None, Query(max_length=64)] = None,
                    actor_id: Annotated[str | None, Query(max_length=200)] = None,
                    cursor: Cursor = None, limit: Limit = 100) -> dict[str, Any]:
    a = t.audit
    stmt = select(a)
    if customer_id:
        stmt = stmt.where(a.c.customer_id == customer_id)
    if actor_id:
        stmt = stmt.where(a.c.actor_id == actor_id)
    cond = in_scope(principal, a.c.customer_id)
    if cond is not None:
        stmt = stmt.where(cond)
    if cursor:
        at, rid, seq_text = paging.decode(cursor, (datetime, str, str))
        if not seq_text.isdigit():
            raise invalid("query.cursor", "not a cursor of this list")
        seq = int(seq_text)
        stmt = stmt.where(tuple_(a.c.at, a.c.request_id, a.c.seq) < tuple_(at, rid, seq))

    def run(s: Session) -> dict[str, Any]:
        rows = list(s.execute(stmt.order_by(a.c.at.desc(), a.c.request_id.desc(), a.c.seq.desc())
                              .limit(limit + 1)).mappings())
        more, rows = len(rows) > limit, rows[:limit]
        nxt = paging.encode(rows[-1]["at"], rows[-1]["request_id"], str(rows[-1]["seq"])) if more else None
        return {"items": [plain(x) for x in rows], "next_cursor": nxt}

    return await reading(request, run)
