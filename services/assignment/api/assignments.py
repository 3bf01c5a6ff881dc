"""Assigning customers (AssignmentManage) and reading assignments (ClientProfileReadOnly), scope-checked."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import and_, or_, select

from shared.runtime.api import Problem, not_found
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.cursor import CursorQuery

from ..domain.errors import Conflict, Forbidden, NotFound
from ..projections import tables as t
from ..projections.apply import aware, utc
from .deps import actor_of, container, decode_cursor, encode_cursor, scope_clause
from .models import AssignIn, BulkAssignIn, UnassignIn

router = APIRouter(tags=["assignments"])

_REJECTION = {"unknown_customer": NotFound, "out_of_scope": Forbidden}


def _slot_out(row: Any) -> dict[str, Any]:
    r = dict(row)
    r["stage"] = None if r["stage"] == "*" else r["stage"]
    for k in ("assigned_at", "protection_expires_at", "last_follow_up_at"):
        r[k] = utc(r[k])
    r["share"] = str(r["share"].normalize()) if r["share"] is not None else None
    return r


@router.post("/assignments")
async def assign(body: AssignIn, p: Principal = Depends(require(Perm.AssignmentManage)),
                 c: Any = Depends(container)) -> dict[str, Any]:
    [result] = await asyncio.to_thread(c.assigner.assign, actor_of(p), [body.customer_id], body.manager_id,
                                       stage=body.stage.value if body.stage else None, share=body.share)
    c.wake()
    if result.status == "rejected":
        err = _REJECTION.get(result.code or "", Conflict)
        raise err(result.message or "rejected", field="customer_id" if err is not Conflict else "manager_id",
                  code=result.code)
    return result.as_dict()


@router.post("/assignments/bulk")
async def assign_bulk(body: BulkAssignIn, p: Principal = Depends(require(Perm.AssignmentManage)),
                      c: Any = Depends(container)) -> dict[str, Any]:
    """Assigns many customers to one manager. Each customer is applied atomically or rejected with its
    own reason (unknown_customer, over_capacity, out_of_scope, …); the rest are applied."""
    if len(body.customer_ids) > c.settings.bulk_max_customers:
        raise Problem(413, "Payload Too Large", f"customer_ids: at most {c.settings.bulk_max_customers}")
    results = await asyncio.to_thread(c.assigner.assign, actor_of(p), body.customer_ids, body.manager_id,
                                      stage=body.stage.value if body.stage else None, share=body.share,
                                      reason="bulk")
    c.wake()
    return bulk_out(body.manager_id, results)


def bulk_out(manager_id: str, results: list[Any]) -> dict[str, Any]:
    """Per-customer results of a bulk command, with counts by status."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {"manager_id": manager_id, "counts": counts, "results": [r.as_dict() for r in results]}


@router.post("/assignments/unassign")
async def unassign(body: UnassignIn, p: Principal = Depends(require(Perm.AssignmentManage)),
                   c: Any = Depends(container)) -> dict[str, Any]:
    """Returns the customer to the pool (one stage slot, or every slot with `all_stages`)."""
    removed = await asyncio.to_thread(c.assigner.unassign, actor_of(p), body.customer_id,
                                      body.stage.value if body.stage else None, all_stages=body.all_stages)
    c.wake()
    return {"customer_id": body.customer_id, "unassigned": removed}


