"""Saved segments (customer groups): static lists of customer ids and dynamic segments (a saved filter
definition over the customer list's filters), with their counts in the caller's scope; `GET /customers?segment=`
lists a segment's customers. Writes need `CustomerWrite`; each change is stored on the Segment aggregate and
published as `crm.customer.segment_changed`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import func, select

from shared.runtime.api import Problem, run_command
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.commands import save_retrying
from shared.runtime.logging import get_logger
from shared.runtime.types import UtcDatetime

from ..domain.segments import DYNAMIC, STATIC, Segment, segment_uuid
from .deps import blocking, container, read
from .query import FilterParams, ListFilters, band_config, filter_clauses, scope_clause, to_list_filters

router = APIRouter(prefix="/customers/segments", tags=["segments"])
log = get_logger("customer.segments")
TYPE_BASE = "urn:whale-crm:problem:customer:"
MAX_MEMBERS = 10_000
SegmentIdStr = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{1,64}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
CustomerIdStr = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{1,64}$")]


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    kind: Literal["static", "dynamic"] = Field(description="static: a list of customer ids; dynamic: a saved "
                                                           "filter, evaluated when read.")
    filter: FilterParams | None = Field(default=None, description="dynamic: the customer list's filters.")
    customer_ids: list[CustomerIdStr] = Field(default_factory=list, max_length=MAX_MEMBERS,
                                              description=f"static: the customers (at most {MAX_MEMBERS:,}).")

    @model_validator(mode="after")
    def _shape(self) -> SegmentIn:
        if self.kind == DYNAMIC and self.filter is None:
            raise ValueError("filter: required for a dynamic segment")
        if self.kind == DYNAMIC and self.customer_ids:
            raise ValueError("customer_ids: only for a static segment")
        if self.kind == STATIC and self.filter is not None:
            raise ValueError("filter: only for a dynamic segment")
        if self.filter is not None and self.filter.segment is not None:
            raise ValueError("filter.segment: a segment is not defined by another segment")
        return self

    def stored_filter(self) -> dict[str, Any] | None:
        return self.filter.model_dump(mode="json", exclude_none=True) if self.filter is not None else None


class SegmentOut(BaseModel):
    segment_id: str
    name: str
    kind: str
    filter: dict[str, Any] | None = None
    owner_id: str
    created_at: UtcDatetime
    updated_at: UtcDatetime
    count: int = Field(description="Customers in the segment now, in the caller's data scope.")


class SegmentList(BaseModel):
    items: list[SegmentOut]


class SegmentNotFound(LookupError):
    pass


def segment_filters(c: Any, segment_id: str, today: Any) -> ListFilters:
    """The list filters a segment stands for (a static one: its members), for `GET /customers?segment=`."""
    t = c.tables.segment
    row = read(c, lambda s: s.execute(select(t).where(t.c.segment_id == segment_id, t.c.deleted.is_(False)))
               .mappings().first())
    if row is None:
        raise Problem(422, "Unprocessable Entity", f"segment: no segment {segment_id!r}",
                      type_="urn:whale-crm:problem:validation",
                      errors=[{"field": "query.segment", "message": "unknown segment"}])
    if row["kind"] == STATIC:
        return ListFilters(segment_members=segment_id)
    return to_list_filters(FilterParams(**row["filter"]), today, band_config(c.settings))


def _count(c: Any, principal: Principal, row: dict[str, Any], today: Any) -> int:
    t = c.tables
    f = (ListFilters(segment_members=row["segment_id"]) if row["kind"] == STATIC
         else to_list_filters(FilterParams(**row["filter"]), today, band_config(c.settings)))
    clauses = filter_clauses(t, f, pii=principal.has(Perm.CustomerPiiRead))
    scope = scope_clause(t, principal)
    if scope is not None:
        clauses.append(scope)
    return int(read(c, lambda s: s.scalar(select(func.count()).select_from(t.customer).where(*clauses))) or 0)


def _out(c: Any, principal: Principal, row: dict[str, Any], today: Any) -> dict[str, Any]:
    try:
        count = _count(c, principal, row, today)
    except Problem:
        count = 0  # a dynamic segment by age counts nothing for a caller who may not filter by age
    return {**{k: row[k] for k in ("segment_id", "name", "kind", "filter", "owner_id", "created_at", "updated_at")},
            "count": count}


def _row(c: Any, segment_id: str) -> dict[str, Any] | None:
    t = c.tables.segment
    row = read(c, lambda s: s.execute(select(t).where(t.c.segment_id == segment_id, t.c.deleted.is_(False)))
               .mappings().first())
    return dict(row) if row is not None else None


def _today(c: Any) -> Any:
    return datetime.now(c.settings.brokerage.tz).date()


def _save(c: Any, principal: Principal, segment_id: str | None, body: SegmentIn | None) -> dict[str, Any] | None:
    now = datetime.now(UTC)

    def step() -> tuple[Any, None]:
        if segment_id is None:
            assert body is not None
            return Segment(segment_id=new_id, name=body.name, kind=body.kind, filter=body.stored_filter(),
                           customer_ids=body.customer_ids, by=principal.user_id, at=now), None
        seg = c.app.load(segment_uuid(segment_id))
        if seg is None or seg.deleted:
            raise SegmentNotFound(segment_id)
        if body is None:
            seg.delete(segment_id=segment_id, name=seg.name, kind=seg.kind, by=principal.user_id, at=now)
        else:
            if body.kind != seg.kind:
                raise SegmentKindChanged(seg.kind)
            seg.update(segment_id=segment_id, name=body.name, kind=seg.kind, filter=body.stored_filter(),
                       customer_ids=body.customer_ids, by=principal.user_id, at=now)
        return seg, None

    new_id = uuid.uuid4().hex
    save_retrying(c.app, step)
    sid = segment_id or new_id
    log.info("segment_saved", segment_id=sid, deleted=body is None)
    row = _row(c, sid)
    return _out(c, principal, row, _today(c)) if row is not None else None


class SegmentKindChanged(ValueError):
    pass


def _problem(exc: Exception) -> Problem | None:
    if isinstance(exc, SegmentNotFound):
        return Problem(404, "Not Found", f"segment {exc.args[0]!r} not found")
    if isinstance(exc, SegmentKindChanged):
        return Problem(422, "Unprocessable Entity", f"kind: a {exc.args[0]} segment stays {exc.args[0]}",
                       type_="urn:whale-crm:problem:validation",
                       errors=[{"field": "kind", "message": "cannot change"}])
    return None


@router.get("", response_model=SegmentList, summary="Saved segments, by name, with their counts")
async def list_segments(principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                        c: Any = Depends(container)) -> dict[str, Any]:
    t = c.tables.segment

    def query() -> dict[str, Any]:
        rows = read(c, lambda s: [dict(r) for r in s.execute(
            select(t).where(t.c.deleted.is_(False)).order_by(t.c.name, t.c.segment_id)).mappings()])
        today = _today(c)
        return {"items": [_out(c, principal, r, today) for r in rows]}

    return await blocking(query)


@router.get("/{segment_id}", response_model=SegmentOut, summary="One saved segment with its count")
async def get_segment(segment_id: SegmentIdStr, principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                      c: Any = Depends(container)) -> dict[str, Any]:
    row = await blocking(_row, c, segment_id)
    if row is None:
        raise Problem(404, "Not Found", f"segment {segment_id!r} not found")
    return await blocking(_out, c, principal, row, _today(c))


@router.post("", response_model=SegmentOut, status_code=201, summary="Save a segment (static list or filter)")
async def create_segment(body: SegmentIn, principal: Principal = Depends(require(Perm.CustomerWrite)),
                         c: Any = Depends(container)) -> Any:
    return await run_command(lambda: _save(c, principal, None, body), TYPE_BASE, what="segment", problem=_problem)


@router.put("/{segment_id}", response_model=SegmentOut, summary="Edit a segment (its kind stays)")
async def update_segment(segment_id: SegmentIdStr, body: SegmentIn,
                         principal: Principal = Depends(require(Perm.CustomerWrite)),
                         c: Any = Depends(container)) -> Any:
    return await run_command(lambda: _save(c, principal, segment_id, body), TYPE_BASE, what="segment",
                             problem=_problem)


@router.delete("/{segment_id}", status_code=204, summary="Delete a segment")
async def delete_segment(segment_id: SegmentIdStr, request: Request,
                         principal: Principal = Depends(require(Perm.CustomerWrite)),
                         c: Any = Depends(container)) -> Response:
    await run_command(lambda: _save(c, principal, segment_id, None), TYPE_BASE, what="segment", problem=_problem)
    return Response(status_code=204)
