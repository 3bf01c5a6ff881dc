"""Assignment rules: ordered, versioned (AssignmentManage with all scope to change; read with
ClientProfileReadOnly or AssignmentManage)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select

from shared.runtime.api import not_found
from shared.runtime.auth import Perm, Principal, require, require_any

from ..projections import tables as t
from ..projections.apply import aware
from .deps import actor_of, container
from .models import RuleIn

router = APIRouter(tags=["rules"])
RULE_ID = r"^[A-Za-z0-9_\-.:]{1,64}$"


_reader = require_any(Perm.ClientProfileReadOnly, Perm.AssignmentManage)


@router.put("/rules/{rule_id}")
async def save_rule(rule_id: str, body: RuleIn, p: Principal = Depends(require(Perm.AssignmentManage)),
                    c: Any = Depends(container)) -> dict[str, Any]:
    """Create or replace a rule; every change is a new version (assignments keep the version they used)."""
    if not re.match(RULE_ID, rule_id):
        raise HTTPException(422, detail="rule_id: must match " + RULE_ID)
    definition = body.model_dump()
    out = await asyncio.to_thread(c.admin.save_rule, actor_of(p), rule_id, definition, c.clock.now())
    c.wake()
    return out


@router.get("/rules")
async def list_rules(p: Principal = Depends(_reader), c: Any = Depends(container)) -> dict[str, Any]:
    def q() -> list[dict[str, Any]]:
        with c.sessions() as s:
            return [aware(r) for r in s.execute(select(t.rules).order_by(t.rules.c.position, t.rules.c.rule_id))
                    .mappings()]

    return {"items": await asyncio.to_thread(q)}


@router.get("/rules/{rule_id}/versions")
async def rule_versions(rule_id: str, p: Principal = Depends(_reader), c: Any = Depends(container)) -> dict[str, Any]:
    v = t.rule_versions

    def q() -> list[dict[str, Any]]:
        with c.sessions() as s:
            return [aware(r) for r in s.execute(select(v).where(v.c.rule_id == rule_id).order_by(v.c.version))
                    .mappings()]

    rows = await asyncio.to_thread(q)
    if not rows:
        raise not_found("rule", rule_id)
    return {"rule_id": rule_id, "items": rows}
