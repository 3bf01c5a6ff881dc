"""Manual import of existing customers and leads (`CustomerImport`): upload a CSV or XLSX file (streamed to
disk, hashed as it comes), follow the job's progress, download the rejected rows (row, field, reason: no value
of the file), list past imports. The worker imports the file (`importer.py`); the same file (by content hash)
uploaded again is the same job and changes nothing."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated, Any

from eventsourcing.persistence import IntegrityError
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select

from shared.runtime.api import Problem, validation_problem
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery, codec_for
from shared.runtime.logging import get_logger
from shared.runtime.uploads import Upload, receive_upload, reject_report

from ..domain.imports import ImportJob, job_id_of
from ..import_files import FORMATS, BadFile, check_header, detect_format
from ..importer import file_path
from .deps import blocking, container, read

UPLOAD_PATH = "/customer-imports"
router = APIRouter(prefix=UPLOAD_PATH, tags=["customer imports"])
log = get_logger("customer.imports")
JobIdPath = Annotated[str, PathParam(pattern=r"^imp_[0-9a-f]{32}$", description="Import job id.")]
can_import = require(Perm.CustomerImport)


class ImportJobOut(BaseModel):
    job_id: str = Field(description="imp_ + the first 32 hex digits of the file's SHA-256.")
    filename: str
    file_format: str = Field(description="csv or xlsx.")
    size: int = Field(description="Bytes.")
    created_by: str
    created_at: datetime
    state: str = Field(description="queued, running, done or failed.")
    rows_read: int = Field(description="Data rows processed so far (the checkpoint).")
    rows_estimate: int | None = Field(default=None, description="Data rows of a CSV file (its line breaks less "
                                                                "the header; a quoted line break counts too); "
                                                                "None for XLSX. For a progress bar.")
    accepted: int
    rejected: int
    updated_at: datetime
    finished_at: datetime | None = None
    error: str | None = None


class ImportPage(BaseModel):
    items: list[ImportJobOut]
    next_cursor: str | None = None


def _job_out(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in ImportJobOut.model_fields}


def _fetch_job(c: Any, job_id: str) -> dict[str, Any] | None:
    j = c.tables.import_job
    row = read(c, lambda s: s.execute(select(j).where(j.c.job_id == job_id)).mappings().first())
    return _job_out(row) if row is not None else None


def _create(c: Any, upload: Upload, filename: str, principal: Principal) -> tuple[dict[str, Any], bool]:
    tmp, sha, size, lines = upload.path, upload.sha256, upload.size, upload.lines
    job_id = job_id_of(sha)
    existing = _fetch_job(c, job_id)
    if existing is not None:
        tmp.unlink(missing_ok=True)
        return existing, False
    try:
        fmt = detect_format(tmp, filename)
        check_header(tmp, fmt)
    except BadFile as exc:
        tmp.unlink(missing_ok=True)
        raise validation_problem(exc.field, str(exc)) from None
    os.replace(tmp, file_path(c.import_dir, job_id, fmt))
    job = ImportJob(job_id=job_id, filename=filename, file_format=fmt, sha256=sha, size=size,
                    created_by=principal.user_id, created_at=datetime.now(UTC),
                    rows_estimate=max(lines - 1, 0) if fmt == "csv" else None, lanes=c.import_lanes)
    try:
        c.app.save(job)
    except IntegrityError:  # the same file uploaded at the same time: one job
        pass
    out = _fetch_job(c, job_id)
    assert out is not None
    return out, True


@router.post("", response_model=ImportJobOut, status_code=201,
             summary="Upload a CSV or XLSX file of customers and leads to import",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string", "format": "binary"}},
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                     "schema": {"type": "string", "format": "binary"}},
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
             responses={200: {"description": "The same file was uploaded before: its job, unchanged.",
                              "model": ImportJobOut}})
async def upload(
    request: Request,
    response: Response,
    filename: str = Query(min_length=1, max_length=200, description="The file's name (.csv or .xlsx)."),
    principal: Principal = Depends(can_import),
    c: Any = Depends(container),
) -> dict[str, Any]:
    upload = await receive_upload(request, c.import_dir, c.settings.import_max_bytes, filename)
    job, created = await blocking(_create, c, upload, filename, principal)
    if created:
        c.wake_importer()
        log.info("import_uploaded", job_id=job["job_id"], size=upload.size, file_format=job["file_format"])
    else:
        response.status_code = 200
    return job


@router.get("", response_model=ImportPage, summary="Past imports, newest first")
async def list_imports(
    cursor: CursorQuery = None,
    limit: int = Query(default=50, ge=1, le=200),
    principal: Principal = Depends(can_import),
    c: Any = Depends(container),
) -> dict[str, Any]:
    j = c.tables.import_job
    stmt = select(j).order_by(j.c.created_at.desc(), j.c.job_id.desc()).limit(limit + 1)
    if cursor:
        at, job_id = codec_for(c.settings).decode(cursor, "imports", [datetime, str])
        stmt = stmt.where(or_(j.c.created_at < at, and_(j.c.created_at == at, j.c.job_id < job_id)))
    rows = read(c, lambda s: s.execute(stmt).mappings().all())
    items = [_job_out(r) for r in rows[:limit]]
    nxt = (codec_for(c.settings).encode("imports", [items[-1]["created_at"], items[-1]["job_id"]])
           if len(rows) > limit else None)
    return {"items": items, "next_cursor": nxt}


@router.get("/{job_id}", response_model=ImportJobOut, summary="An import's progress: rows read, accepted, rejected")
async def get_import(job_id: JobIdPath, principal: Principal = Depends(can_import),
                     c: Any = Depends(container)) -> dict[str, Any]:
    job = await blocking(_fetch_job, c, job_id)
    if job is None:
        raise Problem(404, "Not Found", f"import {job_id!r} not found")
    return job


@router.get("/{job_id}/rejects", summary="The rejected rows of an import as CSV: row, field, reason",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
async def rejects_report(job_id: JobIdPath, principal: Principal = Depends(can_import),
                         c: Any = Depends(container)) -> StreamingResponse:
    if await blocking(_fetch_job, c, job_id) is None:
        raise Problem(404, "Not Found", f"import {job_id!r} not found")
    return reject_report(c.tables.import_reject, "job_id", job_id, lambda stmt: read(c, lambda s: s.execute(stmt).all()),
                         f"{job_id}-rejected.csv")

__all__ = ["FORMATS", "UPLOAD_PATH", "router"]
