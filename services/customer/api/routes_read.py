"""Read routes: the customer list (filters, search, sort, keyset pages), counts per stage, the 360° detail
(now or as of a past time), remarks, private notes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import bindparam, func, select, true

from shared.events.crm_customer import Stage
from shared.runtime import audit
from shared.runtime.api import Problem, json_response
from shared.runtime.auth import Perm, Principal, Scope, require
from shared.runtime.cursor import CursorQuery, codec_for
from shared.runtime.logging import get_logger
from shared.runtime.lru import LRUCache
from shared.runtime.types import as_utc

from ..application import CustomerNotFound
from .assets import ADA_VALUES, ada_block, ada_columns, ada_values
from .deps import (
    CustomerIdPath,
    Rows,
    blocking,
    built_once,
    container,
    fetch_all,
    fetch_page_rows,
    not_found,
    read,
    visible_ids,
)
from .detail import build_detail, jsonable
from .masking import person_of
from .matches import merged_into
from .query import (
    ListFilters,
    Order,
    SortKey,
    decode_cursor,
    encode_cursor,
    filter_clauses,
    list_filters,
    page_parts,
    scope_clause,
    sort_column,
)

router = APIRouter(prefix="/customers", tags=["customers"])
log = get_logger("customer.api")
LIST_FIELDS = ("customer_id", "registered", "registered_at", "channel", "campaign", "referral_code", "institution_id",
               "referrer_customer_id", "language", "residence_country", "user_region", "active_region", "stage",
               "stage_changed_at", "account_status", "verification_status", "deposits", "withdrawals",
               "first_deposit_at", "first_trade_at", "trades_count", "total_assets", "assets_currency",
               "assets_as_of", "tags", "last_activity_at", "risk_rating")


def managers_stmt(t: Any) -> Any:
    """The customer's active assignments (bound to `:customer_id`), in the detail's order."""
    a = t.assignment
    return (select(a.c.manager_id, a.c.team_id, a.c.stage_key, a.c.share)
            .where(a.c.customer_id == bindparam("customer_id"), a.c.active == true())
            .order_by(a.c.stage_key, a.c.manager_id))


def manager_entries(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"manager_id": r["manager_id"], "team_id": r["team_id"],
             "stage": None if r["stage_key"] == "*" else r["stage_key"],
             "share": None if r["share"] is None else money(r["share"])} for r in rows]


TIME_FIELDS = frozenset({"registered_at", "stage_changed_at", "first_deposit_at", "first_trade_at", "assets_as_of",
                         "last_activity_at"})
PERSON_FIELDS = ("name", "phone_dialing_code", "phone_number", "email")


class ListShape:
    """How a list item is made from a page row of these columns (`Rows.names`), worked out once per column
    list: each value read by its position, the item's keys in the order the answer has always had. The times
    stay datetimes (made UTC) and the ADA's day a date: `json_response` (orjson) writes each in the form
    `isoformat` gives. ~27% less of a page's shaping CPU than a dict per row and a dict per item."""

    def __init__(self, names: list[str]) -> None:
        at = {n: i for i, n in enumerate(names)}
        self.managers = at["managers"]
        self.fields = itemgetter(*(at[k] for k in LIST_FIELDS))
        self.times = [i for i, k in enumerate(LIST_FIELDS) if k in TIME_FIELDS]
        self.assets = LIST_FIELDS.index("total_assets")
        self.person = itemgetter(*(at[k] for k in PERSON_FIELDS))
        self.ada = itemgetter(*(at[k] for k in ADA_VALUES))

    def items(self, rows: list[tuple[Any, ...]], unmasked: bool) -> list[dict[str, Any]]:
        out = []
        times, assets, person, ada, managers = self.times, self.assets, self.person, self.ada, self.managers
        for row in rows:
            values = list(self.fields(row))
            for i in times:
                v = values[i]
                if v is not None and v.tzinfo is not UTC:  # (SQLite: naive UTC)
                    values[i] = as_utc(v)
            if values[assets] is not None:
                values[assets] = money(values[assets])
            item = dict(zip(LIST_FIELDS, values, strict=True))
            item.update(person_of(*person(row), unmasked))
            item["managers"] = _managers(row[managers])
            item["ada"] = ada_values(*ada(row))
            out.append(item)
        return out


