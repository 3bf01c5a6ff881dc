"""Audience lists: upload a CSV of customer ids (`customer_id` column), follow its validation, download the
rejected rows (row, field, reason). A list is its uploader's (and visible to an all-data scope); a campaign's
audience names it by `list_id` once it is done."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shared.runtime import audit
from shared.runtime.api import Problem, validation_problem
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.logging import get_logger
from shared.runtime.uploads import BadFile, Upload, receive_upload, reject_report

from ..lists import check_header, list_id_of, store
from ..projections.tables import audience_list, list_reject
from .deps import PROBLEM_BASE, container, data_scope

UPLOAD_PATH = "/campaigns/audience-lists"
router = APIRouter(prefix=UPLOAD_PATH, tags=["campaigns"])
log = get_logger("campaigns.api.lists")
Reader = Annotated[Principal, Depends(require(Perm.CampaignRead))]
Writer = Annotated[Principal, Depends(require(Perm.CampaignRead, Perm.CampaignWrite))]
ListIdPath = Annotated[str, PathParam(pattern=r"^lst_[0-9a-f]{32}$", description="Audience list id.")]


class AudienceListOut(BaseModel):
    list_id: str = Field(description="lst_ + a hash of the content and the uploader: the same upload, the same list.")
    filename: str
    size: int = Field(description="Bytes.")
    created_by: str
    state: str = Field(description="queued, running, done or failed.")
    rows_estimate: int = Field(description="Data rows of the file (its line breaks less the header).")
    rows_read: int = Field(description="Rows validated so far (the checkpoint).")
    accepted: int
    rejected: int
    error: str | None = None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None




def fetch(c: Any, list_id: str) -> dict[str, Any] | None:
    with c.sessions() as s:
        row = s.execute(select(audience_list).where(audience_list.c.list_id == list_id)).mappings().first()
    return dict(row) if row else None


def owned(principal: Principal, row: dict[str, Any] | None) -> bool:
    return row is not None and (row["created_by"] == principal.user_id or str(principal.scope) == "all")


def _create(c: Any, upload: Upload, filename: str, principal: Principal) -> tuple[dict[str, Any], bool]:
    list_id = list_id_of(upload.sha256, principal.user_id)
    try:
        if (existing := fetch(c, list_id)) is not None and existing["state"] != "failed":
            return existing, False
        now = datetime.now(UTC)
        try:
            check_header(upload.path)
        except BadFile as exc:
            raise validation_problem(exc.field, str(exc)) from None
        try:
            with c.sessions.begin() as s:
                store(s, list_id, upload.path)  # a failed list uploaded again starts afresh
                s.execute(audience_list.insert().values(
                    list_id=list_id, filename=filename, size=upload.size, created_by=principal.user_id,
                    scope=data_scope(principal).as_dict(), state="queued", rows_estimate=max(upload.lines - 1, 0),
                    rows_read=0, accepted=0, rejected=0, created_at=now, updated_at=now))
                audit.write_ahead(s, c.settings.database_url)  # (tables written directly: no event store's save)
        except IntegrityError:  # the same upload at the same time: one list
            pass
        out = fetch(c, list_id)
        assert out is not None
        return out, True
    finally:
        upload.discard()


@router.post("", response_model=AudienceListOut, status_code=201,
             summary="Upload a CSV of customer ids (a customer_id column) as an audience list",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string", "format": "binary"}}}}},
             responses={200: {"description": "The same file uploaded before by the caller: its list, unchanged.",
                              "model": AudienceListOut}})
async def upload_list(request: Request, response: Response, principal: Writer,
                      filename: Annotated[str, Query(min_length=1, max_length=200)] = "audience.csv") -> dict[str, Any]:
    c = container(request)
    upload = await receive_upload(request, c.list_dir, c.settings.list_max_bytes, filename)
    row, created = await asyncio.to_thread(_create, c, upload, filename, principal)
    if created:
        log.info("audience_list_uploaded", list_id=row["list_id"], size=upload.size)
    else:
        response.status_code = 200
    return row


async def _mine(request: Request, principal: Principal, list_id: str) -> dict[str, Any]:
    row = await asyncio.to_thread(fetch, container(request), list_id)
    if not owned(principal, row):
        raise Problem(404, "Not Found", f"audience list {list_id!r} not found", type_=f"{PROBLEM_BASE}not_found")
    assert row is not None
    return row


@router.get("/{list_id}", response_model=AudienceListOut, summary="An audience list's validation: rows read, "
                                                                  "accepted, rejected")
async def get_list(request: Request, list_id: ListIdPath, principal: Reader) -> dict[str, Any]:
    return await _mine(request, principal, list_id)


@router.get("/{list_id}/rejects", response_class=StreamingResponse,
            summary="The rejected rows as CSV: row, field, reason (malformed, unknown_customer, out_of_scope, "
                    "duplicate)", responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
async def list_rejects(request: Request, list_id: ListIdPath, principal: Reader) -> StreamingResponse:
    await _mine(request, principal, list_id)
    c = container(request)

    def read(stmt: Any) -> Any:
        with c.sessions() as s:
            return s.execute(stmt).all()

    return reject_report(list_reject, "list_id", list_id, read, f"{list_id}-rejected.csv")


async def check_audience_list(request: Request, principal: Principal, audience: Any) -> None:
    """An audience naming a list: the caller's own (or an all-data scope's), validated (422 otherwise)."""
    list_id = getattr(audience, "list_id", None)
    if list_id is None:
        return
    row = await asyncio.to_thread(fetch, container(request), list_id)
    if not owned(principal, row):
        raise validation_problem("audience.list_id", "no such audience list of yours")
    assert row is not None
    if row["state"] != "done":
        raise validation_problem("audience.list_id", f"the audience list is {row['state']}, not done")
