"""List filters, data scope and keyset pagination → one SQL query on the denormalised customer table."""

from __future__ import annotations

import asyncio
import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from shared.events.crm_customer import AccountStatus, Stage, VerificationStatus
from shared.events.upstream import Channel, RiskRating
from shared.runtime.api import Problem
from shared.runtime.auth import Principal, Scope
from shared.runtime.cursor import CursorCodec
from shared.runtime.query_model import query_model

from ..domain.bands import Band, bands, birth_range, ranges
from ..domain.state import parse_time
from ..projections.tables import Tables
from .deps import PageParts, built_once

Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-.:]{1,64}$")]
BandKey = Annotated[str, StringConstraints(pattern=r"^[0-9.]{1,20}-[0-9.]{0,20}$")]
TagText = Annotated[str, StringConstraints(pattern=r"^[\w\- ]{1,40}$")]
SortKey = Literal["registered_at", "assets", "last_activity", "ada30"]
Order = Literal["asc", "desc"]


@dataclass
class ListFilters:
    stage: list[Stage] | None = None
    user_region: list[str] | None = None
    active_region: list[str] | None = None
    registered_from: datetime | None = None
    registered_to: datetime | None = None
    channel: list[str] | None = None
    verification_status: list[VerificationStatus] | None = None
    account_status: list[AccountStatus] | None = None
    deposit_currency: str | None = None
    deposit_min: Decimal | None = None
    deposit_max: Decimal | None = None
    assets_currency: str | None = None
    assets_min: Decimal | None = None
    assets_max: Decimal | None = None
    manager_id: str | None = None
    team_id: str | None = None
    unassigned: bool | None = None
    tag: list[str] = field(default_factory=list)
    referrer_customer_id: str | None = None
    q: str | None = None
    ada_currency: str | None = None
    ada30_min: Decimal | None = None
    ada30_max: Decimal | None = None
    age_min: int | None = None
    age_max: int | None = None
    today: date | None = None  # the brokerage's date, for ages
    institution_id: list[str] | None = None
    risk_rating: list[str] | None = None
    segment_members: str | None = None  # a static segment's id: its members
    asset_ranges: list[tuple[Decimal, Decimal | None]] | None = None  # `asset_band`: [low, high) ranges
    ada_ranges: list[tuple[Decimal, Decimal | None]] | None = None  # `ada_band`
    band_currency: str | None = None  # the currency of the bands (the brokerage's)
    segment: ListFilters | None = None  # a segment's own filters (`segment=`), on top of the others
    holds: str | None = None  # a security some account of the customer holds (wealth positions)


