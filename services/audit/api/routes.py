"""`GET /audit/records` (filters, keyset pages, newest first), `GET /audit/records/export` (CSV, streamed) and
`GET /audit/verify` (the chain checked from its anchor). Every route needs `AuditRead` with the all-customers
scope: the audit log is the whole company's."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from shared.events.crm_audit import AuditKind, AuditOutcome
from shared.runtime import audit
from shared.runtime.auth import Perm, Principal, Scope, require_any
from shared.runtime.cursor import CursorQuery, codec_for
from shared.runtime.logging import get_logger

from ..anchors import read_anchors
from ..projections.store import verify_store
from ..projections.tables import record
from .models import AuditRecordPage, ChainVerdict

PROBLEM_BASE = "urn:whale-crm:problem:audit:"
log = get_logger("audit.api")
router = APIRouter(prefix="/audit", tags=["audit"])
Auditor = Annotated[Principal, Depends(require_any(Perm.AuditRead, scope=Scope.all, type_base=PROBLEM_BASE))]
Id = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_\-.:]+$")]
LIST = "audit_records"
CSV_COLUMNS = ("seq", "at", "staff_id", "roles", "action", "kind", "service", "method", "route", "customer_id",
               "client_ip", "correlation_id", "status", "outcome", "answered", "record_id", "hash")
T = TypeVar("T")


class RecordFilters:
    def __init__(self, staff_id: Id = None, customer_id: Id = None, action: Id = None, service: Id = None,
                 kind: AuditKind | None = None, outcome: AuditOutcome | None = None,
                 since: Annotated[AwareDatetime | None, Query(description="From this time (inclusive).")] = None,
                 until: Annotated[AwareDatetime | None, Query(description="Before this time.")] = None):
        self.values = {"staff_id": staff_id, "customer_id": customer_id, "action": action, "service": service,
                       "kind": kind, "outcome": outcome}
        self.since, self.until = since, until

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        for name, value in self.values.items():
            if value is not None:
                stmt = stmt.where(record.c[name] == str(value))
        if self.since is not None:
            stmt = stmt.where(record.c.at >= self.since)
        if self.until is not None:
            stmt = stmt.where(record.c.at < self.until)
        return stmt


def view(row: Any) -> dict[str, Any]:
    out = {k: row[k] for k in ("seq", "record_id", "staff_id", "action", "kind", "service", "method", "route",
                                "customer_id", "at", "client_ip", "correlation_id", "status", "outcome", "answered",
                                "hash")}
    out["roles"] = json.loads(row["roles"])
    return out


async def reading(request: Request, fn: Callable[[Session], T]) -> T:
    c = request.app.state.container

    def run() -> T:
        with c.sessions() as s:
            return fn(s)

    return await asyncio.to_thread(run)


@router.get("/records", response_model=AuditRecordPage, summary="Audit records, newest first (keyset pages)")
async def records(request: Request, principal: Auditor, f: Annotated[RecordFilters, Depends()],
                  cursor: CursorQuery = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    codec = codec_for(request.app.state.container.settings)
    stmt = f.apply(select(record))
    if cursor:
        (seq,) = codec.decode(cursor, LIST, (int,))
        stmt = stmt.where(record.c.seq < seq)

    def run(s: Session) -> dict[str, Any]:
        rows = list(s.execute(stmt.order_by(record.c.seq.desc()).limit(limit + 1)).mappings())
        more, rows = len(rows) > limit, rows[:limit]
        return {"items": [view(r) for r in rows],
                "next_cursor": codec.encode(LIST, [rows[-1]["seq"]]) if more else None}

    return await reading(request, run)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # no formula injection in a spreadsheet


@router.get("/records/export", summary="Export the filtered audit records as CSV (streamed, oldest first)",
            response_class=StreamingResponse,
            responses={200: {"description": "The CSV file.", "content": {"text/csv": {"schema": {"type": "string"}}}}},
            dependencies=[Depends(audit.audited("audit.records.export", AuditKind.export))])
async def export(request: Request, principal: Auditor, f: Annotated[RecordFilters, Depends()]) -> StreamingResponse:
    c = request.app.state.container
    max_rows, page = c.settings.export_max_rows, 2000

    async def stream() -> AsyncIterator[bytes]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_COLUMNS)
        last, sent = -1, 0
        while sent < max_rows:
            stmt = (f.apply(select(record)).where(record.c.seq > last).order_by(record.c.seq)
                    .limit(min(page, max_rows - sent)))
            rows = await reading(request, lambda s, q=stmt: list(s.execute(q).mappings()))
            for r in rows:
                v = view(r)
                v["roles"] = " ".join(v["roles"])
                writer.writerow([_cell(v[col]) for col in CSV_COLUMNS])
            sent += len(rows)
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
            if not rows:
                return
            last = rows[-1]["seq"]

    return StreamingResponse(stream(), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="audit-records.csv"'})


@router.get("/verify", response_model=ChainVerdict,
            summary="Check the hash chain from its anchor and against the published anchors: the first broken "
                    "sequence number, if any")
async def verify(request: Request, principal: Auditor) -> dict[str, Any]:
    """The chain recomputed from its prune anchor, then compared with every anchor the worker published to
    crm.audit.anchors (a rewritten or truncated chain differs from one published before). Anchors the broker
    does not hand over in 10 s are not compared (`anchors_checked` null; a WARNING is logged)."""
    try:
        anchors = await read_anchors(request.app.state.container.settings.kafka, timeout_s=10.0)
    except Exception as exc:  # noqa: BLE001 - the chain alone is still worth checking
        log.warning("audit_anchors_unread", error=type(exc).__name__)
        anchors = None
    return (await reading(request, lambda s: verify_store(s, anchors))).as_dict()
