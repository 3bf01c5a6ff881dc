"""Campaign routes: create, list, read, edit, audience preview, submit, peer review, start, close, history and
the frozen targets. Every route checks a campaign permission; the audience preview and a campaign's audience
stay within the data scope (of the caller; of the creator for a campaign); a campaign outside the caller's
scope is a 404."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from shared.events.crm_audit import AuditKind
from shared.events.crm_campaigns import CampaignStatus
from shared.runtime import audit
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery, codec_for

from ..domain.campaign import MANUAL, Campaign
from ..projections import queries as q
from .deps import container, data_scope, level, not_found, run_command, sees
from .lists import check_audience_list
from .models import (
    AudienceBody,
    AudiencePreview,
    CampaignLog,
    CampaignPage,
    CampaignView,
    History,
    PlanBody,
    ReviewBody,
    TargetPage,
)
from .views import (
    LOG_COLUMNS,
    LogStream,
    campaign_item,
    campaign_log,
    campaign_view,
    csv_cell,
    history_entry,
    target_item,
)

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
LOG_PAGE = 5000  # facts per page of the log export
Reader = Annotated[Principal, Depends(require(Perm.CampaignRead))]
Writer = Annotated[Principal, Depends(require(Perm.CampaignRead, Perm.CampaignWrite))]
Reviewer = Annotated[Principal, Depends(require(Perm.CampaignRead, Perm.CampaignReview))]
CONFLICT = {409: {"description": "Not allowed in the campaign's status, or a concurrent change."}}
FORBIDDEN_REVIEW = {403: {"description": "The caller created or edited the campaign, or is not at the level the "
                                         "review policy asks for."}}


def _now() -> datetime:
    return datetime.now(UTC)


def _plan(body: PlanBody) -> dict[str, Any]:
    return body.model_dump(mode="json")


async def _visible(request: Request, principal: Principal, campaign_id: str) -> Campaign:
    campaign = await run_command(container(request).app.get_campaign, campaign_id, campaign_id=campaign_id)
    if not sees(principal, campaign):
        raise not_found(campaign_id)
    return campaign


@router.post("", status_code=201, response_model=CampaignView)
async def create_campaign(request: Request, body: PlanBody, principal: Writer) -> dict[str, Any]:
    """A new draft campaign. Its audience is resolved within the creator's data scope."""
    await check_audience_list(request, principal, body.audience)
    c = container(request)
    campaign = await run_command(c.app.create, plan=_plan(body), by=principal.user_id, level=level(request, principal),
                                 scope=data_scope(principal).as_dict(), at=_now())
    return campaign_view(campaign)


