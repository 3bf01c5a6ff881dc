"""The wealth calendar (`calendar.py`): one customer's upcoming events, and the events of the caller's customers
(own / team / all, as the customer list) by day, in keyset pages; the brokerage-wide events (open IPO windows)
come with the first page. Customers' names are masked without CustomerPiiRead, as in the list."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Date, and_, bindparam, exists, false, select, true

from shared.runtime.api import Problem
from shared.runtime.auth import Perm, Principal, Scope, require
from shared.runtime.cursor import CursorQuery, codec_for

from ..calendar import (
    brokerage_events,
    brokerage_from_rows,
    brokerage_stmts,
    calendar_event,
    customer_events,
    customer_events_stmt,
    holding_entries,
    holdings,
    holdings_stmt,
)
from ..domain.wealth import KINDS, MAX_DAYS, CalendarEvent, item, merge_brokerage
from .deps import CustomerIdPath, blocking, container, not_found, read, visible_ids
from .masking import person
from .query import Ident

router = APIRouter(tags=["calendar"])
Kind = Literal["ipo_opens", "ipo_closes", "ipo_listing", "corporate_action", "maturity"]
CURSOR_SCOPE = "calendar"
DEFAULT_DAYS = 30
UPCOMING_360 = 30  # days of upcoming events the 360 shows


class CalendarItem(BaseModel):
    event_key: str = Field(description="`<kind>:<source id>`: the event, stable across changes to it.")
    kind: str = Field(description=f"One of {', '.join(KINDS)}.")
    date: str = Field(description="The event's day (ISO).")
    customer_id: str | None = Field(description="None for a brokerage-wide event (an open IPO window).")
    scope: str = Field(description="customer or brokerage.")
    ref_id: str = Field(description="IPO id, corporate action id or maturity id.")
    security: str | None = None
    title: str
    quantity: str | None = Field(None, description="Shares subscribed (IPO events).")
    amount: str | None = Field(None, description="Amount per share (corporate action) or repaid (maturity).")
    currency: str | None = None
    account_id: str | None = None
    name: str | None = Field(None, description="The customer's name (masked without CustomerPiiRead).")


class CustomerCalendar(BaseModel):
    customer_id: str
    from_: str = Field(alias="from")
    to: str
    items: list[CalendarItem]
    holdings: list[dict[str, Any]] = Field(description="What each account holds (latest snapshot).")


class ManagerCalendar(BaseModel):
    items: list[CalendarItem] = Field(description="The customers' own events, by (day, customer, event).")
    brokerage: list[CalendarItem] = Field(description="Brokerage-wide events (open IPO windows) of the period: "
                                                      "on the first page only.")
    next_cursor: str | None
    limit: int


def period(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """`from` (default today) to `to` (default 30 days later), both included; 422 naming the field if `to` is
    before `from` or the span is longer than a year."""
    first = first or today
    last = last or first + timedelta(days=DEFAULT_DAYS)
    if last < first:
        raise Problem(422, "Unprocessable Entity", "to: must not be before from", type_="urn:whale-crm:problem:validation",
                      errors=[{"field": "query.to", "message": "must not be before from"}])
    if (last - first).days > MAX_DAYS:
        raise Problem(422, "Unprocessable Entity", f"to: at most {MAX_DAYS} days after from",
                      type_="urn:whale-crm:problem:validation",
                      errors=[{"field": "query.to", "message": f"at most {MAX_DAYS} days after from"}])
    return first, last


def _today(c: Any) -> date:
    return datetime.now(c.settings.brokerage.tz).date()


def customer_calendar(c: Any, principal: Principal, customer_id: str, first: date, last: date,
                      kinds: set[str] | None) -> dict[str, Any] | None:
    t = c.tables

    def query(s: Any) -> dict[str, Any] | None:
        if customer_id not in visible_ids(s, t, principal, [customer_id]):
            return None
        if s.execute(select(t.customer.c.customer_id).where(t.customer.c.customer_id == customer_id)).first() is None:
            return None
        own = customer_events(s, t, first, last, lambda cid: cid == customer_id, kinds=kinds)
        events = merge_brokerage(own, brokerage_events(s, t, first, last, kinds=kinds))
        return {"customer_id": customer_id, "from": first.isoformat(), "to": last.isoformat(),
                "items": [item(e) for e in events], "holdings": holdings(s, t, customer_id)}

    return read(c, query)


def upcoming_statements(t: Any) -> dict[str, Any]:
    """The 360's wealth section's statements (bound to `:customer_id` and `upcoming_params`, read in the 360's
    one round trip): holdings and the next `UPCOMING_360` days' events; `upcoming_360` makes the section."""
    cid, first, last = bindparam("customer_id"), bindparam("wealth_from", type_=Date), bindparam("wealth_to", type_=Date)
    own = customer_events_stmt(t, first, last, lambda col: col == cid)
    return {"wealth_own": own, "wealth_holdings": holdings_stmt(t, cid),
            **{f"wealth_brokerage_{k}": s for k, s in brokerage_stmts(t, first, last).items()}}