class FilterParams(BaseModel):
    """List filters as one query-parameter model (validated in one pass, not parameter by parameter)."""

    stage: list[Stage] | None = Field(None, description="Lifecycle stage(s).")
    user_region: list[Country] | None = None
    active_region: list[Country] | None = None
    registered_from: AwareDatetime | None = Field(None, description="Registered at or after (inclusive).")
    registered_to: AwareDatetime | None = Field(
        None, description="Registered before (exclusive); must be after `registered_from` (422 otherwise).")
    channel: list[Channel] | None = Field(None, description="Source channel(s).")
    verification_status: list[VerificationStatus] | None = None
    account_status: list[AccountStatus] | None = None
    deposit_currency: CurrencyCode | None = Field(None, description="Currency of deposit_min/deposit_max.")
    deposit_min: Decimal | None = Field(None, ge=0, description="Total deposits ≥ (in deposit_currency).")
    deposit_max: Decimal | None = Field(None, ge=0)
    assets_currency: CurrencyCode | None = Field(None, description="Valuation currency of the asset range.")
    assets_min: Decimal | None = None
    assets_max: Decimal | None = None
    manager_id: Ident | None = Field(None, description="Assigned to this manager.")
    team_id: Ident | None = Field(None, description="Assigned to a manager of this team.")
    unassigned: bool | None = Field(None, description="true: no active assignment; false: assigned.")
    tag: list[TagText] | None = Field(None, description="Has every tag given.")
    referrer_customer_id: Ident | None = None
    q: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)] | None = Field(
        None, description="Search. With CustomerPiiRead: a customer id, name, phone or e-mail, exact or prefix. "
                          "Without it: a customer id, exact match only (personal data is never searched).")
    ada_currency: CurrencyCode | None = Field(None, description="Valuation currency of the ADA (30 days).")
    ada30_min: Decimal | None = Field(None, ge=0, description="Average daily assets over 30 days ≥ (0 without a "
                                                              "series).")
    ada30_max: Decimal | None = Field(None, ge=0, description="Average daily assets over 30 days ≤.")
    age_min: int | None = Field(None, ge=0, le=150, description="Age in years ≥ (from the date of birth, in the "
                                                                "brokerage's time zone); needs CustomerPiiRead (403).")
    age_max: int | None = Field(None, ge=0, le=150, description="Age in years ≤; needs CustomerPiiRead (403).")
    institution_id: list[Ident] | None = Field(None, max_length=50,
                                               description="Came through one of these institutions (source).")
    risk_rating: list[RiskRating] | None = Field(None, description="Risk rating(s) from the latest suitability "
                                                                   "assessment (customers without one never match).")
    asset_band: list[BandKey] | None = Field(
        None, max_length=20, description="Total assets in one of these bands (`GET /customers/bands`: keys "
                                         "`low-high`, half-open, in the brokerage's currency; a customer without "
                                         "assets is in the lowest band; valued in another currency: no band).")
    ada_band: list[BandKey] | None = Field(
        None, max_length=20, description="Average daily assets over 30 days in one of these bands (as `asset_band`).")
    holds: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-.:]{1,32}$")] | None = Field(
        None, description="Holds this security (e.g. `0700.HK`) in some account, from the platform's latest "
                          "positions snapshot of each account (`brokerage.wealth`).")
    segment: Ident | None = Field(None, description="A saved segment's customers (`/customers/segments`): a static "
                                                    "list's members or a dynamic segment's filters, with the others.")


FILTER_PARAMS = query_model(FilterParams)  # parsed in one pass (not field by field), documented as FastAPI would


async def list_filters(request: Request, p: FilterParams = Depends(FILTER_PARAMS)) -> ListFilters:
    c = request.app.state.container
    f = to_list_filters(p, datetime.now(c.settings.brokerage.tz).date(), band_config(c.settings))
    if p.segment:
        from .segments import segment_filters

        f.segment = await asyncio.to_thread(segment_filters, c, p.segment, f.today)
    return f


@dataclass(frozen=True)
class BandConfig:
    bands: list[Band]
    currency: str


def band_config(settings: Any) -> BandConfig:
    return _band_config(tuple(settings.asset_band_edges), settings.band_currency)


@functools.lru_cache(maxsize=8)
def _band_config(edges: tuple[Decimal, ...], currency: str) -> BandConfig:
    """(made once per configuration, not worked out again on every list call)"""
    return BandConfig(bands(list(edges)), currency)


def _band_ranges(name: str, keys: list[str] | None,
                 config: BandConfig | None) -> list[tuple[Decimal, Decimal | None]] | None:
    if not keys:
        return None
    try:
        if config is None:
            raise KeyError(keys[0])
        return ranges(keys, config.bands)
    except KeyError as exc:
        known = ", ".join(b.key for b in config.bands) if config else ""
        raise Problem(422, "Unprocessable Entity", f"{name}: unknown band {exc.args[0]!r} (bands: {known})",
                      type_="urn:whale-crm:problem:validation",
                      errors=[{"field": f"query.{name}", "message": f"unknown band; one of {known}"}]) from None