_SHAPES: LRUCache[tuple[str, ...], ListShape] = LRUCache(16)


def list_shape(names: list[str]) -> ListShape:
    key = tuple(names)
    shape = _SHAPES.get(key)
    if shape is None:
        shape = _SHAPES[key] = ListShape(names)
    return shape


def money(value: Decimal) -> str:
    """A Decimal as a plain string without the column's padding zeros: 1328137.50000000 → 1328137.5."""
    return format(value.normalize(), "f")


def _managers(value: Any) -> list[dict[str, Any]]:
    items = json.loads(value) if isinstance(value, str) else (value or [])
    items = sorted(items, key=lambda m: (m["stage"], m["manager_id"]))  # the order of the detail's list
    return [{"manager_id": m["manager_id"], "team_id": m["team_id"],
             "stage": None if m["stage"] == "*" else m["stage"],
             "share": None if m["share"] is None else money(Decimal(m["share"]))} for m in items]


async def fetch_page(c: Any, principal: Principal, f: ListFilters, sort: SortKey, order: Order,
                     cursor: str | None, limit: int) -> Rows:
    t = c.tables
    after = decode_cursor(codec_for(c.settings), cursor, sort, order) if cursor else None
    clauses = filter_clauses(t, f, pii=principal.has(Perm.CustomerPiiRead))
    scope = scope_clause(t, principal)
    if scope is not None:
        clauses.append(scope)
    dialect = c.read_sessions.kw["bind"].dialect.name
    return await fetch_page_rows(c, page_parts(t, clauses, sort, order, after, limit, dialect))


def page_dicts(page: Rows) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """A page's rows as dicts without their managers, and each customer's managers (the export's)."""
    rows = page.dicts()
    return rows, {r["customer_id"]: _managers(r.pop("managers")) for r in rows}


@router.get("", summary="Customer list")
async def list_customers(
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),  # (first: 401/403 before a filter's 422)
    f: ListFilters = Depends(list_filters),
    sort: SortKey = Query("registered_at"),
    order: Order = Query("desc"),
    cursor: CursorQuery = None,
    limit: int = Query(50, ge=1, le=200),
    c: Any = Depends(container),
) -> dict[str, Any]:
    page = await fetch_page(c, principal, f, sort, order, cursor, limit + 1)
    rows = page.rows[:limit]
    next_cursor = None
    if len(page.rows) > limit:
        last, at = rows[-1], page.names.index
        next_cursor = encode_cursor(codec_for(c.settings), sort, order, last[at(sort_column(c.tables, sort).name)],
                                    last[at("customer_id")])
    items = list_shape(page.names).items(rows, principal.has(Perm.CustomerPiiRead)) if rows else []
    return json_response({"items": items, "next_cursor": next_cursor, "limit": limit})  # type: ignore[return-value]


def _filtered(f: ListFilters) -> bool:
    return any(v not in (None, [], "") for k, v in vars(f).items() if k != "today")  # today: a date, no filter


def stage_counts(c: Any, principal: Principal, f: ListFilters) -> dict[str, Any]:
    t = c.tables
    maintained = principal.scope == Scope.all and not _filtered(f)

    def query(s: Any) -> list[tuple[str, int]]:
        if maintained:
            return list(s.execute(select(t.stage_count.c.stage, t.stage_count.c.n)).tuples())
        clauses = filter_clauses(t, f, pii=principal.has(Perm.CustomerPiiRead))
        scope = scope_clause(t, principal)
        if scope is not None:
            clauses.append(scope)
        return list(s.execute(select(t.customer.c.stage, func.count()).where(*clauses)
                              .group_by(t.customer.c.stage)).tuples())

    found = {stage: int(n) for stage, n in read(c, query)}
    source = "maintained" if maintained else "query"
    counts = {st.value: max(found.get(st.value, 0), 0) for st in Stage}
    return {"counts": counts, "total": sum(counts.values()), "source": source}


