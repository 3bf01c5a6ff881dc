"""Home dashboard: workflow node counts, account-opening duration and success rate, shortcuts, changelog."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery, codec_for, naive_utc
from shared.runtime.logging import get_logger

from ..queries.dashboard import account_opening, changelog_page, node_counts, shortcuts
from .deps import DAY_RANGE, audience, check_interval, container, local_today, read
from .models import ChangelogIn

router = APIRouter(prefix="/dashboard", tags=["home dashboard"])
log = get_logger("summary.api")
Reader = Annotated[Principal, Depends(require(Perm.ClientProfileReadOnly))]
Poster = Annotated[Principal, Depends(require(Perm.ChangelogPost))]


@router.get("/nodes")
async def get_nodes(request: Request, principal: Reader, manager_id: str | None = None,
                    team_id: str | None = None) -> dict[str, Any]:
    """Customers per lifecycle stage, KYC cases per state, open tasks per node (in the caller's scope)."""
    c = container(request)
    return await read(c, node_counts, audience(principal, manager_id, team_id))


@router.get("/account-opening")
async def get_account_opening(
    request: Request, principal: Reader, first: Annotated[date | None, Query(alias="from", **DAY_RANGE)] = None,
    last: Annotated[date | None, Query(alias="to", **DAY_RANGE, description="On or after `from`.")] = None, manager_id: str | None = None,
    team_id: str | None = None,
) -> dict[str, Any]:
    """Mean account-opening durations and success rate (opened / decided) over local dates [from, to]
    (default: the last 30 days)."""
    c = container(request)
    first, last = check_interval(c, first, last)
    return await read(c, account_opening, c.settings.tz, first, last, audience(principal, manager_id, team_id))


@router.get("/shortcuts")
async def get_shortcuts(request: Request, principal: Reader, manager_id: str | None = None,
                        team_id: str | None = None) -> dict[str, Any]:
    """Counts the shortcut tiles show: follow-ups due / overdue, open tasks, open KYC cases, today's
    registrations, openings and fundings, and whether the caller wrote today's report."""
    c = container(request)
    return await read(c, shortcuts, c.settings.tz, local_today(c), audience(principal, manager_id, team_id),
                      principal.user_id)


@router.get("/changelog")
async def list_changelog(request: Request, principal: Reader,
                         cursor: CursorQuery = None,
                         limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict[str, Any]:
    """System changelog, newest first."""
    c = container(request)
    codec = codec_for(c.settings)
    before = codec.decode(cursor, "changelog", (datetime, str)) if cursor else None
    if before:
        before = [naive_utc(before[0]), before[1]]
    rows = await read(c, changelog_page, limit=limit + 1, before=before)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = codec.encode("changelog", list(rows[-1]["_key"])) if more else None
    return {"items": [{k: v for k, v in r.items() if k != "_key"} for r in rows], "next_cursor": next_cursor}


@router.post("/changelog", status_code=201)
async def post_changelog(request: Request, body: ChangelogIn, principal: Poster) -> dict[str, Any]:
    c = container(request)
    entry = await asyncio.to_thread(c.app.post_changelog, title=body.title, body=body.body,
                                    version_label=body.version_label, by=principal.user_id)
    log.info("changelog_posted", entry_id=str(entry.id), posted_by=principal.user_id)
    return {"entry_id": str(entry.id), "posted_at": entry.created_on, "posted_by": entry.posted_by,
            "title": entry.title, "body": entry.body, "version_label": entry.version_label, "withdrawn": False}


@router.post("/changelog/{entry_id}/withdraw")
async def withdraw_changelog(request: Request, entry_id: uuid.UUID, principal: Poster) -> dict[str, Any]:
    c = container(request)
    entry = await asyncio.to_thread(c.app.withdraw_changelog, entry_id, by=principal.user_id)
    if entry is None:
        raise HTTPException(404, detail=f"changelog entry {str(entry_id)!r} not found")
    log.info("changelog_withdrawn", entry_id=str(entry_id), withdrawn_by=principal.user_id)
    return {"entry_id": str(entry.id), "withdrawn": True}