def to_list_filters(p: FilterParams, today: date | None, bands: BandConfig | None = None) -> ListFilters:
    """The filters of the query parameters (or of a dynamic segment's saved ones); 422 for inconsistent ones."""
    if (p.deposit_min is not None or p.deposit_max is not None) and not p.deposit_currency:
        raise Problem(422, "Unprocessable Entity", "deposit_currency: required with deposit_min/deposit_max",
                      type_="urn:whale-crm:problem:validation",
                      errors=[{"field": "query.deposit_currency", "message": "required with a deposit range"}])
    if p.registered_from and p.registered_to and p.registered_from >= p.registered_to:
        raise Problem(422, "Unprocessable Entity", "registered_to: must be after registered_from",
                      type_="urn:whale-crm:problem:validation",
                      errors=[{"field": "query.registered_to", "message": "must be after registered_from"}])
    for low, high in (("ada30_min", "ada30_max"), ("age_min", "age_max")):
        lo, hi = getattr(p, low), getattr(p, high)
        if lo is not None and hi is not None and lo > hi:
            raise Problem(422, "Unprocessable Entity", f"{high}: must not be below {low}",
                          type_="urn:whale-crm:problem:validation",
                          errors=[{"field": f"query.{high}", "message": f"must not be below {low}"}])
    return ListFilters(p.stage, p.user_region, p.active_region, parse_time(p.registered_from),
                       parse_time(p.registered_to), [c.value for c in p.channel] if p.channel else None,
                       p.verification_status, p.account_status, p.deposit_currency, p.deposit_min, p.deposit_max,
                       p.assets_currency, p.assets_min, p.assets_max, p.manager_id, p.team_id, p.unassigned,
                       list(p.tag or []), p.referrer_customer_id, p.q, p.ada_currency, p.ada30_min, p.ada30_max,
                       p.age_min, p.age_max, today, institution_id=list(p.institution_id) if p.institution_id else None,
                       risk_rating=[r.value for r in p.risk_rating] if p.risk_rating else None,
                       asset_ranges=_band_ranges("asset_band", p.asset_band, bands),
                       ada_ranges=_band_ranges("ada_band", p.ada_band, bands),
                       band_currency=bands.currency if bands and (p.asset_band or p.ada_band) else None,
                       holds=p.holds)


