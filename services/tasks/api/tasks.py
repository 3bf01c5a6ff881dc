"""Tasks: list by node (mine / team / queue / all, overdue), counts per node, detail with the card."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql import ColumnElement

from shared.runtime.auth import Perm, Principal, Scope, require
from shared.runtime.cursor import CursorQuery

from ..domain.nodes import Node
from ..projections.tables import campaign_names, customers, tasks
from .deps import Container, after, all_of, container, decode_cursor, encode_cursor, mask_name, not_found
from .models import CardOut, NodeCount, Page, TaskDetailOut, TaskOut

router = APIRouter(prefix="/tasks", tags=["tasks"])


class View(StrEnum):
    mine = "mine"  # assigned to me
    team = "team"  # my teams' tasks (assigned or queued)
    queue = "queue"  # waiting for an assignee (my teams' queue; the pool queue for scope all)
    all = "all"


class Status(StrEnum):
    open = "open"
    completed = "completed"
    converted = "converted"
    cancelled = "cancelled"


ALLOWED_VIEWS = {Scope.own: {View.mine}, Scope.team: {View.mine, View.team, View.queue},
                 Scope.all: set(View)}


def view_clause(principal: Principal, view: View) -> ColumnElement[bool] | None:
    if view not in ALLOWED_VIEWS[principal.scope]:
        raise HTTPException(403, detail=f"view={view.value} is outside your data scope")
    teams = list(principal.teams)
    if view == View.mine:
        return tasks.c.assignee_id == principal.user_id
    if view == View.team:
        return tasks.c.team_id.in_(teams) if principal.scope == Scope.team else tasks.c.team_id.is_not(None)
    if view == View.queue:
        queued = tasks.c.assignee_id.is_(None)
        return and_(queued, tasks.c.team_id.in_(teams)) if principal.scope == Scope.team else queued
    return None


# the task rows with their campaign's name (campaign follow-ups; null until the campaign's name is known)
TASK_ROWS = select(tasks, campaign_names.c.name.label("campaign_name")).select_from(
    tasks.outerjoin(campaign_names, campaign_names.c.campaign_id == tasks.c.campaign_id))


def task_visible(principal: Principal, row: RowMapping) -> bool:
    if principal.scope == Scope.all:
        return True
    if row["assignee_id"] == principal.user_id:
        return True
    return principal.scope == Scope.team and row["team_id"] in principal.teams


def task_out(row: RowMapping, now: datetime) -> dict[str, Any]:
    return TaskOut(
        task_id=row["task_id"], customer_id=row["customer_id"], node=row["node"], status=row["status"],
        assignee_id=row["assignee_id"], team_id=row["team_id"], due_at=row["due_at"],
        overdue=row["status"] == "open" and row["due_at"] < now, created_at=row["created_at"],
        closed_at=row["closed_at"], cause_event_id=row["cause_event_id"], campaign_id=row.get("campaign_id"),
        campaign_name=row.get("campaign_name"), event_key=row.get("event_key"),
    ).model_dump(mode="json")


def card_out(row: RowMapping, principal: Principal) -> CardOut:
    return CardOut(**{k: row[k] for k in CardOut.model_fields if k != "name"},
                   name=mask_name(row["name"], principal))


@router.get("", response_model=Page, summary="Tasks of one node (or all nodes), most urgent first")
async def list_tasks(
    node: Node | None = None,
    view: View = View.mine,
    status: Status = Status.open,
    overdue: bool | None = Query(default=None, description="Only overdue (true) or not overdue (false)."),
    customer_id: str | None = Query(default=None, max_length=64),
    team_id: str | None = Query(default=None, max_length=64),
    cursor: CursorQuery = None,
    limit: int = Query(default=50, ge=1, le=200),
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Container = Depends(container),
) -> dict[str, Any]:
    now = datetime.now(UTC)
    clauses: list[ColumnElement[bool] | None] = [view_clause(principal, view), tasks.c.status == status.value]
    if node is not None:
        clauses.append(tasks.c.node == node.value)
    if overdue is not None:
        clauses.append(tasks.c.due_at < now if overdue else tasks.c.due_at >= now)
    if customer_id is not None:
        clauses.append(tasks.c.customer_id == customer_id)
    if team_id is not None:
        clauses.append(tasks.c.team_id == team_id)
    if cursor:
        due, tid = decode_cursor(c, cursor, "tasks", (datetime, str))
        clauses.append(after((tasks.c.due_at, tasks.c.task_id), (due, tid)))
    stmt = TASK_ROWS.where(all_of(*clauses)).order_by(tasks.c.due_at, tasks.c.task_id).limit(limit + 1)

    def query() -> list[RowMapping]:
        with c.sessions() as s:
            return list(s.execute(stmt).mappings())

    rows = await asyncio.to_thread(query)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [task_out(r, now) for r in rows],
            "next_cursor": encode_cursor(c, "tasks", (rows[-1]["due_at"], rows[-1]["task_id"])) if more else None}


@router.get("/counts", response_model=list[NodeCount], summary="Open and overdue tasks per node (list cards)")
async def task_counts(
    view: View = View.mine,
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Container = Depends(container),
) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    stmt = (
        select(tasks.c.node, func.count().label("open"),
               func.coalesce(func.sum(case((tasks.c.due_at < now, 1), else_=0)), 0).label("overdue"))
        .where(all_of(view_clause(principal, view), tasks.c.status == "open"))
        .group_by(tasks.c.node)
    )

    def query() -> dict[str, tuple[int, int]]:
        with c.sessions() as s:
            return {r.node: (int(r.open), int(r.overdue)) for r in s.execute(stmt)}

    counts = await asyncio.to_thread(query)
    return [{"node": n.value, "open": counts.get(n.value, (0, 0))[0], "overdue": counts.get(n.value, (0, 0))[1]}
            for n in Node]


@router.get("/{task_id}", response_model=TaskDetailOut, summary="A task with the customer's card")
async def get_task(
    task_id: str,
    principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
    c: Container = Depends(container),
) -> dict[str, Any]:
    def query() -> tuple[RowMapping | None, RowMapping | None]:
        with c.sessions() as s:
            task = s.execute(TASK_ROWS.where(tasks.c.task_id == task_id)).mappings().first()
            card = None
            if task is not None:
                card = s.execute(select(customers).where(
                    customers.c.customer_id == task["customer_id"])).mappings().first()
            return task, card

    task, card = await asyncio.to_thread(query)
    if task is None or not task_visible(principal, task):
        raise not_found("task", task_id)
    out = task_out(task, datetime.now(UTC))
    out["customer"] = card_out(card, principal).model_dump(mode="json") if card is not None else None
    return out


def load_task(c: Container, principal: Principal, task_id: str) -> RowMapping:
    with c.sessions() as s:
        task = s.execute(TASK_ROWS.where(tasks.c.task_id == task_id)).mappings().first()
    if task is None or not task_visible(principal, task):
        raise not_found("task", task_id)
    return task
