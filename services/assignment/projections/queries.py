"""Read-model queries used by commands and the scheduler (synchronous).

The read models are eventually consistent; commands only use them to *find* candidates (which customers
exist, whose protection period may have expired, which customers a resigned manager still holds) and
always decide on the aggregates themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from . import tables as t
from .apply import utc


class Directory:
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def existing_customers(self, customer_ids: Iterable[str]) -> set[str]:
        return self._in(t.customers.c.customer_id, customer_ids)

    def _in(self, column, ids: Iterable[str]) -> set[str]:  # type: ignore[no-untyped-def]
        ids = list(dict.fromkeys(ids))
        found: set[str] = set()
        with self.sessions() as s:
            for i in range(0, len(ids), 900):
                found.update(s.scalars(select(column).distinct().where(column.in_(ids[i:i + 900]))))
        return found

    def routing_facts(self, customer_ids: list[str]) -> dict[str, dict[str, Any]]:
        """What the rules look at, per known customer (channel, regions, language), and `segments`: the saved
        segments it is in now, for a customer with any membership known (none known: not given, so the
        segments its slot was routed with stand)."""
        c, m = t.customers.c, t.customer_segments.c
        ids = list(customer_ids)
        with self.sessions() as s:
            rows = s.execute(select(c.customer_id, c.channel, c.user_region, c.active_region, c.language)
                             .where(c.customer_id.in_(ids))).mappings()
            facts = {r["customer_id"]: dict(r) for r in rows}
            for cid, segment_id, member in s.execute(select(m.customer_id, m.segment_id, m.member)
                                                     .where(m.customer_id.in_(ids))
                                                     .order_by(m.customer_id, m.segment_id)):
                segments = facts.setdefault(cid, {"customer_id": cid}).setdefault("segments", [])
                if member:
                    segments.append(segment_id)
            return facts

    def holdings(self, manager_id: str, limit: int = 1000, after: str | None = None) -> list[str]:
        """Customers with at least one slot held by the manager (keyset-paginated by customer id)."""
        a = t.assignments
        stmt = select(a.c.customer_id).distinct().where(a.c.manager_id == manager_id)
        if after is not None:
            stmt = stmt.where(a.c.customer_id > after)
        with self.sessions() as s:
            return list(s.scalars(stmt.order_by(a.c.customer_id).limit(limit)))

    def due(self, now: datetime, limit: int) -> list[str]:
        a = t.assignments
        with self.sessions() as s:
            rows = s.execute(select(a.c.customer_id).where(a.c.protection_expires_at <= now)
                             .order_by(a.c.protection_expires_at, a.c.customer_id).limit(limit))
            return list(dict.fromkeys(r[0] for r in rows))

    def stale_teams(self, manager_id: str | None = None, limit: int = 1000) -> list[str]:
        """Customers whose slot still carries a team their (non-resigned) manager has left."""
        m, a = t.managers, t.assignments
        stmt = (select(a.c.customer_id).distinct().join(m, m.c.manager_id == a.c.manager_id)
                .where(m.c.status != "resigned",
                       func.coalesce(a.c.team_id, "") != func.coalesce(m.c.team_id, "")))
        if manager_id is not None:
            stmt = stmt.where(a.c.manager_id == manager_id)
        with self.sessions() as s:
            return list(s.scalars(stmt.order_by(a.c.customer_id).limit(limit)))

    def resigned_with_customers(self) -> list[str]:
        m, a = t.managers, t.assignments
        with self.sessions() as s:
            return list(s.scalars(select(a.c.manager_id).distinct().join(m, m.c.manager_id == a.c.manager_id)
                                  .where(m.c.status == "resigned")))

    def pool_due(self, now: datetime, limit: int) -> list[str]:
        """Customers of team pools whose SLA due time passed and whose breach is not recorded yet."""
        tp = t.team_pool
        with self.sessions() as s:
            return list(s.scalars(select(tp.c.customer_id).where(tp.c.sla_due_at <= now, tp.c.breached_at.is_(None))
                                  .order_by(tp.c.sla_due_at, tp.c.customer_id).limit(limit)))

    def pool_stats(self, now: datetime, team_id: str | None = None) -> dict[str, dict[str, float]]:
        """Per team (or one team): entries waiting, entries past their SLA due time, the oldest wait (seconds)."""
        tp = t.team_pool
        late = func.sum(case((tp.c.sla_due_at <= now, 1), else_=0))
        stmt = select(tp.c.team_id, func.count(), late, func.min(tp.c.queued_at)).group_by(tp.c.team_id)
        if team_id is not None:
            stmt = stmt.where(tp.c.team_id == team_id)
        with self.sessions() as s:
            return {team: {"waiting": n, "breached": int(b or 0),
                           "oldest_wait_s": max((now - utc(oldest)).total_seconds(), 0.0)}  # type: ignore[operator]
                    for team, n, b, oldest in s.execute(stmt)}
