"""Today's Summary rolled up the organisation tree (issue #20: "aggregated figures by level"): a node's
figures and one row per child node, each the sum of the team aggregates (`sm_daily_count`, manager `*`) of
the teams at or under it. The tree is the access directory's (`shared.runtime.access_directory.DIRECTORY`,
folded from crm.access.events); only the teams the caller may see count (`visible`, None = every team)."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.runtime.access import AccessTables, Node, teams_under

from ..domain.clock import Comparison
from .audience import Audience, OutOfScope
from .summary import compared_metrics


def _nodes(session: Session, tables: AccessTables) -> dict[str, dict[str, Any]]:
    n = tables.node.c
    rows = session.execute(select(n.node_id, n.kind, n.parent_id, n.name).where(n.removed.is_(False))).mappings()
    return {r["node_id"]: dict(r) for r in rows}


def rollup(session: Session, tables: AccessTables, tz: ZoneInfo, day: date, node_id: str | None,
           visible: tuple[str, ...] | None) -> dict[str, Any]:
    """The node (default: the company) and its children; a node (or child) with no visible team under it is
    out of scope (the node: OutOfScope, answered 404; a child: left out)."""
    nodes = _nodes(session, tables)
    tree = {k: Node(k, v["kind"], v["parent_id"]) for k, v in nodes.items()}
    if node_id is None:
        roots = sorted(k for k, v in nodes.items() if v["parent_id"] is None or v["parent_id"] not in nodes)
        if not roots:
            raise OutOfScope("the organisation tree is empty")
        node_id = roots[0]
    if node_id not in nodes:
        raise OutOfScope(f"organisation node {node_id!r} not found")
    cmp = Comparison(day)

    def row(key: str) -> dict[str, Any] | None:
        teams = teams_under(tree, key)
        if visible is not None:
            teams &= set(visible)
        if not teams:
            return None
        n = nodes[key]
        return {"node_id": key, "kind": n["kind"], "name": n["name"], "teams": sorted(teams),
                "metrics": compared_metrics(session, cmp, Audience(teams=tuple(sorted(teams))))}

    top = row(node_id)
    if top is None:
        raise OutOfScope(f"organisation node {node_id!r} not found")
    children = [r for r in (row(k) for k in sorted(nodes, key=lambda k: (nodes[k]["name"], k))
                            if nodes[k]["parent_id"] == node_id) if r is not None]
    return {"date": day.isoformat(), "yesterday": cmp.yesterday.isoformat(), "last_week": cmp.last_week.isoformat(),
            "timezone": tz.key, "node": top, "children": children}