@router.get("/counts", summary="Customers per lifecycle stage (the cards), in the caller's scope")
async def counts(
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),  # (first: 401/403 before a filter's 422)
    f: ListFilters = Depends(list_filters),
    c: Any = Depends(container),
) -> dict[str, Any]:
    return await blocking(stage_counts, c, principal, f)


def detail_statements(t: Any) -> dict[str, Any]:
    """What the current detail reads besides the aggregate (bound to `:customer_id`)."""
    cu, rm, cid = t.customer, t.remark, bindparam("customer_id")
    return {
        "referees": select(cu.c.customer_id).where(cu.c.referrer_customer_id == cid).order_by(cu.c.customer_id)
        .limit(200),
        "recent_remarks": select(rm).where(rm.c.customer_id == cid).order_by(rm.c.created_at.desc(), rm.c.remark_id)
        .limit(20),
        "ada": select(*ada_columns(t)).where(cu.c.customer_id == cid),
        "managers": managers_stmt(t),
    }


def gate_statements(t: Any) -> dict[str, Any]:
    """The current detail's gate read with the rest in one round trip: whether the id was merged, and (own
    scope) whether the caller is one of its active managers (bound to `:customer_id` and `:scope_user`)."""
    cu, a, cid = t.customer, t.assignment, bindparam("customer_id")
    return {"gate_merged": select(cu.c.merged_into).where(cu.c.customer_id == cid),
            "gate_own": select(a.c.customer_id).where(a.c.customer_id == cid, a.c.active == true(),
                                                      a.c.manager_id == bindparam("scope_user")).limit(1)}


def load_detail(c: Any, principal: Principal, customer_id: str, as_of: datetime | None,
                sub: str | None = None) -> dict[str, Any] | None:
    """`sub`: the sub-resource asked for (`360`), which a merged id's redirect keeps."""
    return detail_with(c, principal, customer_id, as_of, sub, {})[0]


