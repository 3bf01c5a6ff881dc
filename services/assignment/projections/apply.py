"""Projection of the service's own domain events into the read-model tables (fed by ProjectionRunner).

Batched: assignment rows are folded in memory per (customer, stage) and written with one multi-row
upsert / delete per batch; history rows are inserted in bulk. Idempotent per notification position (the
runner stores its position in the same transaction), and a rebuild (empty tables, position 0) gives the
same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, or_, update
from sqlalchemy.orm import Session

from shared.runtime.sqlrows import upsert

from ..domain.model import CustomerAssignment, Manager, RuleBook, Team
from . import tables as t


def utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def aware(row: Any) -> dict[str, Any]:
    """A read-model row for the API: datetimes as UTC-aware (SQLite returns naive ones)."""
    return {k: utc(v) if isinstance(v, datetime) else v for k, v in dict(row).items()}


class _Batch:
    def __init__(self, session: Session):
        self.s = session
        self.slots: dict[tuple[str, str], dict[str, Any] | None] = {}  # None = delete
        self.history: list[dict[str, Any]] = []
        self.load: dict[str, int] = {}
        self.pool: dict[str, dict[str, Any] | None] = {}  # team pool entries by customer (None = delete)
        self.breached: dict[str, datetime] = {}  # breaches of entries not in this batch

    # -- customer assignment events --------------------------------------------------------------
    def assigned(self, e: Any) -> None:
        self.slots[(e.customer_id, e.stage)] = {
            "customer_id": e.customer_id, "stage": e.stage, "manager_id": e.manager_id, "team_id": e.team_id,
            "share": e.share, "reason": e.reason, "rule_id": e.rule_id, "rule_version": e.rule_version,
            "inputs": e.inputs, "assigned_at": utc(e.at), "assigned_by": e.by,
            "protection_expires_at": utc(e.protection_expires_at), "last_follow_up_at": utc(e.last_follow_up_at),
        }
        self.pool[e.customer_id] = None  # an owner: out of the team's pool
        self._history(e, "assigned", stage=e.stage, manager_id=e.manager_id, team_id=e.team_id,
                      previous_manager_id=e.previous_manager_id, share=e.share, reason=e.reason,
                      rule_id=e.rule_id, rule_version=e.rule_version, inputs=e.inputs, actor=e.by, at=e.at)

    def unassigned(self, e: Any) -> None:
        self.slots[(e.customer_id, e.stage)] = None
        self._history(e, "unassigned", stage=e.stage, manager_id=e.manager_id, team_id=e.team_id,
                      reason=e.reason, actor=e.by, at=e.at)

    def followed_up(self, e: Any) -> None:
        for stage, expires in e.expiries.items():
            key = (e.customer_id, stage)
            changes = {"protection_expires_at": utc(expires), "last_follow_up_at": utc(e.recorded_at)}
            if key in self.slots:
                if self.slots[key] is not None:
                    self.slots[key] = {**self.slots[key], **changes}  # type: ignore[dict-item]
            else:
                tbl = t.assignments
                self.s.execute(update(tbl).where(tbl.c.customer_id == e.customer_id, tbl.c.stage == stage)
                               .values(**changes))
        self._history(e, "followed_up", manager_id=e.manager_id, inputs={k: v.isoformat() for k, v in
                                                                         e.expiries.items()},
                      at=e.recorded_at)

    def load_changed(self, e: Any) -> None:
        self.load[e.manager_id] = e.load

    def left_in_pool(self, e: Any) -> None:
        self._history(e, "left_in_pool", reason="no_rule_matched", inputs=e.inputs, at=e.at)

    def queued(self, e: Any) -> None:
        self.pool[e.customer_id] = {"customer_id": e.customer_id, "team_id": e.team_id, "rule_id": e.rule_id,
                                    "rule_version": e.rule_version, "queued_at": utc(e.at),
                                    "sla_due_at": utc(e.sla_due_at), "breached_at": None}
        self._history(e, "queued", team_id=e.team_id, reason="team_pool", rule_id=e.rule_id,
                      rule_version=e.rule_version, inputs=e.inputs, at=e.at)

    def pool_sla_breached(self, e: Any) -> None:
        row = self.pool.get(e.customer_id)
        if row is not None:
            row["breached_at"] = utc(e.at)
        elif e.customer_id not in self.pool:
            self.breached[e.customer_id] = utc(e.at)  # type: ignore[assignment]
        self._history(e, "pool_sla_breached", team_id=e.team_id, at=e.at)

    def dequeued(self, e: Any) -> None:
        self.pool[e.customer_id] = None
        self._history(e, "dequeued", team_id=e.team_id, reason=e.reason, at=e.at)

    def owner_change_not_followed(self, e: Any) -> None:
        self._history(e, "owner_change_not_followed", manager_id=e.manager_id, reason=e.code, inputs=e.inputs,
                      at=e.at)

    def _history(self, e: Any, action: str, **row: Any) -> None:
        base = {"stage": None, "manager_id": None, "team_id": None, "previous_manager_id": None, "share": None,
                "reason": None, "rule_id": None, "rule_version": None, "inputs": None, "actor": None}
        self.history.append({**base, **row, "customer_id": e.customer_id, "version": e.originator_version,
                             "action": action, "at": utc(row["at"])})

    def flush(self) -> None:
        tbl = t.assignments
        gone = [k for k, v in self.slots.items() if v is None]
        for i in range(0, len(gone), 500):
            chunk = gone[i:i + 500]
            self.s.execute(delete(tbl).where(or_(*(and_(tbl.c.customer_id == c, tbl.c.stage == st)
                                                   for c, st in chunk))))
        upsert(self.s, tbl, [v for v in self.slots.values() if v is not None], ["customer_id", "stage"])
        upsert(self.s, t.history, self.history, ["customer_id", "version"])
        tp = t.team_pool
        out = [c for c, v in self.pool.items() if v is None]
        for i in range(0, len(out), 500):
            self.s.execute(delete(tp).where(tp.c.customer_id.in_(out[i:i + 500])))
        upsert(self.s, tp, [v for v in self.pool.values() if v is not None], ["customer_id"])
        for customer_id, at in self.breached.items():
            self.s.execute(update(tp).where(tp.c.customer_id == customer_id).values(breached_at=at))
        for manager_id, load in self.load.items():
            self.s.execute(update(t.managers).where(t.managers.c.manager_id == manager_id).values(load=load))


def _manager_row(profile: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {"manager_id": profile["manager_id"], "name": profile["name"], "position": profile.get("position"),
            "team_id": profile.get("team_id"), "regions": list(profile.get("regions") or []),
            "languages": list(profile.get("languages") or []), "capacity": profile["capacity"],
            "status": profile["status"], "referral_code": profile.get("referral_code"), "changed_at": utc(at)}


def apply(session: Session, events: list[Any]) -> None:
    b = _Batch(session)
    for e in events:
        batched = BATCHED.get(type(e))
        if batched is not None:
            batched(b, e)
            continue
        admin = ADMIN.get(type(e))
        if admin is not None:
            b.flush()  # keep order with the row-at-a-time events below
            b = _Batch(session)
            admin(session, e)
        # other events (aggregate creation, team members / cursor, referral codes) have no read model
    b.flush()


def _manager_registered(session: Session, e: Any) -> None:
    row = _manager_row({"manager_id": e.manager_id, "name": e.name, "position": e.position,
                        "team_id": e.team_id, "regions": e.regions, "languages": e.languages,
                        "capacity": e.capacity, "referral_code": e.referral_code, "status": "active"}, e.at)
    upsert(session, t.managers, [{**row, "load": 0}], ["manager_id"])


def _manager_profile(session: Session, e: Any) -> None:
    upsert(session, t.managers, [_manager_row(e.profile, e.at)], ["manager_id"])


def _team_created(session: Session, e: Any) -> None:
    upsert(session, t.teams, [{"team_id": e.team_id, "name": e.name, "leader_id": e.leader_id,
                               "protection_days": e.protection_days, "changed_at": utc(e.at),
                               "pool_sla_minutes": getattr(e, "pool_sla_minutes", None)}], ["team_id"])


def _team_edited(session: Session, e: Any) -> None:
    p = e.profile
    upsert(session, t.teams, [{"team_id": p["team_id"], "name": p["name"], "leader_id": p["leader_id"],
                               "protection_days": p["protection_days"], "reclaim_policy": p.get("reclaim_policy"),
                               "changed_at": utc(e.at), "pool_sla_minutes": p.get("pool_sla_minutes")}], ["team_id"])


def _rule_saved(session: Session, e: Any) -> None:
    previous = session.execute(t.rules.select().where(t.rules.c.rule_id == e.rule_id)).mappings().first()
    definition = {**(dict(previous["definition"]) if previous else {}), **_jsonable(e.definition)}
    row = {"rule_id": e.rule_id, "version": e.version, "position": int(definition.get("position", 0)),
           "enabled": bool(definition.get("enabled", True)), "definition": definition,
           "changed_at": utc(e.at), "changed_by": e.by}
    upsert(session, t.rules, [row], ["rule_id"])
    upsert(session, t.rule_versions, [{k: row[k] for k in ("rule_id", "version", "definition", "changed_at",
                                                            "changed_by")}], ["rule_id", "version"])


# By the stored domain event's class: events folded per batch, and admin events applied row by row.
BATCHED: dict[type, Callable[[_Batch, Any], None]] = {
    CustomerAssignment.Assigned: _Batch.assigned,
    CustomerAssignment.Unassigned: _Batch.unassigned,
    CustomerAssignment.FollowedUp: _Batch.followed_up,
    CustomerAssignment.LeftInPool: _Batch.left_in_pool,
    CustomerAssignment.OwnerChangeNotFollowed: _Batch.owner_change_not_followed,
    CustomerAssignment.Queued: _Batch.queued,
    CustomerAssignment.PoolSlaBreached: _Batch.pool_sla_breached,
    CustomerAssignment.Dequeued: _Batch.dequeued,
    Manager.LoadChanged: _Batch.load_changed,
}
ADMIN: dict[type, Callable[[Session, Any], None]] = {
    Manager.Registered: _manager_registered,
    Manager.Edited: _manager_profile,
    Manager.Resigned: _manager_profile,
    Team.Created: _team_created,
    Team.Edited: _team_edited,
    RuleBook.RuleSaved: _rule_saved,
}


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}
