"""Institutions customers come through (institutional association, a manual import's `institution_id`):
create and edit (`AssignmentManage`), list (`ClientProfileReadOnly`). Each change is stored on the
Institution aggregate and published as `crm.customer.institution_changed`; the customer list filters by
`institution_id`, routing rules in the assignment service match it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from shared.runtime.api import Problem, run_command
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.commands import save_retrying
from shared.runtime.cursor import CursorQuery, codec_for
from shared.runtime.logging import get_logger
from shared.runtime.types import UtcDatetime

from ..domain.imports import Institution, institution_uuid
from .deps import container, read

router = APIRouter(prefix="/institutions", tags=["institutions"])
log = get_logger("customer.institutions")
TYPE_BASE = "urn:whale-crm:problem:customer:"
EntityIdStr = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-.:]{1,64}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class InstitutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name = Field(description="Display name.")
    manager_id: EntityIdStr | None = Field(default=None, description="The account manager who looks after it.")
    team_id: EntityIdStr | None = Field(default=None, description="The team that looks after it.")


class InstitutionCreate(InstitutionIn):
    institution_id: EntityIdStr = Field(description="The institution's id (as in import files and rules).")


class InstitutionOut(BaseModel):
    institution_id: str
    name: str
    manager_id: str | None = None
    team_id: str | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class InstitutionPage(BaseModel):
    items: list[InstitutionOut]
    next_cursor: str | None = None


class InstitutionNotFound(LookupError):
    pass


class InstitutionExists(Exception):
    pass


def _row(c: Any, institution_id: str) -> dict[str, Any] | None:
    t = c.tables.institution
    row = read(c, lambda s: s.execute(select(t).where(t.c.institution_id == institution_id)).mappings().first())
    return dict(row) if row is not None else None


def _create(c: Any, body: InstitutionCreate, principal: Principal) -> dict[str, Any]:
    def step() -> tuple[Any, None]:
        if c.app.load(institution_uuid(body.institution_id)) is not None:
            raise InstitutionExists(body.institution_id)
        return Institution(institution_id=body.institution_id, name=body.name, manager_id=body.manager_id,
                           team_id=body.team_id, by=principal.user_id, at=datetime.now(UTC)), None

    save_retrying(c.app, step)
    log.info("institution_created", institution_id=body.institution_id)
    out = _row(c, body.institution_id)
    assert out is not None
    return out


def _update(c: Any, institution_id: str, body: InstitutionIn, principal: Principal) -> dict[str, Any]:
    def step() -> tuple[Any, None]:
        inst = c.app.load(institution_uuid(institution_id))
        if inst is None:
            raise InstitutionNotFound(institution_id)
        inst.update(institution_id=institution_id, name=body.name, manager_id=body.manager_id,
                    team_id=body.team_id, by=principal.user_id, at=datetime.now(UTC))
        return inst, None

    save_retrying(c.app, step)
    log.info("institution_updated", institution_id=institution_id)
    out = _row(c, institution_id)
    assert out is not None
    return out


def _problem(exc: Exception) -> Problem | None:
    if isinstance(exc, InstitutionNotFound):
        return Problem(404, "Not Found", f"institution {exc.args[0]!r} not found")
    if isinstance(exc, InstitutionExists):
        return Problem(409, "Conflict", f"institution {exc.args[0]!r} exists", type_=TYPE_BASE + "institution_exists")
    return None


@router.post("", response_model=InstitutionOut, status_code=201, summary="Create an institution")
async def create_institution(body: InstitutionCreate,
                             principal: Principal = Depends(require(Perm.AssignmentManage)),
                             c: Any = Depends(container)) -> dict[str, Any]:
    return await run_command(lambda: _create(c, body, principal), TYPE_BASE, what="institution", problem=_problem)


@router.put("/{institution_id}", response_model=InstitutionOut, summary="Edit an institution")
async def update_institution(institution_id: EntityIdStr, body: InstitutionIn,
                             principal: Principal = Depends(require(Perm.AssignmentManage)),
                             c: Any = Depends(container)) -> dict[str, Any]:
    return await run_command(lambda: _update(c, institution_id, body, principal), TYPE_BASE, what="institution",
                             problem=_problem)


@router.get("", response_model=InstitutionPage, summary="Institutions by name")
async def list_institutions(cursor: CursorQuery = None, limit: int = Query(default=100, ge=1, le=200),
                            principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                            c: Any = Depends(container)) -> dict[str, Any]:
    t = c.tables.institution
    stmt = select(t).order_by(t.c.name, t.c.institution_id).limit(limit + 1)
    if cursor:
        name, iid = codec_for(c.settings).decode(cursor, "institutions", [str, str])
        stmt = stmt.where((t.c.name > name) | ((t.c.name == name) & (t.c.institution_id > iid)))
    rows = [dict(r) for r in read(c, lambda s: s.execute(stmt).mappings().all())]
    items = rows[:limit]
    nxt = (codec_for(c.settings).encode("institutions", [items[-1]["name"], items[-1]["institution_id"]])
           if len(rows) > limit else None)
    return {"items": items, "next_cursor": nxt}