def detail_with(c: Any, principal: Principal, customer_id: str, as_of: datetime | None, sub: str | None,
                more: dict[str, Any], params: dict[str, Any] | None = None,
                ) -> tuple[dict[str, Any] | None, dict[str, list[dict[str, Any]]]]:
    """The detail, and the rows of `more` (statements bound to `:customer_id` and `params`, best `built_once`),
    read with the current detail's own in one round trip (`fetch_all`); no rows for a past detail (`as_of`) or
    when the detail is None. For the current detail in the own or whole-brokerage scope the gate (merged?
    visible?) is in that round trip too, read before it is known whether the rows will be shown; a merged id
    (rare) and the team scope (a list of teams: no one shape) take the gate's own read first."""
    t = c.tables

    def gate(s: Any) -> tuple[str | None, bool]:  # (the survivor of a merged id, visible)
        survivor = merged_into(s, t, customer_id) if as_of is None else None
        target = survivor or customer_id
        return survivor, target in visible_ids(s, t, principal, [target])

    def fetch(stmts: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        stmts = {**stmts, **built_once(t, "detail", detail_statements), **more}
        values = {**(params or {}), "customer_id": customer_id, "scope_user": principal.user_id}
        return read(c, lambda s: fetch_all(s, stmts, values, plan_once=True))  # lookups by customer id

    rows: dict[str, list[dict[str, Any]]] = {}
    if as_of is None and principal.scope in (Scope.all, Scope.own):
        gates = built_once(t, "gate", gate_statements)
        rows = fetch({k: gates[k] for k in (("gate_merged",) if principal.scope == Scope.all else gates)})
    if not rows or (rows["gate_merged"] and rows["gate_merged"][0]["merged_into"] is not None):
        survivor, visible = read(c, gate)
    else:
        survivor, visible = None, principal.scope == Scope.all or bool(rows["gate_own"])
    if survivor is not None:  # the merged id answers with its survivor (when the caller may see it)
        if not visible:
            return None, {}
        raise merged_problem(customer_id, survivor, sub)
    if not visible:
        return None, {}
    try:
        state = (c.app.state_as_of(customer_id, as_of) if as_of else c.app.get_customer(customer_id).state)
    except CustomerNotFound:
        return None, {}
    if not state["seen"]:
        return None, {}  # nothing was known about the customer at that time
    detail = build_detail(state, unmasked=principal.has(Perm.CustomerPiiRead))
    detail["as_of"] = as_of.isoformat() if as_of else None
    if as_of is not None:
        return detail, {}
    rows = rows or fetch({})
    detail["assets"]["ada"] = ada_block(rows["ada"][0]) if rows["ada"] else None
    detail["managers"] = manager_entries(rows["managers"])
    detail["referral"]["referees"] = [r["customer_id"] for r in rows["referees"]]
    detail["recent_remarks"] = [jsonable(r) for r in rows["recent_remarks"]]
    return detail, {k: rows[k] for k in more}


def merged_problem(customer_id: str, survivor_id: str, sub: str | None = None) -> Problem:
    """301 to the survivor (`Location` relative to this path, so it also resolves behind the gateway's
    prefix), with a problem+json body naming it."""
    location = f"../{survivor_id}/{sub}" if sub else survivor_id
    return Problem(301, "Moved Permanently", f"customer {customer_id!r} was merged into {survivor_id!r}",
                   type_="urn:whale-crm:problem:customer:merged", headers={"Location": location},
                   survivor_id=survivor_id)


MERGED_RESPONSE = {301: {
    "description": "The customer was merged: `Location` and `survivor_id` name the survivor (the detail with "
                   "`as_of` shows the merged record's own history instead)",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}


class BandOut(BaseModel):
    key: str = Field(description="The value of `asset_band` / `ada_band`.")
    low: str = Field(description="Inclusive lower bound.")
    high: str | None = Field(description="Exclusive upper bound; null: open above.")


class BandList(BaseModel):
    currency: str = Field(description="The brokerage's currency, the bands'.")
    items: list[BandOut]


@router.get("/bands", response_model=BandList, summary="The asset bands of the `asset_band` / `ada_band` filters")
async def list_bands(principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                     c: Any = Depends(container)) -> dict[str, Any]:
    return {"currency": c.settings.band_currency,
            "items": [{"key": b.key, "low": money(b.low), "high": None if b.high is None else money(b.high)}
                      for b in c.settings.bands()]}


@router.get("/{customer_id}", summary="360° customer detail (optionally as of a past time)",
            responses=MERGED_RESPONSE)
async def detail(
    request: Request,
    customer_id: CustomerIdPath,
    as_of: AwareDatetime | None = Query(None, description="Show the customer as of this time (event store)."),
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Any = Depends(container),
) -> dict[str, Any]:
    out = await blocking(load_detail, c, principal, customer_id, as_of)
    if out is None:
        raise not_found(customer_id)
    if principal.has(Perm.CustomerPiiRead):  # the answer carries unmasked personal data: audited
        audit.mark(request, "customer.pii.read")
    return out


def _list_child(c: Any, principal: Principal, customer_id: str, table_name: str,
                author: str | None, limit: int) -> list[dict[str, Any]] | None:
    t = c.tables
    table = getattr(t, table_name)

    def query(s: Any) -> list[dict[str, Any]] | None:
        if customer_id not in visible_ids(s, t, principal, [customer_id]):
            return None
        stmt = select(table).where(table.c.customer_id == customer_id)
        if author is not None:
            stmt = stmt.where(table.c.author == author)
        rows = s.execute(stmt.order_by(table.c.created_at.desc()).limit(limit))
        return [jsonable(dict(r._mapping)) for r in rows]

    return read(c, query)


@router.get("/{customer_id}/remarks", summary="Remarks on a customer, newest first")
async def remarks(
    customer_id: CustomerIdPath,
    limit: int = Query(100, ge=1, le=500),
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Any = Depends(container),
) -> dict[str, Any]:
    items = await blocking(_list_child, c, principal, customer_id, "remark", None, limit)
    if items is None:
        raise not_found(customer_id)
    return {"items": items}


@router.get("/{customer_id}/notes", summary="The caller's own private notes on a customer")
async def notes(
    customer_id: CustomerIdPath,
    limit: int = Query(100, ge=1, le=500),
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Any = Depends(container),
) -> dict[str, Any]:
    items = await blocking(_list_child, c, principal, customer_id, "note", principal.user_id, limit)
    if items is None:
        raise not_found(customer_id)
    return {"items": items}
