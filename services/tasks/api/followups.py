"""Follow-up records: record (from a task or directly), history per customer, batch remarks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.engine import RowMapping

from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery
from shared.runtime.logging import get_logger

from ..domain.nodes import TaskNotFound, TaskNotOpen
from ..projections.tables import follow_ups
from .deps import (
    Container,
    after,
    conflict,
    container,
    customer_in_scope,
    decode_cursor,
    encode_cursor,
    not_found,
    run_command,
)
from .models import BatchRemarksIn, FollowUpIn, FollowUpOut, Page, RecordedOut
from .tasks import load_task

router = APIRouter(tags=["follow-ups"])
log = get_logger("tasks.api")


async def _record(c: Container, principal: Principal, customer_id: str, body: FollowUpIn,
                  correlation_id: str | None) -> dict[str, Any]:
    task_id = str(body.task_id) if body.task_id else None
    now = datetime.now(UTC)
    follow_up, scheduled = await run_command(
        lambda: c.app.record_follow_up(
            customer_id=customer_id, manager_id=principal.user_id, task_id=task_id, intent=body.intent,
            tier=body.tier, contact_methods=[m.value for m in body.contact_methods],
            next_follow_up_at=body.next_follow_up_at, tags=body.tags, remarks=body.remarks, at=now,
            correlation_id=correlation_id,
        ),
        {TaskNotFound: lambda _: not_found("task", task_id or ""), TaskNotOpen: lambda exc: conflict(str(exc))},
        what="task list",
    )
    c.wake()
    log.info("follow_up_recorded", follow_up_id=str(follow_up.id), customer_id=customer_id, task_id=task_id,
             scheduled_task_id=scheduled)
    return RecordedOut(follow_up_id=str(follow_up.id), customer_id=customer_id, completed_task_id=task_id,
                       scheduled_task_id=scheduled, recorded_at=now).model_dump(mode="json")


@router.post("/customers/{customer_id}/follow-ups", status_code=201, response_model=RecordedOut,
             summary="Record a follow-up with a customer (completes `task_id` if given)")
async def record_follow_up(
    customer_id: str,
    body: FollowUpIn,
    request: Request,
    principal: Principal = Depends(require(Perm.TaskWrite)),
    c: Container = Depends(container),
) -> dict[str, Any]:
    await asyncio.to_thread(customer_in_scope, c, principal, customer_id)
    if body.task_id is not None:
        task = await asyncio.to_thread(load_task, c, principal, str(body.task_id))
        if task["customer_id"] != customer_id:
            raise not_found("task", str(body.task_id))
    return await _record(c, principal, customer_id, body, request.state.correlation_id)


@router.post("/tasks/{task_id}/follow-ups", status_code=201, response_model=RecordedOut,
             summary="Follow up on a task: records a follow-up and completes the task")
async def follow_up_task(
    task_id: str,
    body: FollowUpIn,
    request: Request,
    principal: Principal = Depends(require(Perm.TaskWrite)),
    c: Container = Depends(container),
) -> dict[str, Any]:
    task = await asyncio.to_thread(load_task, c, principal, task_id)
    if body.task_id is not None and str(body.task_id) != task_id:
        raise conflict("task_id in the body differs from the task in the path")
    if task["status"] != "open":
        raise conflict(f"task is already {task['status']}")
    body = body.model_copy(update={"task_id": task_id})
    return await _record(c, principal, task["customer_id"], body, request.state.correlation_id)


@router.get("/customers/{customer_id}/follow-ups", response_model=Page,
            summary="Follow-up records and remarks of a customer, newest first")
async def follow_up_history(
    customer_id: str,
    cursor: CursorQuery = None,
    limit: int = Query(default=50, ge=1, le=200),
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Container = Depends(container),
) -> dict[str, Any]:
    await asyncio.to_thread(customer_in_scope, c, principal, customer_id)
    stmt = select(follow_ups).where(follow_ups.c.customer_id == customer_id)
    if cursor:
        at, fid = decode_cursor(c, cursor, "follow-ups:" + customer_id, (datetime, str))
        stmt = stmt.where(after((follow_ups.c.recorded_at, follow_ups.c.follow_up_id), (at, fid), descending=True))
    stmt = stmt.order_by(follow_ups.c.recorded_at.desc(), follow_ups.c.follow_up_id.desc()).limit(limit + 1)

    def query() -> list[RowMapping]:
        with c.sessions() as s:
            return list(s.execute(stmt).mappings())

    rows = await asyncio.to_thread(query)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [FollowUpOut(**dict(r)).model_dump(mode="json") for r in rows]
    return {"items": items,
            "next_cursor": encode_cursor(c, "follow-ups:" + customer_id,
                                         (rows[-1]["recorded_at"], rows[-1]["follow_up_id"])) if more else None}


@router.post("/follow-ups/batch-remarks", status_code=201, summary="Add the same remark to several customers")
async def batch_remarks(
    body: BatchRemarksIn,
    request: Request,
    principal: Principal = Depends(require(Perm.TaskWrite)),
    c: Container = Depends(container),
) -> dict[str, Any]:
    for customer_id in body.customer_ids:
        await asyncio.to_thread(customer_in_scope, c, principal, customer_id)
    notes = await asyncio.to_thread(
        c.app.batch_remarks, customer_ids=body.customer_ids, manager_id=principal.user_id, remarks=body.remarks,
        at=datetime.now(UTC), correlation_id=request.state.correlation_id,
    )
    c.wake()
    log.info("batch_remarks_recorded", count=len(notes))
    return {"items": [{"follow_up_id": str(n.id), "customer_id": n.customer_id} for n in notes]}
