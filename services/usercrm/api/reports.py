"""Reports: accounts, active / inactive allocations, fund page data and the fund's allocations, and the
statement (every trade and financial transaction, keyset-paged, filtered, searchable, CSV export)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import Session

from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery

from ..projections import tables as t
from . import paging
from .deps import CustomerIdPath, EntityIdPath, check_customer, container, in_scope, not_found, plain, reading

router = APIRouter(prefix="/usercrm", tags=["reports"])
Reports = Annotated[Principal, Depends(require(Perm.UserReportsRead))]
Search = Annotated[str | None, Query(min_length=1, max_length=64, description="Search text")]
Kind = Literal["trade", "deposit", "withdrawal", "charge", "allocation"]
STATEMENT_COLUMNS = ("entry_id", "at", "account_id", "kind", "amount", "currency", "symbol", "side", "quantity",
                     "price", "reference", "description")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# ------------------------------------------------------------------------------------------- accounts
@router.get("/customers/{customer_id}/accounts", summary="Every account of the user: type, currency, status, balance")
async def accounts(request: Request, customer_id: CustomerIdPath, principal: Reports, q: Search = None
                   ) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    a = t.account
    stmt = select(a).where(a.c.customer_id == customer_id).order_by(a.c.account_id)
    if q:
        stmt = stmt.where(or_(a.c.account_id.ilike(_like(q), escape="\\"), a.c.account_type.ilike(_like(q), escape="\\"),
                              a.c.currency.ilike(_like(q), escape="\\")))
    rows = await reading(request, lambda s: list(s.execute(stmt).mappings()))
    return {"customer_id": customer_id, "items": [
        {**{k: r[k] for k in ("account_id", "account_type", "currency", "balance", "cash", "balance_as_of",
                              "opened_at", "closed_at")},
         "status": "closed" if r["closed_at"] else ("open" if r["opened_at"] else "pending")} for r in rows]}


# ---------------------------------------------------------------------------------------- allocations
def _allocation_rows(session: Session, stmt: Any) -> list[dict[str, Any]]:
    a, d = t.allocation, t.allocation_deposit
    added = select(d.c.allocation_id, func.sum(d.c.amount).label("added")).group_by(d.c.allocation_id).subquery()
    rows = session.execute(stmt.add_columns(added.c.added).outerjoin(
        added, added.c.allocation_id == a.c.allocation_id)).mappings()
    return [{**{k: r[k] for k in ("allocation_id", "customer_id", "account_id", "fund_id", "fund_name", "currency",
                                  "started_at", "stopped_at", "value", "performance_pct", "valued_at")},
             "amount": (r["initial_amount"] or 0) + (r["added"] or 0),
             "status": "inactive" if r["stopped_at"] else "active"} for r in rows]


@router.get("/customers/{customer_id}/allocations",
            summary="Active or inactive (historical) allocations per account: fund, amount, start/stop, performance")
async def allocations(request: Request, customer_id: CustomerIdPath, principal: Reports,
                      status: Literal["active", "inactive"] = "active",
                      account_id: Annotated[str | None, Query(max_length=64)] = None, q: Search = None
                      ) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    a = t.allocation
    stmt = select(a).where(a.c.customer_id == customer_id, a.c.started_at.is_not(None),
                           a.c.stopped_at.is_(None) if status == "active" else a.c.stopped_at.is_not(None))
    if account_id:
        stmt = stmt.where(a.c.account_id == account_id)
    if q:
        stmt = stmt.where(or_(a.c.fund_name.ilike(_like(q), escape="\\"), a.c.fund_id.ilike(_like(q), escape="\\"),
                              a.c.allocation_id.ilike(_like(q), escape="\\")))
    stmt = stmt.order_by(a.c.started_at.desc(), a.c.allocation_id)
    return {"customer_id": customer_id, "status": status,
            "items": await reading(request, lambda s: _allocation_rows(s, stmt))}


@router.get("/funds/{fund_id}", summary="Fund page data: name, strategy, manager, performance")
async def fund(request: Request, fund_id: EntityIdPath, principal: Reports) -> dict[str, Any]:
    f = t.fund
    row = await reading(request, lambda s: s.execute(select(f).where(f.c.fund_id == fund_id)).mappings().first())
    if row is None:
        raise not_found("fund", fund_id)
    return plain(row)


@router.get("/funds/{fund_id}/allocations", summary="The fund's allocations, in the caller's data scope")
async def fund_allocations(request: Request, fund_id: EntityIdPath, principal: Reports,
                           status: Literal["active", "inactive"] = "active",
                           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    a = t.allocation
    stmt = select(a).where(a.c.fund_id == fund_id,
                           a.c.stopped_at.is_(None) if status == "active" else a.c.stopped_at.is_not(None))
    cond = in_scope(principal, a.c.customer_id)
    if cond is not None:
        stmt = stmt.where(cond)
    stmt = stmt.order_by(a.c.allocation_id).limit(limit)
    return {"fund_id": fund_id, "status": status, "items": await reading(request, lambda s: _allocation_rows(s, stmt))}


# ------------------------------------------------------------------------------------------ statement
def statement_query(customer_id: str, account_id: str | None, kind: list[str] | None, since: datetime | None,
                    until: datetime | None, q: str | None) -> Any:
    s = t.statement
    stmt = select(*[s.c[c] for c in STATEMENT_COLUMNS]).where(s.c.customer_id == customer_id)
    if account_id:
        stmt = stmt.where(s.c.account_id == account_id)
    if kind:
        stmt = stmt.where(s.c.kind.in_(kind))
    if since:
        stmt = stmt.where(s.c.at >= since)
    if until:
        stmt = stmt.where(s.c.at < until)
    if q:
        like = _like(q)
        stmt = stmt.where(or_(s.c.reference.ilike(like, escape="\\"), s.c.symbol.ilike(like, escape="\\"),
                              s.c.description.ilike(like, escape="\\")))
    return stmt


def statement_select(stmt: Any, after: tuple[datetime, str] | None, limit: int) -> Any:
    """One page, newest first, after the (at, entry_id) of the previous page's last entry."""
    s = t.statement
    if after:
        stmt = stmt.where(tuple_(s.c.at, s.c.entry_id) < tuple_(*after))  # a row comparison: an index range
    return stmt.order_by(s.c.at.desc(), s.c.entry_id.desc()).limit(limit)


