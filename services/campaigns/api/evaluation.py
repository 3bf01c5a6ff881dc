"""Evaluation routes: a campaign's cost (an event), its indicators (read, refresh now, CSV), the comparison of
campaigns side by side and reports by manager, team, channel and segment (JSON and CSV).

Only campaigns the caller sees count (`projections.queries.visible`); within them, rows by manager are the
caller's own for an own-customers scope, rows by team the caller's teams for a team scope. The figures are
counts and amounts: no personal data."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from shared.runtime.api import Problem
from shared.runtime.auth import Perm, Principal, require

from ..projections import queries as q
from .deps import PROBLEM_BASE, container, data_scope, run_command
from .models import CampaignView, CostBody, Indicators, Report
from .routes import CONFLICT, _visible
from .views import campaign_view

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
Reader = Annotated[Principal, Depends(require(Perm.CampaignRead))]
Writer = Annotated[Principal, Depends(require(Perm.CampaignRead, Perm.CampaignWrite))]
CSV = {200: {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}}
NOT_STARTED = {409: {"description": "The campaign never started: there is nothing to evaluate."}}
Dimension = Annotated[str, Query(pattern="^(manager|team|channel|segment)$",
                                 description="manager, team, channel (the campaign's channels) or segment (the "
                                             "target's lifecycle stage when the campaign started)")]
Ids = Annotated[str, Query(min_length=1, max_length=2000, pattern=r"^[0-9a-fA-F-]{36}(,[0-9a-fA-F-]{36}){0,19}$",
                           description="Up to 20 campaign ids, comma-separated.")]
COLUMNS = ("targeted", "account_opened", "funded", "first_trade", "converted", "net_deposits",
           "incremental_assets")


def _csv(header: list[str], rows: list[list[Any]], filename: str) -> Response:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def _read(request: Request, fn: Any) -> Any:
    c = container(request)

    def run() -> Any:
        with c.sessions() as s:
            return fn(s)

    return await asyncio.to_thread(run)


async def _indicators(request: Request, campaign_id: str) -> dict[str, Any]:
    found = await _read(request, lambda s: q.indicators(s, campaign_id))
    if found is None:
        raise Problem(404, "Not Found", f"campaign {campaign_id!r} has no indicators yet (it never started, or "
                      "POST /campaigns/{id}/indicators/refresh)", type_=f"{PROBLEM_BASE}no_indicators")
    return found


@router.get("/compare", response_model=list[Indicators])
async def compare_campaigns(request: Request, principal: Reader, ids: Ids) -> list[dict[str, Any]]:
    """Campaigns side by side: each one's indicators (campaigns out of sight or never evaluated: 404)."""
    out = []
    for cid in dict.fromkeys(ids.split(",")):
        await _visible(request, principal, cid)
        out.append(await _indicators(request, cid))
    return out


@router.get("/compare.csv", response_model=None, responses=CSV)
async def compare_campaigns_csv(request: Request, principal: Reader, ids: Ids) -> Response:
    rows = await compare_campaigns(request, principal, ids)
    return _csv(["campaign_id", "name", *COLUMNS, "cost", "currency", "input_output_ratio", "computed_at",
                 "amounts_currency", "other_currencies"],
                [[r["campaign_id"], r["name"], *[r[k] for k in COLUMNS], *_cost(r), r["currency"],
                  _others(r["other_currencies"])] for r in rows],
                "campaigns-compare.csv")


def _others(others: dict[str, Any]) -> str:
    """`other_currencies` in one CSV cell: `SGD net_deposits=100 incremental_assets=50; USD …`."""
    return "; ".join(f"{ccy} " + " ".join(f"{k}={v}" for k, v in sorted(amounts.items()))
                     for ccy, amounts in sorted(others.items()))


def _cost(r: dict[str, Any]) -> list[Any]:
    cost = r["figures"].get("cost") or {}
    return [cost.get("amount"), cost.get("currency"), r["figures"].get("input_output_ratio"),
            r["computed_at"].isoformat()]


@router.get("/reports", response_model=Report)
async def campaign_report(request: Request, principal: Reader, dimension: Dimension,
                          status: Annotated[str | None, Query(pattern="^(running|closed)$")] = None) -> dict[str, Any]:
    """The indicators of the campaigns the caller sees, summed by manager, team, channel or segment."""
    scope = data_scope(principal)
    rows = await _read(request, lambda s: q.report(s, scope, dimension, status))
    return {"dimension": dimension, "currency": container(request).settings.brokerage.currency, "items": rows}


@router.get("/reports.csv", response_model=None, responses=CSV)
async def campaign_report_csv(request: Request, principal: Reader, dimension: Dimension,
                              status: Annotated[str | None, Query(pattern="^(running|closed)$")] = None) -> Response:
    report = await campaign_report(request, principal, dimension, status)
    return _csv([dimension, "campaigns", *COLUMNS, "currency"],
                [[r["key"], r["campaigns"], *[r[k] for k in COLUMNS], report["currency"]] for r in report["items"]],
                f"campaigns-by-{dimension}.csv")


@router.put("/{campaign_id}/cost", response_model=CampaignView, responses=CONFLICT)
async def record_cost(request: Request, campaign_id: str, body: CostBody, principal: Writer) -> dict[str, Any]:
    """Enter the campaign's whole cost so far (an event; the latest entry counts), in any status."""
    await _visible(request, principal, campaign_id)
    campaign = await run_command(container(request).app.record_cost, campaign_id, amount=str(body.amount),
                                 currency=body.currency, note=body.note, by=principal.user_id,
                                 at=datetime.now(UTC), campaign_id=campaign_id)
    return campaign_view(campaign)


@router.get("/{campaign_id}/indicators", response_model=Indicators)
async def campaign_indicators(request: Request, campaign_id: str, principal: Reader) -> dict[str, Any]:
    """The campaign's indicators as last computed (daily by the scheduler, or on demand), with the same
    figures by manager, team and segment."""
    await _visible(request, principal, campaign_id)
    return await _indicators(request, campaign_id)


@router.post("/{campaign_id}/indicators/refresh", response_model=Indicators, responses=NOT_STARTED)
async def refresh_indicators(request: Request, campaign_id: str, principal: Writer) -> dict[str, Any]:
    """Recompute the campaign's indicators now."""
    await _visible(request, principal, campaign_id)
    done = await asyncio.to_thread(container(request).evaluator.refresh, campaign_id)
    if not done:
        raise Problem(409, "Conflict", "the campaign never started: there is nothing to evaluate",
                      type_=f"{PROBLEM_BASE}not_started")
    return await _indicators(request, campaign_id)


@router.get("/{campaign_id}/indicators.csv", response_model=None, responses=CSV)
async def campaign_indicators_csv(request: Request, campaign_id: str, principal: Reader) -> Response:
    r = await campaign_indicators(request, campaign_id, principal)
    rows = [["campaign", "", *[r[k] for k in COLUMNS], r["currency"], _others(r["other_currencies"])]]
    rows += [[g["dimension"], g["key"], *[g[k] for k in COLUMNS], r["currency"], _others(g["other_currencies"])]
             for g in r["groups"]]
    return _csv(["dimension", "key", *COLUMNS, "currency", "other_currencies"], rows,
                f"campaign-{campaign_id}-indicators.csv")