@router.get("/assignments")
async def list_assignments(manager_id: str | None = None, team_id: str | None = None,
                           cursor: CursorQuery = None, limit: int = Query(100, ge=1, le=1000),
                           p: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                           c: Any = Depends(container)) -> dict[str, Any]:
    """Current assignments, keyset-paginated by (customer_id, stage)."""
    actor, a = actor_of(p), t.assignments
    after = decode_cursor(c, cursor, "assignments", (str, str))

    def q() -> list[dict[str, Any]]:
        clauses = [x for x in (scope_clause(actor, a), a.c.manager_id == manager_id if manager_id else None,
                               a.c.team_id == team_id if team_id else None) if x is not None]
        if after:
            clauses.append(or_(a.c.customer_id > after[0], and_(a.c.customer_id == after[0], a.c.stage > after[1])))
        stmt = select(a).order_by(a.c.customer_id, a.c.stage).limit(limit + 1)
        if clauses:
            stmt = stmt.where(and_(*clauses))
        with c.sessions() as s:
            return [dict(r) for r in s.execute(stmt).mappings()]

    rows = await asyncio.to_thread(q)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(c, "assignments", [rows[-1]["customer_id"], rows[-1]["stage"]]) if more else None
    return {"items": [_slot_out(r) for r in rows], "next_cursor": nxt}


@router.get("/customers/{customer_id}/assignments")
async def customer_assignments(customer_id: str, p: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                               c: Any = Depends(container)) -> dict[str, Any]:
    """Who holds this customer, and why: each slot with its reason, the rule (and that rule version's
    definition) and the routing inputs that chose the manager."""
    actor = actor_of(p)

    def q() -> tuple[list[dict[str, Any]], bool]:
        a, v = t.assignments, t.rule_versions
        with c.sessions() as s:
            rows = [dict(r) for r in s.execute(select(a).where(a.c.customer_id == customer_id)
                                               .order_by(a.c.stage)).mappings()]
            for r in rows:
                if r["rule_id"] is not None:
                    r["rule"] = s.execute(select(v.c.definition, v.c.changed_at).where(
                        v.c.rule_id == r["rule_id"], v.c.version == r["rule_version"])).mappings().first()
            exists = bool(rows) or s.scalar(select(t.customers.c.customer_id)
                                            .where(t.customers.c.customer_id == customer_id)) is not None
            return rows, exists

    rows, exists = await asyncio.to_thread(q)
    visible = [r for r in rows if actor.may_see_slot(r["manager_id"], r["team_id"])]
    if not exists or (rows and not visible):
        raise not_found("customer", customer_id)
    return {"customer_id": customer_id, "in_pool": not rows,
            "slots": [_slot_out(r) | ({"rule": aware(r["rule"])} if r.get("rule") else {}) for r in visible]}


@router.get("/customers/{customer_id}/assignment-history")
async def customer_history(customer_id: str, cursor: CursorQuery = None, limit: int = Query(100, ge=1, le=1000),
                           p: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                           c: Any = Depends(container)) -> dict[str, Any]:
    """Every assignment, unassignment, follow-up reset and routing outcome, oldest first. Visible to
    whoever holds, or once held, the customer (own / team scope), and to all-scope readers."""
    actor, h = actor_of(p), t.history
    after = decode_cursor(c, cursor, f"assignment-history:{customer_id}", (int,))

    def q() -> tuple[bool, list[dict[str, Any]]]:
        with c.sessions() as s:
            visible = True
            mine = scope_clause(actor, h)  # held now, or once, by the caller (own) / the caller's teams (team)
            if mine is not None:
                visible = s.scalar(select(h.c.version).where(h.c.customer_id == customer_id, mine).limit(1)) is not None
            stmt = select(h).where(h.c.customer_id == customer_id).order_by(h.c.version).limit(limit + 1)
            if after:
                stmt = stmt.where(h.c.version > after[0])
            return visible, [dict(r) for r in s.execute(stmt).mappings()]

    visible, rows = await asyncio.to_thread(q)
    if not rows or not visible:
        raise not_found("customer", customer_id)
    more = len(rows) > limit
    rows = rows[:limit]
    for r in rows:
        r["at"] = utc(r["at"])
        r["stage"] = None if r["stage"] == "*" else r["stage"]
        r["share"] = str(r["share"].normalize()) if r["share"] is not None else None
    return {"customer_id": customer_id, "items": rows,
            "next_cursor": encode_cursor(c, f"assignment-history:{customer_id}", [rows[-1]["version"]])
            if more else None}
