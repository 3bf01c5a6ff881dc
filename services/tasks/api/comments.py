"""Comments across all tickets (the User CRM's Comments report): search, view, delete. An author deletes their
own comment; a moderator (CommentModerate: admins) anyone's. Only tickets the caller may see are searched."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping

from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery

from ..projections.tables import customers, ticket_timeline, tickets
from .deps import Container, after, all_of, container, decode_cursor, encode_cursor, not_found
from .tickets import _change, _visibility

router = APIRouter(prefix="/comments", tags=["comments"])
manage = require(Perm.TicketManage)


class CommentOut(BaseModel):
    comment_id: str
    ticket_id: str
    ticket_title: str
    customer_id: str
    author_id: str | None
    at: datetime
    body: str | None


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None = None


def _comments(principal: Principal, *clauses: Any) -> Any:
    tl = ticket_timeline
    return (select(tl.c.comment_id, tl.c.ticket_id, tickets.c.title.label("ticket_title"), tickets.c.customer_id,
                   tl.c.actor_id.label("author_id"), tl.c.at, tl.c.body, tl.c.version)
            .select_from(tl.join(tickets, tickets.c.ticket_id == tl.c.ticket_id)
                         .outerjoin(customers, customers.c.customer_id == tickets.c.customer_id))
            .where(all_of(tl.c.kind == "comment", tl.c.deleted.is_(False), tickets.c.deleted.is_(False),
                          _visibility(principal), *clauses)))


def _read(c: Container, stmt: Any) -> list[RowMapping]:
    with c.sessions() as s:
        return list(s.execute(stmt).mappings())


@router.get("", response_model=CommentPage, summary="Comments of every ticket the caller sees, newest first")
async def search_comments(
    q: str | None = Query(default=None, min_length=1, max_length=100, description="Search in comment texts."),
    customer_id: str | None = Query(default=None, max_length=64),
    author_id: str | None = Query(default=None, max_length=64),
    cursor: CursorQuery = None,
    limit: int = Query(default=50, ge=1, le=200),
    principal: Principal = Depends(manage),
    c: Container = Depends(container),
) -> dict[str, Any]:
    tl = ticket_timeline
    clauses = []
    if q:
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(func.lower(tl.c.body).like(f"%{escaped}%", escape="\\"))
    if customer_id:
        clauses.append(tickets.c.customer_id == customer_id)
    if author_id:
        clauses.append(tl.c.actor_id == author_id)
    if cursor:
        at, tid, version = decode_cursor(c, cursor, "comments", (datetime, str, int))
        clauses.append(after((tl.c.at, tl.c.ticket_id, tl.c.version), (at, tid, version), descending=True))
    stmt = _comments(principal, *clauses).order_by(tl.c.at.desc(), tl.c.ticket_id.desc(), tl.c.version.desc())
    rows = await asyncio.to_thread(_read, c, stmt.limit(limit + 1))
    more, rows = len(rows) > limit, rows[:limit]
    return {"items": [CommentOut(**r).model_dump(mode="json") for r in rows],
            "next_cursor": encode_cursor(c, "comments", (rows[-1]["at"], rows[-1]["ticket_id"], rows[-1]["version"])) if more
            else None}


async def _visible_comment(c: Container, principal: Principal, comment_id: str) -> RowMapping:
    rows = await asyncio.to_thread(_read, c, _comments(principal, ticket_timeline.c.comment_id == comment_id))
    if not rows:
        raise not_found("comment", comment_id)
    return rows[0]


@router.get("/{comment_id}", response_model=CommentOut, summary="The full comment")
async def get_comment(comment_id: str, principal: Principal = Depends(manage),
                      c: Container = Depends(container)) -> dict[str, Any]:
    return CommentOut(**await _visible_comment(c, principal, comment_id)).model_dump(mode="json")


@router.delete("/{comment_id}", status_code=204,
               summary="Delete a comment: your own, or anyone's with CommentModerate (admins)")
async def delete_comment(comment_id: str, principal: Principal = Depends(manage),
                         c: Container = Depends(container)) -> Response:
    row = await _visible_comment(c, principal, comment_id)
    moderator = principal.has(Perm.CommentModerate)
    await _change(c, principal, row["ticket_id"],
                  lambda t: t.delete_comment(comment_id, principal.user_id, datetime.now(UTC),
                                             moderator=moderator),
                  "ticket_comment_deleted")
    return Response(status_code=204)