def _like_prefix(value: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", value) + "%"


def scope_clause(t: Tables, principal: Principal) -> ColumnElement[bool] | None:
    a, c = t.assignment, t.customer
    if principal.scope == Scope.all:
        return None
    if principal.scope == Scope.own:
        cond = a.c.manager_id == principal.user_id
    else:
        if not principal.teams:
            return false()
        cond = a.c.team_id.in_(principal.teams)
    return exists().where(a.c.customer_id == c.c.customer_id, a.c.active == true(), cond)


def filter_clauses(t: Tables, f: ListFilters, *, pii: bool = False) -> list[ColumnElement[bool]]:
    """The filters as SQL conditions. `pii`: the caller may read personal data (CustomerPiiRead), so `q`
    also searches names, phones and e-mails; without it `q` only matches a customer id exactly — a masked
    value must not be recoverable by searching for it a character at a time."""
    c, a = t.customer, t.assignment
    out: list[ColumnElement[bool]] = [c.c.merged_into.is_(None)]  # a merged customer is its survivor's row
    if (f.age_min is not None or f.age_max is not None) and not pii:
        name = "age_min" if f.age_min is not None else "age_max"
        # an age is read from the date of birth, which is masked without CustomerPiiRead
        raise Problem(403, "Forbidden", f"{name}: filtering by age needs CustomerPiiRead",
                      errors=[{"field": f"query.{name}", "message": "needs CustomerPiiRead"}])
    if f.stage:
        out.append(c.c.stage.in_([s.value for s in f.stage]))
    if f.user_region:
        out.append(c.c.user_region.in_(f.user_region))
    if f.active_region:
        out.append(c.c.active_region.in_(f.active_region))
    if f.registered_from or f.registered_to:
        out.append(c.c.registered == true())
        if f.registered_from:
            out.append(c.c.sort_registered_at >= f.registered_from)
        if f.registered_to:
            out.append(c.c.sort_registered_at < f.registered_to)
    if f.channel:
        out.append(c.c.channel.in_(f.channel))
    if f.institution_id:
        out.append(c.c.institution_id.in_(f.institution_id))
    if f.verification_status:
        out.append(c.c.verification_status.in_([s.value for s in f.verification_status]))
    if f.account_status:
        out.append(c.c.account_status.in_([s.value for s in f.account_status]))
    if f.deposit_min is not None or f.deposit_max is not None:
        fd = t.funding
        conds = [fd.c.currency == f.deposit_currency]
        if f.deposit_min is not None:
            conds.append(fd.c.deposits >= f.deposit_min)
        if f.deposit_max is not None:
            conds.append(fd.c.deposits <= f.deposit_max)
        out.append(c.c.customer_id.in_(select(fd.c.customer_id).where(*conds)))
    if f.assets_currency:
        out.append(c.c.assets_currency == f.assets_currency)
    if f.assets_min is not None:
        out.append(c.c.total_assets >= f.assets_min)
    if f.assets_max is not None:
        out.append(c.c.total_assets <= f.assets_max)
    if f.ada_currency:
        out.append(c.c.ada_currency == f.ada_currency)
    if f.ada30_min is not None:
        out.append(c.c.ada30 >= f.ada30_min)
    if f.ada30_max is not None:
        out.append(c.c.ada30 <= f.ada30_max)
    if f.asset_ranges:
        out.append(band_clause(c.c.assets_sort, c.c.assets_currency, f.asset_ranges, f.band_currency))
    if f.ada_ranges:
        out.append(band_clause(c.c.ada30, c.c.ada_currency, f.ada_ranges, f.band_currency))
    if f.today is not None and (f.age_min is not None or f.age_max is not None):
        after, on_or_before = birth_range(f.today, f.age_min, f.age_max)
        if on_or_before is not None:  # born on or before today − age_min years
            out.append(c.c.date_of_birth <= on_or_before)
        if after is not None:  # younger than age_max + 1
            out.append(c.c.date_of_birth > after)
    if f.manager_id or f.team_id or f.unassigned is not None:  # (built only when needed: per call CPU)
        active = and_(a.c.customer_id == c.c.customer_id, a.c.active == true())
        if f.manager_id:
            out.append(exists().where(active, a.c.manager_id == f.manager_id))
        if f.team_id:
            out.append(exists().where(active, a.c.team_id == f.team_id))
        if f.unassigned is True:
            out.append(~exists().where(active))
        elif f.unassigned is False:
            out.append(exists().where(active))
    for tag in f.tag:
        out.append(exists().where(t.tag.c.customer_id == c.c.customer_id, t.tag.c.tag == tag))
    if f.referrer_customer_id:
        out.append(c.c.referrer_customer_id == f.referrer_customer_id)
    if f.risk_rating:
        out.append(c.c.risk_rating.in_(f.risk_rating))
    if f.holds:
        h = t.wealth.holding
        out.append(exists().where(h.c.security == f.holds, h.c.customer_id == c.c.customer_id, h.c.quantity > 0))
    if f.segment_members:
        m = t.segment_member
        out.append(c.c.customer_id.in_(select(m.c.customer_id).where(m.c.segment_id == f.segment_members)))
    if f.segment is not None:
        out += filter_clauses(t, f.segment, pii=pii)[1:]  # (its first clause, merged rows out, is here already)
    if f.q:
        out.append(search_clause(t, f.q) if pii else t.customer.c.customer_id == f.q)
    return out


def band_clause(value: Any, currency: Any, spans: list[tuple[Decimal, Decimal | None]],
                band_currency: str | None) -> ColumnElement[bool]:
    """Value in one of the `[low, high)` ranges, valued in the bands' currency; a customer without a valuation
    (no currency: no snapshot, value 0) is in the lowest band. A range on the indexed column (`assets_sort`,
    `ada30`), so an index range scan serves it."""
    conds = []
    for low, high in spans:
        cond = [value >= low] + ([value < high] if high is not None else [])
        conds.append(and_(currency == band_currency, *cond))
        if low == 0:
            conds.append(currency.is_(None))
    return or_(*conds)


def search_clause(t: Tables, q: str) -> ColumnElement[bool]:
    c = t.customer.c
    low = q.lower()
    conds = [c.customer_id == q, c.customer_id.like(_like_prefix(q), escape="\\"),
             c.search_name.like(_like_prefix(low), escape="\\"),
             c.search_email.like(_like_prefix(low), escape="\\")]
    digits = re.sub(r"[\s\-()]", "", q)
    if re.fullmatch(r"\+?[0-9]{3,20}", digits):
        d = digits.lstrip("+")
        conds.append(c.search_phone.like(_like_prefix(d), escape="\\"))
        if not digits.startswith("+"):
            conds.append(c.phone_number.like(_like_prefix(d), escape="\\"))
    return or_(*conds)


# ------------------------------------------------------------------------------------ keyset pages
def sort_column(t: Tables, sort: SortKey) -> Any:
    c = t.customer.c
    return {"registered_at": c.sort_registered_at, "assets": c.assets_sort, "last_activity": c.last_activity_at,
            "ada30": c.ada30}[sort]


def _cursor_scope(sort: SortKey, order: Order) -> str:
    return f"customers:{sort}:{order}"


_CURSOR_KINDS = {"registered_at": (datetime, str), "assets": (Decimal, str), "last_activity": (datetime, str),
                 "ada30": (Decimal, str)}


def encode_cursor(codec: CursorCodec, sort: SortKey, order: Order, value: Any, customer_id: str) -> str:
    return codec.encode(_cursor_scope(sort, order), [value, customer_id])


def decode_cursor(codec: CursorCodec, cursor: str, sort: SortKey, order: Order) -> tuple[Any, str]:
    """The page's last (sort key, customer id), verified: a cursor of another list, sort or order is a 422."""
    value, cid = codec.decode(cursor, _cursor_scope(sort, order), _CURSOR_KINDS[sort])
    return (value if sort in ("assets", "ada30") else parse_time(value)), cid


PAGE_COLUMNS = ("customer_id", "registered", "registered_at", "channel", "campaign", "referral_code", "institution_id",
                "referrer_customer_id", "language", "residence_country", "user_region", "active_region", "stage",
                "stage_changed_at", "account_status", "verification_status", "deposits", "withdrawals",
                "first_deposit_at", "first_trade_at", "trades_count", "total_assets", "assets_currency",
                "assets_as_of", "tags", "last_activity_at", "name", "phone_dialing_code", "phone_number", "email",
                "sort_registered_at", "assets_sort", "ada_currency", "ada_as_of", "ada30", "ada30_prev", "ada90",
                "ada90_prev", "ada365", "ada365_prev", "risk_rating")


def managers_column(t: Tables, dialect: str) -> Any:
    """The customer's active assignments as a JSON array, in the page query itself (one round trip)."""
    a, c = t.assignment, t.customer
    fields = (literal_column("'manager_id'"), a.c.manager_id, literal_column("'team_id'"), a.c.team_id,
              literal_column("'stage'"), a.c.stage_key, literal_column("'share'"), cast(a.c.share, String))
    if dialect == "postgresql":
        agg = func.json_agg(aggregate_order_by(func.json_build_object(*fields), a.c.stage_key, a.c.manager_id))
    else:
        agg = func.json_group_array(func.json_object(*fields))
    return select(agg).where(a.c.customer_id == c.c.customer_id, a.c.active == true()) \
        .scalar_subquery().label("managers")


def _page_columns(t: Tables, dialect: str) -> dict[str, Select[Any]]:
    return {"page": select(*(t.customer.c[name] for name in PAGE_COLUMNS), managers_column(t, dialect))}


def page_parts(t: Tables, clauses: list[ColumnElement[bool]], sort: SortKey, order: Order,
               after: tuple[Any, str] | None, limit: int, dialect: str = "postgresql") -> PageParts:
    """The page statement's parts: its constant SELECT (the columns and the managers' subquery, built once per
    tables: coercing those 42 columns again was most of a page's statement-building CPU), its WHERE criteria,
    its ORDER BY (named by `order_key`) and its LIMIT."""
    c = t.customer
    key = sort_column(t, sort)
    base = built_once(t, f"customer_page:{dialect}", lambda tt: _page_columns(tt, dialect))["page"]
    where = list(clauses)
    if after is not None:
        pair, bound = tuple_(key, c.c.customer_id), tuple_(*after)
        where.append(pair < bound if order == "desc" else pair > bound)
    if order == "desc":
        order_by = (key.desc(), c.c.customer_id.desc())
    else:
        order_by = (key.asc(), c.c.customer_id.asc())
    return PageParts(base, where, order_by, (sort, order), limit)


def page_query(t: Tables, clauses: list[ColumnElement[bool]], sort: SortKey, order: Order,
               after: tuple[Any, str] | None, limit: int, dialect: str = "postgresql") -> Select[Any]:
    return page_parts(t, clauses, sort, order, after, limit, dialect).statement()