@router.get("", response_model=CampaignPage)
async def list_campaigns(request: Request, principal: Reader, status: CampaignStatus | None = None,
                         cursor: CursorQuery = None,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> dict[str, Any]:
    """Campaigns the caller sees, most recently changed first (keyset pages)."""
    c = container(request)
    codec = codec_for(c.settings)
    after = codec.decode(cursor, "campaigns", (datetime, str)) if cursor else None
    limit = min(limit, c.settings.page_max)

    def run() -> list[dict[str, Any]]:
        with c.sessions() as s:
            return q.campaign_page(s, data_scope(principal), status=status, limit=limit,
                                   after=tuple(after) if after else None)  # type: ignore[arg-type]

    rows = await asyncio.to_thread(run)
    items = [campaign_item(r) for r in rows]
    last = items[-1] if len(items) == limit else None
    return {"items": items,
            "next_cursor": codec.encode("campaigns", [last["updated_at"], last["campaign_id"]]) if last else None}


@router.post("/audience/preview", response_model=AudiencePreview)
async def preview_audience(request: Request, body: AudienceBody, principal: Reader) -> dict[str, Any]:
    """How many customers an audience holds now, and a sample, within the caller's data scope."""
    await check_audience_list(request, principal, body)
    scope = data_scope(principal)
    return await _preview(request, body.model_dump(mode="json"), scope, scope)


async def _preview(request: Request, audience: dict[str, Any], scope: q.DataScope,
                   caller: q.DataScope) -> dict[str, Any]:
    """The size within `scope`; the sample within the caller's scope too (a reviewer sees the size of a peer's
    audience, never the peer's customers)."""
    c = container(request)

    def run() -> dict[str, Any]:
        with c.sessions() as s:
            return {"size": q.audience_size(s, audience, scope),
                    "sample": q.audience_sample(s, audience, [scope, caller], c.settings.preview_sample_size)}

    return await asyncio.to_thread(run)


@router.get("/{campaign_id}", response_model=CampaignView)
async def get_campaign(request: Request, campaign_id: str, principal: Reader) -> dict[str, Any]:
    """The campaign; once started, its targets per execution status (as the events are consumed; frozen at the
    close)."""
    campaign = await _visible(request, principal, campaign_id)
    view = campaign_view(campaign)
    if campaign.started_at is not None:
        if campaign.final_counts is not None:
            view["execution"] = {"counts": campaign.final_counts, "final": True}
        else:
            c = container(request)

            def counts() -> dict[str, int]:
                with c.sessions() as s:
                    return q.status_counts(s, campaign_id)

            view["execution"] = {"counts": await asyncio.to_thread(counts), "final": False}
    return view


@router.get("/{campaign_id}/audience/preview", response_model=AudiencePreview)
async def preview_campaign_audience(request: Request, campaign_id: str, principal: Reader) -> dict[str, Any]:
    """The campaign's audience as it would be frozen now (within its creator's data scope); the sample only
    holds customers in the caller's scope too."""
    campaign = await _visible(request, principal, campaign_id)
    return await _preview(request, campaign.plan["audience"], q.DataScope.of(campaign.scope), data_scope(principal))


@router.put("/{campaign_id}", response_model=CampaignView, responses=CONFLICT)
async def edit_campaign(request: Request, campaign_id: str, body: PlanBody, principal: Writer) -> dict[str, Any]:
    """Replace the plan. An approved campaign goes back to review; a rejected one becomes a draft again."""
    await _visible(request, principal, campaign_id)
    await check_audience_list(request, principal, body.audience)
    campaign = await run_command(container(request).app.edit, campaign_id, plan=_plan(body), by=principal.user_id,
                                 at=_now(), campaign_id=campaign_id)
    return campaign_view(campaign)


@router.post("/{campaign_id}/submit", response_model=CampaignView, responses=CONFLICT)
async def submit_campaign(request: Request, campaign_id: str, principal: Writer) -> dict[str, Any]:
    await _visible(request, principal, campaign_id)
    campaign = await run_command(container(request).app.submit, campaign_id, by=principal.user_id, at=_now(),
                                 campaign_id=campaign_id)
    return campaign_view(campaign)


@router.post("/{campaign_id}/review", response_model=CampaignView, responses={**CONFLICT, **FORBIDDEN_REVIEW})
async def review_campaign(request: Request, campaign_id: str, body: ReviewBody,
                          principal: Reviewer) -> dict[str, Any]:
    """Approve or reject (with a comment), by a peer of the creator who did not write the plan."""
    await _visible(request, principal, campaign_id)
    campaign = await run_command(container(request).app.review, campaign_id, by=principal.user_id,
                                 level=level(request, principal), approve=body.decision == "approve",
                                 comment=body.comment, at=_now(), campaign_id=campaign_id)
    return campaign_view(campaign)


@router.post("/{campaign_id}/start", response_model=CampaignView, responses=CONFLICT)
async def start_campaign(request: Request, campaign_id: str, principal: Writer) -> dict[str, Any]:
    """Start an approved campaign now: its audience frozen, one follow-up per customer (the scheduler starts
    approved campaigns at their start time)."""
    await _visible(request, principal, campaign_id)
    campaign, _ = await run_command(container(request).executor.start, campaign_id, by=principal.user_id,
                                    at=_now(), campaign_id=campaign_id)
    return campaign_view(campaign)


@router.post("/{campaign_id}/close", response_model=CampaignView, responses=CONFLICT)
async def close_campaign(request: Request, campaign_id: str, principal: Writer) -> dict[str, Any]:
    """Close a running campaign before its end time (the scheduler closes it then)."""
    await _visible(request, principal, campaign_id)
    campaign, _ = await run_command(container(request).executor.close, campaign_id, by=principal.user_id, at=_now(),
                                    reason=MANUAL, campaign_id=campaign_id)
    return campaign_view(campaign)


@router.get("/{campaign_id}/history", response_model=History)
async def campaign_history(request: Request, campaign_id: str, principal: Reader) -> dict[str, Any]:
    """Every step of the campaign, oldest first: who, when, what and why."""
    await _visible(request, principal, campaign_id)
    events = await run_command(container(request).app.history, campaign_id, campaign_id=campaign_id)
    return {"campaign_id": campaign_id, "items": [history_entry(e) for e in events]}


@router.get("/{campaign_id}/targets", response_model=TargetPage)
async def campaign_targets(request: Request, campaign_id: str, principal: Reader, cursor: CursorQuery = None,
                           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """The frozen audience of a started campaign, by customer id (keyset pages): each target's owner, execution
    status and the delivery of each outreach message."""
    await _visible(request, principal, campaign_id)
    c = container(request)
    codec = codec_for(c.settings)
    after = codec.decode(cursor, "campaign-targets", (str,))[0] if cursor else None
    limit = min(limit, c.settings.page_max)

    def run() -> list[dict[str, Any]]:
        with c.sessions() as s:
            rows = q.target_page(s, campaign_id, limit=limit, after=after)
            statuses, sends = q.target_tracking(s, campaign_id, [r["customer_id"] for r in rows])
        return [target_item(r, statuses.get(r["customer_id"]), sends.get(r["customer_id"], [])) for r in rows]

    items = await asyncio.to_thread(run)
    last = items[-1]["customer_id"] if len(items) == limit else None
    return {"items": items, "next_cursor": codec.encode("campaign-targets", [last]) if last else None}


async def _log(request: Request, campaign_id: str, limit: int | None) -> list[dict[str, Any]]:
    c = container(request)
    events = await run_command(c.app.history, campaign_id, campaign_id=campaign_id)

    def facts() -> list[dict[str, Any]]:
        with c.sessions() as s:
            return q.target_log_rows(s, campaign_id, limit=limit)

    return campaign_log(events, await asyncio.to_thread(facts))


@router.get("/{campaign_id}/log", response_model=CampaignLog)
async def campaign_audit_log(request: Request, campaign_id: str, principal: Reader,
                             limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> dict[str, Any]:
    """Every action on the campaign (its history) and on its targets (outreach requests and delivery results,
    follow-ups, conversions), oldest first; ids only, never personal data. `GET /campaigns/{id}/log.csv` exports
    all of it."""
    await _visible(request, principal, campaign_id)
    items = await _log(request, campaign_id, limit + 1)
    return {"campaign_id": campaign_id, "items": items[:limit], "truncated": len(items) > limit}


@router.get("/{campaign_id}/log.csv", response_class=StreamingResponse,
            responses={200: {"description": "The campaign's whole log as CSV.",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}},
            dependencies=[Depends(audit.audited("campaigns.log.export", AuditKind.export))])
async def campaign_audit_log_csv(request: Request, campaign_id: str, principal: Reader) -> StreamingResponse:
    """The campaign's log (`GET /campaigns/{id}/log`), all of it, as CSV (each export is an audit record). The
    facts are read and written a page at a time (`LOG_PAGE`, keyset on their key): a campaign of 100,000 targets
    logs several facts per target, never held at once. Facts recorded while the export runs are in it if they
    sort after the page being read."""
    await _visible(request, principal, campaign_id)
    c = container(request)
    log = LogStream(await run_command(c.app.history, campaign_id, campaign_id=campaign_id))

    def page(after: tuple[str, str, str] | None) -> list[dict[str, Any]]:
        with c.sessions() as s:
            return q.target_log_rows(s, campaign_id, limit=LOG_PAGE, after=after)

    async def stream() -> AsyncIterator[bytes]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(LOG_COLUMNS)
        after: tuple[str, str, str] | None = None
        while True:
            facts = await asyncio.to_thread(page, after)
            for item in log.take(facts) + ([] if len(facts) == LOG_PAGE else log.rest()):
                writer.writerow([csv_cell(item.get(col)) for col in LOG_COLUMNS])
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
            if len(facts) < LOG_PAGE:
                return
            after = (facts[-1]["key"], facts[-1]["customer_id"], facts[-1]["action"])

    return StreamingResponse(stream(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}-log.csv"'})
