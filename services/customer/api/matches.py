"""The match review queue: suspected duplicates (same name and date of birth, no exact key) side by side,
merged or rejected by a person holding `CustomerMerge`; any merge (automatic or reviewed) undone by unmerge.

Scope: a pair is listed when the caller's scope covers either customer; a command needs both in scope
(404 otherwise, as for any customer out of scope). Names, phones, e-mails and dates of birth are masked
unless the caller holds `CustomerPiiRead`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import Session

from shared.runtime.api import Problem, run_command
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery, codec_for, naive_utc
from shared.runtime.logging import get_logger
from shared.runtime.types import as_utc

from ..application import CustomerMatching, CustomerNotFound
from .deps import CustomerIdPath, container, read, visible_ids
from .detail import jsonable
from .masking import person
from .query import scope_clause

router = APIRouter(tags=["customer matching"])
log = get_logger("customer.api")
TYPE_BASE = "urn:whale-crm:problem:customer:"
Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
SIDE_FIELDS = ("customer_id", "registered_at", "channel", "stage", "residence_country", "verification_status",
               "account_status", "merged_into")


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: Comment | None = Field(default=None, description="Why (kept with the decision; free text).")


class Side(BaseModel):
    customer_id: str
    name: str | None = None
    phone_dialing_code: str | None = None
    phone_number: str | None = None
    email: str | None = None
    date_of_birth: str | None = Field(default=None, description="Masked (****-**-**) without CustomerPiiRead.")
    registered_at: str | None = None
    channel: str | None = None
    stage: str | None = None
    residence_country: str | None = None
    verification_status: str | None = None
    account_status: str | None = None
    merged_into: str | None = None


class MatchItem(BaseModel):
    customer_id: str = Field(description="The newer customer (merged into the candidate on merge).")
    candidate_id: str = Field(description="The existing customer it probably is (the survivor on merge).")
    reason: str | None = None
    status: Literal["pending", "rejected", "merged", "unmerged"]
    suggested_at: str
    decided_at: str
    decided_by: str | None = None
    comment: str | None = None
    customer: Side | None = None
    candidate: Side | None = None


class MatchPage(BaseModel):
    items: list[MatchItem]
    next_cursor: str | None = None
    limit: int


class MergeResult(BaseModel):
    survivor_id: str
    merged_id: str
    reason: str | None = None


def _side(row: dict[str, Any] | None, unmasked: bool) -> dict[str, Any] | None:
    if row is None:
        return None
    out = {k: row.get(k) for k in SIDE_FIELDS}
    out.update(person(row, unmasked))
    dob = row.get("date_of_birth")
    out["date_of_birth"] = (dob.isoformat() if unmasked else "****-**-**") if dob else None
    return jsonable(out)


def list_matches(c: Any, principal: Principal, status: str, cursor: str | None, limit: int) -> dict[str, Any]:
    t = c.tables
    r, cu = t.match_review, t.customer
    after = codec_for(c.settings).decode(cursor, "matches", (datetime, str, str)) if cursor else None

    def query(s: Session) -> list[dict[str, Any]]:
        stmt = select(r).where(r.c.status == status)
        scope = scope_clause(t, principal)
        if scope is not None:  # the caller sees the pair when either customer is in scope
            ids = select(cu.c.customer_id).where(scope)
            stmt = stmt.where(or_(r.c.customer_id.in_(ids), r.c.candidate_id.in_(ids)))
        if after is not None:
            at = after[0] if s.get_bind().dialect.name == "postgresql" else naive_utc(after[0])
            stmt = stmt.where(tuple_(r.c.suggested_at, r.c.customer_id, r.c.candidate_id) > tuple_(at, *after[1:]))
        rows = [dict(x._mapping) for x in s.execute(
            stmt.order_by(r.c.suggested_at, r.c.customer_id, r.c.candidate_id).limit(limit + 1))]
        wanted = sorted({i for x in rows for i in (x["customer_id"], x["candidate_id"])})
        sides = {x.customer_id: dict(x._mapping) for x in s.execute(select(cu).where(cu.c.customer_id.in_(wanted)))}
        for x in rows:
            x["_customer"], x["_candidate"] = sides.get(x["customer_id"]), sides.get(x["candidate_id"])
        return rows

    rows = read(c, query)
    more, rows = len(rows) > limit, rows[:limit]
    unmasked = principal.has(Perm.CustomerPiiRead)
    items = []
    for x in rows:
        items.append({**jsonable({k: v for k, v in x.items() if not k.startswith("_")}),
                      "customer": _side(x["_customer"], unmasked), "candidate": _side(x["_candidate"], unmasked)})
    last = rows[-1] if rows else None
    next_cursor = (codec_for(c.settings).encode("matches", [as_utc(last["suggested_at"]), last["customer_id"],
                                                            last["candidate_id"]]) if more and last else None)
    return {"items": items, "next_cursor": next_cursor, "limit": limit}


@router.get("/customer-matches", summary="The match review queue (suspected duplicates), oldest first",
            response_model=MatchPage)
async def matches(
    status: Literal["pending", "rejected", "merged", "unmerged"] = Query("pending"),
    cursor: CursorQuery = None,
    limit: int = Query(50, ge=1, le=200),
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Any = Depends(container),
) -> dict[str, Any]:
    return await run_command(lambda: list_matches(c, principal, status, cursor, limit), TYPE_BASE)


def _check_scope(c: Any, principal: Principal, ids: list[str]) -> None:
    visible = read(c, lambda s: visible_ids(s, c.tables, principal, ids))
    for cid in ids:
        if cid not in visible:
            raise CustomerNotFound(cid)


def _not_found(exc: Exception) -> Problem | None:
    if isinstance(exc, CustomerNotFound):
        return Problem(404, "Not Found", f"customer {exc.args[0]!r} not found", type_=f"{TYPE_BASE}not-found")
    return None


CommandPerm = Depends(require(Perm.ClientProfileReadOnly, Perm.CustomerMerge))


@router.post("/customer-matches/{customer_id}/{candidate_id}/merge", response_model=MergeResult,
             summary="Merge a suspected duplicate into the existing customer (the candidate survives)")
async def merge(customer_id: CustomerIdPath, candidate_id: CustomerIdPath, body: CommentIn, request: Request,
                principal: Principal = CommandPerm, c: Any = Depends(container)) -> dict[str, Any]:
    def call() -> str:
        _check_scope(c, principal, [customer_id, candidate_id])
        return CustomerMatching(c.app).merge(customer_id, candidate_id, by=principal.user_id, comment=body.comment,
                                             at=datetime.now(UTC),
                                             correlation_id=getattr(request.state, "correlation_id", None))

    reason = await run_command(call, TYPE_BASE, what="customer", problem=_not_found)
    log.info("customer_merge_reviewed", survivor_id=candidate_id, merged_id=customer_id, user_id=principal.user_id)
    return {"survivor_id": candidate_id, "merged_id": customer_id, "reason": reason}


@router.post("/customer-matches/{customer_id}/{candidate_id}/reject", status_code=204,
             summary="Reject a suspected duplicate: the two stay separate and are not suggested again")
async def reject(customer_id: CustomerIdPath, candidate_id: CustomerIdPath, body: CommentIn, request: Request,
                 principal: Principal = CommandPerm, c: Any = Depends(container)) -> None:
    def call() -> None:
        _check_scope(c, principal, [customer_id, candidate_id])
        CustomerMatching(c.app).reject(customer_id, candidate_id, by=principal.user_id, comment=body.comment,
                                       at=datetime.now(UTC),
                                       correlation_id=getattr(request.state, "correlation_id", None))

    await run_command(call, TYPE_BASE, what="customer", problem=_not_found)
    log.info("customer_match_rejected", customer_id=customer_id, candidate_id=candidate_id,
             user_id=principal.user_id)


@router.post("/customers/{customer_id}/unmerge", response_model=MergeResult,
             summary="Undo a merge: the merged customer and its survivor are separate again")
async def unmerge(customer_id: CustomerIdPath, body: CommentIn, request: Request,
                  principal: Principal = CommandPerm, c: Any = Depends(container)) -> dict[str, Any]:
    def call() -> str:
        survivor = c.app.get_customer(customer_id).view["merged_into"]
        _check_scope(c, principal, [survivor or customer_id])
        return CustomerMatching(c.app).unmerge(customer_id, by=principal.user_id, comment=body.comment,
                                               at=datetime.now(UTC),
                                               correlation_id=getattr(request.state, "correlation_id", None))

    survivor_id = await run_command(call, TYPE_BASE, what="customer", problem=_not_found)
    log.info("customer_unmerged", survivor_id=survivor_id, merged_id=customer_id, user_id=principal.user_id)
    return {"survivor_id": survivor_id, "merged_id": customer_id, "reason": None}


def merged_into(session: Session, t: Any, customer_id: str) -> str | None:
    """The survivor a customer was merged into (None: not merged, or unknown)."""
    return session.scalar(select(t.customer.c.merged_into).where(and_(t.customer.c.customer_id == customer_id)))
