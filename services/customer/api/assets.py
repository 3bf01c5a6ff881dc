"""Average daily assets on the list rows and the detail, and the daily asset series for a chart."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from shared.runtime.api import Problem
from shared.runtime.auth import Perm, Principal, require

from ..domain.daily import WINDOWS, change, expand
from ..projections.asset_series import series
from ..projections.tables import Tables
from .deps import CustomerIdPath, blocking, container, not_found, read, visible_ids

router = APIRouter(prefix="/customers", tags=["customers"])
DEFAULT_SPAN = 90


def money(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def ada_columns(t: Tables) -> list[Any]:
    c = t.customer.c
    return [c.ada_currency, c.ada_as_of, *(c[f"ada{n}{s}"] for n in WINDOWS for s in ("", "_prev"))]


def _text(value: Decimal | None) -> str | None:
    """`money` of a value that is a Decimal already (not copied again)."""
    return None if value is None else format(value.normalize(), "f")


def _decimal(value: Any) -> Decimal | None:
    return value if value is None or type(value) is Decimal else Decimal(value)


ADA_VALUES = ("ada_currency", "ada_as_of", *(f"ada{n}{s}" for n in WINDOWS for s in ("", "_prev")))  # ada_values'


def ada_block(row: dict[str, Any]) -> dict[str, Any] | None:
    """ADA over 30, 90 and 365 days ending on the series' last day, each with the window before and the change
    (None: no asset snapshot yet)."""
    block = ada_values(*(row.get(k) for k in ADA_VALUES))
    if block is not None and isinstance(block["as_of"], date):
        block["as_of"] = block["as_of"].isoformat()
    return block


def ada_values(currency: str | None, as_of: date | None, *values: Any) -> dict[str, Any] | None:
    """`ada_block` of a row's `ADA_VALUES` in that order, `as_of` left as it is (a date: the list's JSON writer,
    orjson, writes it in its ISO form)."""
    if as_of is None:
        return None
    windows = []
    for i, n in enumerate(WINDOWS):
        cur, prev = _decimal(values[2 * i]), values[2 * i + 1]
        if prev is None:  # (no window before: no change)
            windows.append({"days": n, "ada": _text(cur), "previous": None, "change": None, "change_pct": None})
            continue
        prev = _decimal(prev)
        diff, pct = change(cur, prev)
        windows.append({"days": n, "ada": _text(cur), "previous": _text(prev), "change": _text(diff),
                        "change_pct": None if pct is None else format(pct, "f")})
    return {"currency": currency, "as_of": as_of, "windows": windows}


class DailyValue(BaseModel):
    date: date
    currency: str | None = Field(description="Valuation currency (None before the first snapshot).")
    total: str | None = Field(description="End-of-day total assets, carried forward over days without a "
                                          "snapshot; None before the first snapshot.")


class AccountSeries(BaseModel):
    account_id: str
    days: list[DailyValue]


class AssetSeries(BaseModel):
    customer_id: str
    timezone: str = Field(description="The brokerage's time zone the days are in (BROKERAGE_TIMEZONE).")
    from_: date = Field(alias="from")
    to: date
    days: list[DailyValue] = Field(description="The customer's total per day (its accounts in the valuation "
                                               "currency of the latest snapshot as of that day).")
    accounts: list[AccountSeries] = Field(description="Each account's value per day.")
    ada: dict[str, Any] | None = Field(description="ADA over 30, 90 and 365 days with the change versus the "
                                                   "window before (as on the detail).")


def _days(points: list[Any], first: date, last: date) -> list[dict[str, Any]]:
    return [{"date": d, "currency": cur, "total": money(v)} for d, cur, v in expand(points, first, last)]


def load_series(c: Any, principal: Principal, customer_id: str, first: date | None,
                last: date | None) -> dict[str, Any] | None:
    t = c.tables
    tz = c.settings.brokerage.tz

    def query(s: Any) -> dict[str, Any] | None:
        if customer_id not in visible_ids(s, t, principal, [customer_id]):
            return None
        row = s.execute(select(*ada_columns(t)).where(t.customer.c.customer_id == customer_id)).first()
        if row is None:
            return None
        info = dict(row._mapping)
        to = last or info["ada_as_of"] or datetime.now(tz).date()
        frm = first or to - timedelta(days=DEFAULT_SPAN - 1)
        if frm > to:
            field = "to" if last is not None else "from"
            raise Problem(422, "Unprocessable Entity", f"{field}: must not be before from" if field == "to"
                          else "from: must not be after the series' last day", type_="urn:whale-crm:problem:validation",
                          errors=[{"field": f"query.{field}", "message": "from must not be after to"}])
        if (to - frm).days + 1 > c.settings.asset_series_max_days:
            raise Problem(422, "Unprocessable Entity",
                          f"from: at most {c.settings.asset_series_max_days} days per call",
                          type_="urn:whale-crm:problem:validation",
                          errors=[{"field": "query.from", "message": "span too long"}])
        data = series(s, t, customer_id, frm, to)
        return {"customer_id": customer_id, "timezone": c.settings.brokerage.timezone, "from": frm, "to": to,
                "days": _days(data["customer"], frm, to),
                "accounts": [{"account_id": acc, "days": _days(rows, frm, to)}
                             for acc, rows in sorted(data["accounts"].items())],
                "ada": ada_block(info)}

    return read(c, query)


@router.get("/{customer_id}/assets/daily", summary="Daily asset series (end of day, carried forward) for a chart",
            response_model=AssetSeries, response_model_by_alias=True)
async def daily_assets(
    customer_id: CustomerIdPath,
    first: date | None = Query(None, alias="from", description="First day (brokerage's time zone); default: 89 "
                                                               "days before `to`."),
    last: date | None = Query(None, alias="to", description="Last day; default: the series' last day."),
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Any = Depends(container),
) -> Any:
    out = await blocking(load_series, c, principal, customer_id, first, last)
    if out is None:
        raise not_found(customer_id)
    return out
