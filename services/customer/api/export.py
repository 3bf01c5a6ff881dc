"""CSV export of the filtered list, streamed page by page (keyset), honouring scope and masking."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from shared.events.crm_audit import AuditKind
from shared.runtime import audit
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import codec_for
from shared.runtime.logging import get_logger

from .deps import container
from .masking import person
from .query import ListFilters, Order, SortKey, encode_cursor, filter_clauses, list_filters, sort_column
from .routes_read import fetch_page, page_dicts

router = APIRouter(prefix="/customers", tags=["customers"])
log = get_logger("customer.export")
COLUMNS = ["customer_id", "name", "phone_dialing_code", "phone_number", "email", "stage", "stage_changed_at",
           "account_status", "verification_status", "user_region", "active_region", "registered_at", "channel",
           "campaign", "referrer_customer_id", "deposits", "withdrawals", "total_assets", "assets_currency",
           "first_deposit_at", "first_trade_at", "trades_count", "last_activity_at", "tags", "managers"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = ";".join(f"{k}:{v}" for k, v in value.items())
    elif isinstance(value, list):
        value = ";".join(str(v) for v in value)
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    text = str(value)
    # Spreadsheet formula injection: a cell must never start with a formula character.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_row(row: dict[str, Any], managers: list[dict[str, Any]], unmasked: bool) -> list[str]:
    data = {**row, **person(row, unmasked), "managers": [m["manager_id"] for m in managers]}
    return [_cell(data.get(col)) for col in COLUMNS]


@router.get("/export", summary="Export the filtered list as CSV (streamed)", response_class=StreamingResponse,
            responses={200: {"description": "The CSV file (masked unless the caller has CustomerPiiRead).",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}},
            dependencies=[Depends(audit.audited("customer.export", AuditKind.export))])
async def export(
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly, Perm.CustomerExport)),  # (401/403 first)
    f: ListFilters = Depends(list_filters),
    sort: SortKey = Query("registered_at"),
    order: Order = Query("desc"),
    c: Any = Depends(container),
) -> StreamingResponse:
    unmasked = principal.has(Perm.CustomerPiiRead)
    filter_clauses(c.tables, f, pii=unmasked)  # a refused filter answers before the stream starts
    page_size, max_rows = c.settings.export_page_size, c.settings.export_max_rows
    key = sort_column(c.tables, sort).name

    async def stream() -> AsyncIterator[bytes]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(COLUMNS)
        cursor, sent = None, 0
        while sent < max_rows:
            rows, managers = page_dicts(await fetch_page(c, principal, f, sort, order, cursor,
                                                        min(page_size, max_rows - sent)))
            for r in rows:
                writer.writerow(csv_row(r, managers[r["customer_id"]], unmasked))
            sent += len(rows)
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
            if len(rows) < page_size:
                break
            cursor = encode_cursor(codec_for(c.settings), sort, order, rows[-1][key], rows[-1]["customer_id"])
        if buf.getvalue():
            yield buf.getvalue().encode()
        log.info("customers_exported", user_id=principal.user_id, rows=sent, unmasked=unmasked,
                 truncated=sent >= max_rows)

    return StreamingResponse(stream(), media_type="text/csv; charset=utf-8",
                             headers={"content-disposition": 'attachment; filename="customers.csv"'})
