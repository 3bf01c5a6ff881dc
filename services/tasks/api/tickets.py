"""Tickets after account opening: create, list (search, filters), edit, assign, status, comments, delete."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from sqlalchemy import func, or_, select
from sqlalchemy.engine import RowMapping

from shared.events.crm_customer import STAGE_ORDER, Stage
from shared.runtime.auth import Perm, Principal, Scope, require
from shared.runtime.cursor import CursorQuery
from shared.runtime.logging import get_logger

from ..domain.nodes import CommentNotFound, InvalidTransition, NotCommentAuthor, TicketGone
from ..domain.ticket import Ticket, TicketStatus
from ..projections.tables import customers, ticket_timeline, tickets
from .deps import (
    Container,
    after,
    all_of,
    conflict,
    container,
    customer_in_scope,
    customer_visible,
    customers_scope_clause,
    decode_cursor,
    encode_cursor,
    not_found,
    run_command,
)
from .models import AssigneeIn, CommentIn, Page, StatusIn, TicketEditIn, TicketIn, TicketOut, TimelineOut

router = APIRouter(prefix="/tickets", tags=["tickets"])
log = get_logger("tasks.api")
manage = require(Perm.TicketManage)


def _ticket_out(t: Ticket) -> dict[str, Any]:
    return TicketOut(ticket_id=str(t.id), customer_id=t.customer_id, title=t.title, description=t.description,
                     category=t.category, priority=t.priority, status=t.status, assignee_id=t.assignee_id,
                     created_by=t.created_by, created_at=t.created_at, updated_at=t.modified_on,
                     version=t.version).model_dump(mode="json")


def _visibility(principal: Principal) -> Any:
    """Tickets a principal sees: in their customer scope, or assigned to / opened by them."""
    if principal.scope == Scope.all:
        return None
    return or_(customers_scope_clause(principal), tickets.c.assignee_id == principal.user_id,
               tickets.c.created_by == principal.user_id)


def _visible_ticket(c: Container, principal: Principal, ticket_id: str) -> RowMapping:
    try:
        uuid.UUID(ticket_id)
    except ValueError:
        raise not_found("ticket", ticket_id) from None
    stmt = (select(tickets, customers.c.manager_id, customers.c.team_id)
            .select_from(tickets.outerjoin(customers, customers.c.customer_id == tickets.c.customer_id))
            .where(all_of(tickets.c.ticket_id == ticket_id, tickets.c.deleted.is_(False), _visibility(principal))))
    with c.sessions() as s:
        row = s.execute(stmt).mappings().first()
    if row is None:
        raise not_found("ticket", ticket_id)
    return row


def _may_change(c: Container, principal: Principal, ticket: Ticket) -> bool:
    """Scope check on the aggregate itself (the read model may not show a just-opened ticket yet)."""
    if principal.scope == Scope.all or principal.user_id in (ticket.assignee_id, ticket.created_by):
        return True
    with c.sessions() as s:
        row = s.execute(select(customers).where(customers.c.customer_id == ticket.customer_id)).mappings().first()
    return customer_visible(principal, row)


async def _change(c: Container, principal: Principal, ticket_id: str, change: Callable[[Ticket], Any],
                  event: str) -> Ticket:
    def guarded(ticket: Ticket) -> Any:
        if not _may_change(c, principal, ticket):
            raise TicketGone("outside the caller's scope")
        return change(ticket)

    ticket, _ = await run_command(
        lambda: c.app.change_ticket(ticket_id, guarded),
        {TicketGone: lambda _: not_found("ticket", ticket_id), InvalidTransition: lambda exc: conflict(str(exc)),
         CommentNotFound: lambda _: HTTPException(404, detail="comment not found"),
         NotCommentAuthor: lambda exc: HTTPException(403, detail=str(exc))},
        what="ticket",
    )
    c.wake()
    log.info(event, ticket_id=ticket_id, customer_id=ticket.customer_id, version=ticket.version)
    return ticket


@router.post("", status_code=201, response_model=TicketOut, summary="Open a ticket about a customer")
async def open_ticket(body: TicketIn, principal: Principal = Depends(manage),
                      c: Container = Depends(container)) -> dict[str, Any]:
    card = await asyncio.to_thread(customer_in_scope, c, principal, body.customer_id)
    opened = card["account_status"] in ("opened", "closed") or (
        card["stage"] is not None and STAGE_ORDER[Stage(card["stage"])] >= STAGE_ORDER[Stage.pending_funding])
    if not opened:
        raise conflict("tickets are for customers whose account has been opened")
    ticket = await asyncio.to_thread(
        c.app.open_ticket, customer_id=body.customer_id, title=body.title, description=body.description,
        category=body.category.value, priority=body.priority.value,
        assignee_id=body.assignee_id or principal.user_id, created_by=principal.user_id,
        created_at=datetime.now(UTC),
    )
    c.wake()
    log.info("ticket_opened", ticket_id=str(ticket.id), customer_id=body.customer_id)
    return _ticket_out(ticket)


@router.get("", response_model=Page, summary="Tickets, newest first, with search and filters")
async def list_tickets(
    status: TicketStatus | None = None,
    assignee_id: str | None = Query(default=None, max_length=64),
    customer_id: str | None = Query(default=None, max_length=64),
    q: str | None = Query(default=None, min_length=1, max_length=100, description="Search in titles."),
    cursor: CursorQuery = None,
    limit: int = Query(default=50, ge=1, le=200),
    principal: Principal = Depends(manage),
    c: Container = Depends(container),
) -> dict[str, Any]:
    clauses = [tickets.c.deleted.is_(False), _visibility(principal)]
    if status is not None:
        clauses.append(tickets.c.status == status.value)
    if assignee_id is not None:
        clauses.append(tickets.c.assignee_id == assignee_id)
    if customer_id is not None:
        clauses.append(tickets.c.customer_id == customer_id)
    if q:
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(func.lower(tickets.c.title).like(f"%{escaped}%", escape="\\"))
    if cursor:
        at, tid = decode_cursor(c, cursor, "tickets", (datetime, str))
        clauses.append(after((tickets.c.created_at, tickets.c.ticket_id), (at, tid), descending=True))
    stmt = (select(tickets)
            .select_from(tickets.outerjoin(customers, customers.c.customer_id == tickets.c.customer_id))
            .where(all_of(*clauses))
            .order_by(tickets.c.created_at.desc(), tickets.c.ticket_id.desc()).limit(limit + 1))

    def query() -> list[RowMapping]:
        with c.sessions() as s:
            return list(s.execute(stmt).mappings())

    rows = await asyncio.to_thread(query)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [TicketOut(**{k: r[k] for k in TicketOut.model_fields}).model_dump(mode="json") for r in rows]
    return {"items": items,
            "next_cursor": encode_cursor(c, "tickets", (rows[-1]["created_at"], rows[-1]["ticket_id"])) if more else None}


@router.get("/{ticket_id}", response_model=TicketOut)
async def get_ticket(ticket_id: str, principal: Principal = Depends(manage),
                     c: Container = Depends(container)) -> dict[str, Any]:
    row = await asyncio.to_thread(_visible_ticket, c, principal, ticket_id)
    return TicketOut(**{k: row[k] for k in TicketOut.model_fields}).model_dump(mode="json")


@router.patch("/{ticket_id}", response_model=TicketOut, summary="Edit title, description, category, priority")
async def edit_ticket(ticket_id: str, body: TicketEditIn, principal: Principal = Depends(manage),
                      c: Container = Depends(container)) -> dict[str, Any]:
    changes = {k: (v.value if hasattr(v, "value") else v) for k, v in body.model_dump(exclude_unset=True).items()}
    ticket = await _change(c, principal, ticket_id, lambda t: t.edit(changes, principal.user_id, datetime.now(UTC)),
                           "ticket_edited")
    return _ticket_out(ticket)


@router.put("/{ticket_id}/assignee", response_model=TicketOut, summary="Change the assignee")
async def assign_ticket(ticket_id: str, body: AssigneeIn, principal: Principal = Depends(manage),
                        c: Container = Depends(container)) -> dict[str, Any]:
    ticket = await _change(c, principal, ticket_id,
                           lambda t: t.assign(body.assignee_id, principal.user_id, datetime.now(UTC)),
                           "ticket_assigned")
    return _ticket_out(ticket)


@router.put("/{ticket_id}/status", response_model=TicketOut, summary="Change the status")
async def set_status(ticket_id: str, body: StatusIn, principal: Principal = Depends(manage),
                     c: Container = Depends(container)) -> dict[str, Any]:
    ticket = await _change(c, principal, ticket_id,
                           lambda t: t.change_status(body.status, principal.user_id, datetime.now(UTC)),
                           "ticket_status_changed")
    return _ticket_out(ticket)


@router.delete("/{ticket_id}", status_code=204, summary="Delete a ticket (its creator, a team lead or admin)")
async def delete_ticket(ticket_id: str, principal: Principal = Depends(manage),
                        c: Container = Depends(container)) -> Response:
    def delete(t: Ticket) -> None:
        if principal.scope == Scope.own and t.created_by != principal.user_id:
            raise NotCommentAuthor("only the ticket's creator, a team lead or an admin may delete it")
        t.delete(principal.user_id, datetime.now(UTC))

    await _change(c, principal, ticket_id, delete, "ticket_deleted")
    return Response(status_code=204)


@router.post("/{ticket_id}/comments", status_code=201, summary="Add a comment to the timeline")
async def add_comment(ticket_id: str, body: CommentIn, principal: Principal = Depends(manage),
                      c: Container = Depends(container)) -> dict[str, Any]:
    comment_id = str(uuid.uuid4())
    ticket = await _change(c, principal, ticket_id,
                           lambda t: t.add_comment(comment_id, body.body, principal.user_id, datetime.now(UTC)),
                           "ticket_comment_added")
    return {"comment_id": comment_id, "ticket_id": ticket_id, "version": ticket.version}


@router.delete("/{ticket_id}/comments/{comment_id}", status_code=204, summary="Delete your own comment")
async def delete_comment(ticket_id: str, comment_id: str, principal: Principal = Depends(manage),
                         c: Container = Depends(container)) -> Response:
    await _change(c, principal, ticket_id,
                  lambda t: t.delete_comment(comment_id, principal.user_id, datetime.now(UTC)),
                  "ticket_comment_deleted")
    return Response(status_code=204)


@router.get("/{ticket_id}/timeline", response_model=list[TimelineOut],
            summary="Comments and changes, oldest first (deleted comments without their text)")
async def timeline(ticket_id: str, comments_only: bool = False, principal: Principal = Depends(manage),
                   c: Container = Depends(container)) -> list[dict[str, Any]]:
    await asyncio.to_thread(_visible_ticket, c, principal, ticket_id)
    stmt = select(ticket_timeline).where(ticket_timeline.c.ticket_id == ticket_id)
    if comments_only:
        stmt = stmt.where(ticket_timeline.c.kind == "comment", ticket_timeline.c.deleted.is_(False))

    def query() -> list[RowMapping]:
        with c.sessions() as s:
            return list(s.execute(stmt.order_by(ticket_timeline.c.version)).mappings())

    rows = await asyncio.to_thread(query)
    return [TimelineOut(**{k: r[k] for k in TimelineOut.model_fields}).model_dump(mode="json") for r in rows]