def statement_page(session: Session, stmt: Any, after: tuple[datetime, str] | None, limit: int) -> list[Any]:
    return list(session.execute(statement_select(stmt, after, limit)).mappings())




def _filters(customer_id: str, account_id: str | None, kind: list[Kind] | None, since: datetime | None,
             until: datetime | None, q: str | None) -> Any:
    return statement_query(customer_id, account_id, [str(k) for k in kind] if kind else None, since, until, q)


AccountQ = Annotated[str | None, Query(max_length=64, description="One account (default: all)")]
KindQ = Annotated[list[Kind] | None, Query(description="Entry kinds")]


@router.get("/customers/{customer_id}/statement",
            summary="Statement: trades, deposits, withdrawals, charges, allocation moves, newest first, keyset-paged")
async def statement(request: Request, customer_id: CustomerIdPath, principal: Reports, account_id: AccountQ = None,
                    kind: KindQ = None, since: datetime | None = None, until: datetime | None = None,
                    q: Search = None, cursor: CursorQuery = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    await check_customer(request, principal, customer_id)
    stmt = _filters(customer_id, account_id, kind, since, until, q)
    after = tuple(paging.decode(cursor, (datetime, str))) if cursor else None
    rows = await reading(request, lambda s: statement_page(s, stmt, after, limit + 1))  # type: ignore[arg-type]
    more, rows = len(rows) > limit, rows[:limit]
    return {"customer_id": customer_id, "items": [plain(r) for r in rows],
            "next_cursor": paging.encode(rows[-1]["at"], rows[-1]["entry_id"]) if more else None}


@router.get("/customers/{customer_id}/statement.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}},
            summary="The statement as CSV (same filters), streamed page by page over the whole history")
async def statement_csv(request: Request, customer_id: CustomerIdPath, principal: Reports, account_id: AccountQ = None,
                        kind: KindQ = None, since: datetime | None = None, until: datetime | None = None,
                        q: Search = None) -> StreamingResponse:
    await check_customer(request, principal, customer_id)
    stmt = _filters(customer_id, account_id, kind, since, until, q)
    sessions = container(request).sessions

    def lines() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(STATEMENT_COLUMNS)
        after = None
        while True:
            with sessions() as s:
                rows = statement_page(s, stmt, after, 2000)
            for r in rows:
                writer.writerow([r[c].isoformat() if isinstance(r[c], datetime) else r[c] for c in STATEMENT_COLUMNS])
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
            if len(rows) < 2000:
                return
            after = (rows[-1]["at"], rows[-1]["entry_id"])

    return StreamingResponse(lines(), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="statement-{customer_id}.csv"'})
