"""Reads of the access read model for the API: keyset pages (by id), one role / member, what still points at
an organisation node, and a member's effective access (the kit's `shared.runtime.access`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from shared.runtime.access import EffectiveAccess, load_access, utc

from .fold import permissions_of
from .tables import staff_profile, tables


def node_in_use(sessions: sessionmaker[Session], node_id: str) -> str | None:
    s, r = tables.staff, tables.role
    with sessions() as session:
        member = session.scalar(select(s.c.staff_id).where(s.c.node_id == node_id, s.c.status == "active").limit(1))
        if member is not None:
            return f"staff member {member!r}"
        role = session.scalar(select(r.c.role_id).where(r.c.node_id == node_id, r.c.retired.is_(False)).limit(1))
        if role is not None:
            return f"role {role!r}"
        a = tables.assignment
        held = session.scalar(select(a.c.assignment_id).where(a.c.node_id == node_id).limit(1))
        return f"assignment {held!r}" if held is not None else None


def _page(session: Session, table: Table, key: str, after: str | None, limit: int,
          where: Any = None) -> tuple[list[dict[str, Any]], str | None]:
    col = table.c[key]
    stmt = select(table).order_by(col).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(col > after)
    if where is not None:
        stmt = stmt.where(where)
    rows = [dict(r) for r in session.execute(stmt).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1][key] if more and rows else None)


def role_view(row: Any) -> dict[str, Any]:
    return {"role_id": row["role_id"], "name": row["name"], "permissions": permissions_of(row),
            "scope": row["scope"], "node_id": row["node_id"], "retired": row["retired"], "version": row["version"]}


def node_view(row: Any) -> dict[str, Any]:
    return {"node_id": row["node_id"], "kind": row["kind"], "parent_id": row["parent_id"], "name": row["name"]}


def roles_page(session: Session, after: str | None, limit: int, retired: bool) -> tuple[list[dict[str, Any]], str | None]:
    where = None if retired else tables.role.c.retired.is_(False)
    rows, last = _page(session, tables.role, "role_id", after, limit, where)
    return [role_view(r) for r in rows], last


def nodes_page(session: Session, after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    rows, last = _page(session, tables.node, "node_id", after, limit, tables.node.c.removed.is_(False))
    return [node_view(r) for r in rows], last


def role_row(session: Session, role_id: str) -> dict[str, Any] | None:
    row = session.execute(select(tables.role).where(tables.role.c.role_id == role_id)).mappings().first()
    return role_view(row) if row is not None else None


def _assignments(session: Session, staff_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    a = tables.assignment
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in staff_ids}
    stmt = select(a).where(a.c.staff_id.in_(staff_ids)).order_by(a.c.staff_id, a.c.assignment_id)
    for r in session.execute(stmt).mappings():
        out[r["staff_id"]].append({"assignment_id": r["assignment_id"], "role_id": r["role_id"],
                                   "node_id": r["node_id"], "effective_from": utc(r["effective_from"]),
                                   "effective_until": utc(r["effective_until"])})
    return out


def _staff_select() -> Any:
    s, p = tables.staff, staff_profile
    return select(s.c.staff_id, s.c.node_id, s.c.status, s.c.version, p.c.display_name).join(
        p, p.c.staff_id == s.c.staff_id)


def staff_page(session: Session, after: str | None, limit: int, node_id: str | None,
               status: str | None) -> tuple[list[dict[str, Any]], str | None]:
    s = tables.staff
    stmt = _staff_select().order_by(s.c.staff_id).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(s.c.staff_id > after)
    if node_id is not None:
        stmt = stmt.where(s.c.node_id == node_id)
    if status is not None:
        stmt = stmt.where(s.c.status == status)
    rows = [dict(r) for r in session.execute(stmt).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    held = _assignments(session, [r["staff_id"] for r in rows])
    for r in rows:
        r["assignments"] = held[r["staff_id"]]
    return rows, (rows[-1]["staff_id"] if more and rows else None)


def staff_row(session: Session, staff_id: str) -> dict[str, Any] | None:
    row = session.execute(_staff_select().where(tables.staff.c.staff_id == staff_id)).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["assignments"] = _assignments(session, [staff_id])[staff_id]
    return out


def effective(session: Session, staff_id: str, now: datetime) -> EffectiveAccess:
    return load_access(session, tables, staff_id, now)