def upcoming_params(c: Any) -> dict[str, Any]:
    """The days of `upcoming_statements`: today (brokerage time zone) and `UPCOMING_360` days later."""
    first, last = period(None, None, _today(c))
    return {"wealth_from": first, "wealth_to": last}


def upcoming_360(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The 360's wealth section from the rows of `upcoming_statements` (scope checked by the 360)."""
    own = [calendar_event(r) for r in rows["wealth_own"]]
    prefix = "wealth_brokerage_"
    wide = brokerage_from_rows({k.removeprefix(prefix): v for k, v in rows.items() if k.startswith(prefix)})
    return {"holdings": holding_entries(rows["wealth_holdings"]), "upcoming": [item(e) for e in
                                                                               merge_brokerage(own, wide)]}


def _who(c: Any, principal: Principal, manager_id: str | None) -> Any:
    """The condition on a calendar row's customer id: in the caller's data scope, assigned to `manager_id`
    when given, not merged into another customer."""
    t = c.tables
    a, cu = t.assignment, t.customer
    conds = []
    if principal.scope == Scope.own:
        conds.append(a.c.manager_id == principal.user_id)
    elif principal.scope != Scope.all:
        conds.append(a.c.team_id.in_(principal.teams) if principal.teams else false())

    def who(cid: Any) -> Any:
        out = [exists().where(cu.c.customer_id == cid, cu.c.merged_into.is_(None))]
        if conds:
            out.append(exists().where(a.c.customer_id == cid, a.c.active == true(), *conds))
        if manager_id:
            out.append(exists().where(a.c.customer_id == cid, a.c.active == true(), a.c.manager_id == manager_id))
        return and_(*out)

    return who


def manager_calendar(c: Any, principal: Principal, manager_id: str | None, first: date, last: date,
                     kinds: set[str] | None, cursor: str | None, limit: int) -> dict[str, Any]:
    t = c.tables
    codec = codec_for(c.settings)
    after = None
    if cursor:
        day, cid, kind, ref = codec.decode(cursor, f"{CURSOR_SCOPE}:{first}:{last}", (str, str, str, str))
        after = (date.fromisoformat(day), cid, kind, ref)

    def query(s: Any) -> tuple[list[CalendarEvent], list[CalendarEvent], dict[str, dict[str, Any]]]:
        rows = customer_events(s, t, first, last, _who(c, principal, manager_id), kinds=kinds, after=after,
                               limit=limit + 1)
        wide = [] if after is not None else brokerage_events(s, t, first, last, kinds=kinds)
        ids = sorted({e.customer_id for e in rows if e.customer_id})
        cu = t.customer
        people = {r.customer_id: dict(r._mapping) for r in s.execute(
            select(cu.c.customer_id, cu.c.name, cu.c.phone_dialing_code, cu.c.phone_number, cu.c.email)
            .where(cu.c.customer_id.in_(ids)))} if ids else {}
        return rows, wide, people

    rows, wide, people = read(c, query)
    more = len(rows) > limit
    rows = rows[:limit]
    unmasked = principal.has(Perm.CustomerPiiRead)
    items = [{**item(e), "name": person(people.get(e.customer_id or "", {}), unmasked)["name"]} for e in rows]
    last_row = rows[-1] if rows else None
    next_cursor = (codec.encode(f"{CURSOR_SCOPE}:{first}:{last}", [last_row.event_date.isoformat(),
                                                                  last_row.customer_id, last_row.kind,
                                                                  last_row.ref_id])
                   if more and last_row is not None else None)
    return {"items": items, "brokerage": [item(e) for e in wide], "next_cursor": next_cursor, "limit": limit}


@router.get("/customers/{customer_id}/calendar", summary="A customer's wealth calendar and holdings",
            response_model=CustomerCalendar, response_model_by_alias=True)
async def get_customer_calendar(
    customer_id: CustomerIdPath,
    from_: date | None = Query(None, alias="from", description="First day (default: today, brokerage time zone)."),
    to: date | None = Query(None, description=f"Last day, included (default: from + {DEFAULT_DAYS} days; at most "
                                              f"{MAX_DAYS} days after from)."),
    kind: list[Kind] | None = Query(None, description="Only these kinds of events."),
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Any = Depends(container),
) -> Any:
    first, last = period(from_, to, _today(c))
    out = await blocking(customer_calendar, c, principal, customer_id, first, last, set(kind) if kind else None)
    if out is None:
        raise not_found(customer_id)
    return out


@router.get("/calendar", summary="The wealth calendar of the caller's customers (data scope), by day",
            response_model=ManagerCalendar)
async def get_calendar(
    manager_id: Ident | None = Query(None, description="Only the customers assigned to this manager."),
    from_: date | None = Query(None, alias="from", description="First day (default: today, brokerage time zone)."),
    to: date | None = Query(None, description=f"Last day, included (default: from + {DEFAULT_DAYS} days)."),
    kind: list[Kind] | None = Query(None, description="Only these kinds of events."),
    cursor: CursorQuery = None,
    limit: int = Query(100, ge=1, le=500),
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Any = Depends(container),
) -> Any:
    first, last = period(from_, to, _today(c))
    return await blocking(manager_calendar, c, principal, manager_id, first, last, set(kind) if kind else None,
                          cursor, limit)
