"""The access read model, folded from new events in the transaction that stores them (`app.read_model`), and
from the whole store by a rebuild.

Pure function of the stored events (no clock, no configuration): rebuilding from the log gives the same rows.
A batch reads the rows it touches (one query per table), applies its events to them in memory, and writes
them back with a fixed number of statements, in key order. Each row keeps the version of its aggregate (the
tree's, for nodes): an event at or below it was applied already and is skipped. Revoked assignments, and
every assignment of a member who exited, are deleted (their history is the member's events).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared.runtime.access import dump_permissions, utc
from shared.runtime.sqlrows import insert_ignore, upsert

from ..domain.org import OrgTree
from ..domain.role import Role
from ..domain.staff import Staff
from .tables import staff_profile, tables

Rows = dict[str, dict[str, Any]]


def _load(session: Session, table: Any, key: str, ids: set[str]) -> Rows:
    if not ids:
        return {}
    col = table.c[key]
    return {r[key]: dict(r) for r in session.execute(select(table).where(col.in_(sorted(ids)))).mappings()}


class AccessProjection:
    """`fold(session, new events)`: the application's `read_model`."""

    def __call__(self, session: Session, events: list[Any]) -> None:
        roles = _load(session, tables.role, "role_id", {e.role_id for e in events if isinstance(e, Role.Event)})
        nodes = _load(session, tables.node, "node_id", {e.node_id for e in events
                                                        if isinstance(e, OrgTree.Event) and hasattr(e, "node_id")})
        staff_ids = {e.staff_id for e in events if isinstance(e, Staff.Event)}
        staff = _load(session, tables.staff, "staff_id", staff_ids)
        names: Rows = {}
        held: dict[str, Rows] = {s: {} for s in staff_ids}
        if staff_ids:
            a = tables.assignment
            for r in session.execute(select(a).where(a.c.staff_id.in_(sorted(staff_ids)))).mappings():
                held[r["staff_id"]][r["assignment_id"]] = dict(r)
        for ev in events:
            if isinstance(ev, Role.Event):
                self._role(roles, ev)
            elif isinstance(ev, OrgTree.Event) and hasattr(ev, "node_id"):
                self._node(nodes, ev)
            elif isinstance(ev, Staff.Event):
                self._staff(staff, held, names, ev)
        self._write(session, roles, nodes, staff, held, names)

    @staticmethod
    def _fresh(rows: Rows, key: str, ev: Any) -> bool:
        row = rows.get(key)
        return row is None or row["version"] < ev.originator_version

    def _role(self, roles: Rows, ev: Any) -> None:
        if not self._fresh(roles, ev.role_id, ev):
            return
        at = utc(ev.at)
        if isinstance(ev, Role.Retired):
            if ev.role_id in roles:
                roles[ev.role_id].update(retired=True, version=ev.originator_version, changed_at=at)
            return
        roles[ev.role_id] = {"role_id": ev.role_id, "name": ev.name, "permissions": dump_permissions(ev.permissions),
                             "scope": ev.scope, "node_id": ev.node_id,
                             "retired": roles.get(ev.role_id, {}).get("retired", False),
                             "version": ev.originator_version, "changed_at": at}

    def _node(self, nodes: Rows, ev: Any) -> None:
        if not self._fresh(nodes, ev.node_id, ev):
            return
        at, row = utc(ev.at), nodes.get(ev.node_id)
        if isinstance(ev, OrgTree.NodeAdded):
            nodes[ev.node_id] = {"node_id": ev.node_id, "kind": ev.kind, "parent_id": ev.parent_id, "name": ev.name,
                                 "removed": False, "version": ev.originator_version, "changed_at": at}
        elif row is not None and isinstance(ev, OrgTree.NodeChanged):
            row.update(name=ev.name, parent_id=ev.parent_id, version=ev.originator_version, changed_at=at)
        elif row is not None and isinstance(ev, OrgTree.NodeRemoved):
            row.update(removed=True, version=ev.originator_version, changed_at=at)

    def _staff(self, staff: Rows, held: dict[str, Rows], names: Rows, ev: Any) -> None:
        if not self._fresh(staff, ev.staff_id, ev):
            return
        at, row = utc(ev.at), staff.get(ev.staff_id)
        if isinstance(ev, Staff.Registered):
            staff[ev.staff_id] = {"staff_id": ev.staff_id, "node_id": ev.node_id, "status": "active",
                                  "version": ev.originator_version, "changed_at": at}
            names[ev.staff_id] = {"staff_id": ev.staff_id, "display_name": ev.display_name}
            return
        if row is None:
            return
        row.update(version=ev.originator_version, changed_at=at)
        mine = held[ev.staff_id]
        if isinstance(ev, Staff.Updated):
            row["node_id"] = ev.node_id
            names[ev.staff_id] = {"staff_id": ev.staff_id, "display_name": ev.display_name}
        elif isinstance(ev, Staff.RoleAssigned):
            mine[ev.assignment_id] = {"assignment_id": ev.assignment_id, "staff_id": ev.staff_id,
                                      "role_id": ev.role_id, "node_id": ev.node_id,
                                      "effective_from": utc(ev.effective_from),
                                      "effective_until": utc(ev.effective_until)}
        elif isinstance(ev, Staff.RoleRevoked):
            mine.pop(ev.assignment_id, None)
        elif isinstance(ev, Staff.Exited):
            row["status"] = "exited"
            mine.clear()

    @staticmethod
    def _write(session: Session, roles: Rows, nodes: Rows, staff: Rows, held: dict[str, Rows], names: Rows) -> None:
        upsert(session, tables.role, [roles[k] for k in sorted(roles)], ["role_id"])
        upsert(session, tables.node, [nodes[k] for k in sorted(nodes)], ["node_id"])
        upsert(session, tables.staff, [staff[k] for k in sorted(staff)], ["staff_id"])
        upsert(session, staff_profile, [names[k] for k in sorted(names)], ["staff_id"])
        if held:
            a = tables.assignment
            session.execute(delete(a).where(a.c.staff_id.in_(sorted(held))))
            insert_ignore(session, a, [r for s in sorted(held) for _, r in sorted(held[s].items())],
                          ["assignment_id"])


def permissions_of(row: Any) -> list[str]:
    return list(json.loads(row["permissions"]))
