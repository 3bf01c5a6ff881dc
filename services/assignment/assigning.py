"""Assign, bulk-assign, unassign, resign with hand-over (synchronous; call via asyncio.to_thread).

A bulk command is split into chunks; each chunk is one event-store transaction holding every customer's
new version and the manager's load, so each customer is assigned entirely or not at all, invalid
customers get their own result, and the rest is applied. The manager aggregate carries the authoritative
load, so capacity holds under concurrent commands (optimistic concurrency + re-run on conflict).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from shared.runtime.logging import get_logger

from .application import AssignmentApplication, UnitOfWork, current_correlation_id, save_retrying
from .domain.clock import Clock
from .domain.errors import Forbidden, Invalid, NotFound
from .domain.model import DEFAULT_PROTECTION_DAYS, Manager, customer_key, stage_key
from .domain.scope import Actor
from .projections.queries import Directory

log = get_logger("assignment.assigning")


@dataclass
class ItemResult:
    customer_id: str
    status: str  # assigned | unchanged | rejected
    code: str | None = None
    message: str | None = None
    previous_manager_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rejected(cid: str, code: str, message: str) -> ItemResult:
    return ItemResult(cid, "rejected", code, message)


def protection_days(uow: UnitOfWork, manager: Manager, default: int) -> int:
    team = uow.team(manager.team_id)
    return team.protection_days if team is not None else default


def assign_in(uow: UnitOfWork, actor: Actor, chunk: list[str], manager_id: str, *, stage: str | None,
              share: Decimal, reason: str, at: Any, default_days: int, by: str | None = None,
              inputs: dict[str, Any] | None = None, cause_event_id: str | None = None) -> dict[str, ItemResult]:
    """Assigns each customer of `chunk` to a known manager inside one unit of work (the API's commands and
    the consumers' confirmed owner changes): an inactive manager, a full one, or a slot held outside the
    actor's scope is a rejected result; the same manager with the same share is unchanged. `by` is the
    actor's id unless given (an owner change: the CRM user who asked); `inputs` is the stored "why"."""
    manager = uow.manager(manager_id)
    assert manager is not None
    if manager.status != "active":
        return {c: _rejected(c, f"manager_{manager.status}", f"manager is {manager.status}") for c in chunk}
    days = protection_days(uow, manager, default_days)
    corr = current_correlation_id()
    out: dict[str, ItemResult] = {}
    taken = 0
    released: dict[str, int] = {}
    for cid in chunk:
        agg = uow.customer(cid)
        slot = agg.slots.get(stage_key(stage)) if agg is not None else None
        if slot is not None and slot["manager_id"] == manager_id and Decimal(slot["share"]) == share:
            out[cid] = ItemResult(cid, "unchanged")
            continue
        if slot is not None and not actor.may_see_slot(slot["manager_id"], slot["team_id"]):
            out[cid] = _rejected(cid, "out_of_scope", "customer is held by a manager outside your scope")
            continue
        moving_in = slot is None or slot["manager_id"] != manager_id
        if moving_in and manager.load + uow.pending_load(manager_id) + taken >= manager.capacity:
            out[cid] = _rejected(cid, "over_capacity", f"manager is at capacity ({manager.capacity})")
            continue
        agg = agg if agg is not None else uow.customer_or_new(cid)
        previous = agg.assign(manager_id=manager_id, team_id=manager.team_id, stage=stage, share=share,
                              reason=reason, at=at, protection_days=days,
                              by=by if by is not None else actor.user_id, inputs=inputs,
                              cause_event_id=cause_event_id, correlation_id=corr)
        if moving_in:
            taken += 1
            if previous is not None:
                released[previous] = released.get(previous, 0) + 1
        out[cid] = ItemResult(cid, "assigned", previous_manager_id=previous)
    manager.change_load(taken)
    for prev_id, n in released.items():
        prev = uow.manager(prev_id)
        if prev is not None:
            prev.change_load(-n)
    return out


class Assigner:
    def __init__(self, app: AssignmentApplication, directory: Directory, clock: Clock, *,
                 default_protection_days: int = DEFAULT_PROTECTION_DAYS, chunk_size: int = 500,
                 handover_wait_s: float = 10.0):
        self.app, self.directory, self.clock = app, directory, clock
        self.default_days, self.chunk_size, self.handover_wait_s = default_protection_days, chunk_size, handover_wait_s

    # ------------------------------------------------------------------------------------- assign
    def assign(self, actor: Actor, customer_ids: list[str], manager_id: str, *, stage: str | None = None,
               share: Decimal = Decimal("1"), reason: str = "manual", from_pool: str | None = None) -> list[ItemResult]:
        """Assigns customers to a manager. `from_pool`: the team lead distributes that team's pool — only
        customers queued there, only to one of its managers (reason `team_pool`)."""
        ids = list(dict.fromkeys(customer_ids))
        manager = self.app.load(Manager.create_id(manager_id))
        if manager is None:
            raise Invalid(f"unknown manager {manager_id!r}", field="manager_id", code="unknown_manager")
        if not actor.may_use_manager(manager_id, manager.team_id):
            raise Forbidden(f"manager {manager_id!r} is outside the caller's scope", field="manager_id")
        if from_pool is not None and manager.team_id != from_pool:
            raise Invalid(f"manager {manager_id!r} is not a member of team {from_pool!r}", field="manager_id",
                          code="not_in_team")
        manager.ensure_can_take(0)
        known = self.directory.existing_customers(ids)
        results = {c: _rejected(c, "unknown_customer", "customer not found") for c in ids if c not in known}
        todo = [c for c in ids if c in known]
        at = self.clock.now()
        for i in range(0, len(todo), self.chunk_size):
            chunk = todo[i:i + self.chunk_size]

            def run(uow: UnitOfWork, chunk: list[str] = chunk) -> dict[str, ItemResult]:
                uow.prefetch([customer_key(cid) for cid in chunk])
                if from_pool is None:
                    return self._assign_chunk(uow, actor, chunk, manager_id, stage, share, reason, at)
                return self._distribute_chunk(uow, actor, chunk, manager_id, from_pool, at)

            results.update(save_retrying(self.app, run))
        out = [results[c] for c in ids]
        log.info("customers_assigned", manager_id=manager_id, stage=stage, reason=reason,
                 requested=len(ids), assigned=sum(r.status == "assigned" for r in out),
                 rejected=sum(r.status == "rejected" for r in out))
        return out

    def _assign_chunk(self, uow: UnitOfWork, actor: Actor, chunk: list[str], manager_id: str,
                      stage: str | None, share: Decimal, reason: str, at: Any) -> dict[str, ItemResult]:
        return assign_in(uow, actor, chunk, manager_id, stage=stage, share=share, reason=reason, at=at,
                         default_days=self.default_days)

    def _distribute_chunk(self, uow: UnitOfWork, actor: Actor, chunk: list[str], manager_id: str, team_id: str,
                          at: Any) -> dict[str, ItemResult]:
        """Customers queued in the team's pool go to the manager (decided on the aggregates: one taken out of
        the queue meanwhile is `not_queued`); the queue entry is the stored "why"."""
        out: dict[str, ItemResult] = {}
        for cid in chunk:
            q = (agg.queued if (agg := uow.customer(cid)) is not None else None)
            if q is None or q["team_id"] != team_id:
                out[cid] = _rejected(cid, "not_queued", f"customer is not waiting in team {team_id}'s pool")
                continue
            why = {"team_id": team_id, "queued_at": q["queued_at"].isoformat(), "rule_id": q["rule_id"],
                   "rule_version": q["rule_version"], "sla_due_at": q["sla_due_at"].isoformat(),
                   "sla_breached": q["breached_at"] is not None}
            out.update(assign_in(uow, actor, [cid], manager_id, stage=None, share=Decimal("1"), reason="team_pool",
                                 at=at, default_days=self.default_days, inputs=why))
        return out

    # ----------------------------------------------------------------------------------- unassign
    def unassign(self, actor: Actor, customer_id: str, stage: str | None = None, *,
                 all_stages: bool = False, reason: str = "manual") -> list[dict[str, Any]]:
        at = self.clock.now()

        def run(uow: UnitOfWork) -> list[dict[str, Any]]:
            agg = uow.customer(customer_id)
            slots = agg.slots if agg is not None else {}
            keys = list(slots) if all_stages else [stage_key(stage)]
            visible = [k for k in keys if k in slots and actor.may_see_slot(slots[k]["manager_id"],
                                                                              slots[k]["team_id"])]
            if not visible or agg is None:
                raise NotFound(f"customer {customer_id!r} has no assignment you can see")
            removed = []
            for key in visible:
                slot = agg.unassign(key, reason, at, actor.user_id, current_correlation_id())
                if (m := uow.manager(slot["manager_id"])) is not None:
                    m.change_load(-1)
                removed.append({"stage": None if key == "*" else key, "manager_id": slot["manager_id"]})
            return removed

        removed = save_retrying(self.app, run)
        log.info("customer_unassigned", customer_id=customer_id, slots=len(removed), reason=reason)
        return removed

    # ------------------------------------------------------------------------------ resign / hand-over
    def resign(self, actor: Actor, manager_id: str, mode: str, to_manager_id: str | None) -> dict[str, Any]:
        at = self.clock.now()
        if mode not in ("manager", "pool"):
            raise Invalid("handover must be 'manager' or 'pool'", field="handover")
        if mode == "manager" and not to_manager_id:
            raise Invalid("to_manager_id is required when handing over to a manager", field="to_manager_id")

        def run(uow: UnitOfWork) -> None:
            manager = uow.manager(manager_id)
            if manager is None or not actor.may_manage_team(manager.team_id):
                raise NotFound(f"manager {manager_id!r} not found")
            if mode == "manager":
                target = uow.manager(to_manager_id)
                if target is None or to_manager_id == manager_id:
                    raise Invalid(f"unknown hand-over manager {to_manager_id!r}", field="to_manager_id")
                if not actor.may_use_manager(target.manager_id, target.team_id):
                    raise Forbidden("hand-over manager is outside the caller's scope", field="to_manager_id")
                target.ensure_can_take(manager.load)
            manager.resign(mode, to_manager_id if mode == "manager" else None, at)

        save_retrying(self.app, run)
        log.info("manager_resigned", manager_id=manager_id, handover=mode)
        return self.handover(manager_id, actor=actor, wait_s=self.handover_wait_s)

    def handover(self, manager_id: str, *, actor: Actor | None = None, wait_s: float = 0.0,
                 sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
        """Moves every customer a resigned manager still holds (to the chosen manager, or to the pool when
        that manager cannot take more). Finds them in the read model, which may lag: waits up to `wait_s`
        for it; whatever is left is finished by the scheduler's sweep."""
        actor = actor or Actor.system()
        totals = {"handed_over": 0, "returned_to_pool": 0}
        deadline = time.monotonic() + wait_s
        after: str | None = None
        while True:
            manager = self.app.load(Manager.create_id(manager_id))
            if manager is None or not manager.resigned or manager.load == 0:
                break
            holding = self.directory.holdings(manager_id, limit=self.chunk_size, after=after)
            if holding:  # one page of what the read model lists; the aggregates decide
                moved = save_retrying(self.app, lambda uow, h=holding: self._handover_chunk(uow, manager_id, h,
                                                                                             actor))
                totals["handed_over"] += moved[0]
                totals["returned_to_pool"] += moved[1]
                after = holding[-1]
                continue
            if time.monotonic() >= deadline:  # end of a pass and still holding: the read model lags
                break
            after = None
            sleep(0.1)  # wait for the read model, within the deadline
        manager = self.app.load(Manager.create_id(manager_id))
        totals["pending"] = manager.load if manager is not None else 0
        log.info("handover_progress", manager_id=manager_id, **totals)
        return totals

    def _handover_chunk(self, uow: UnitOfWork, manager_id: str, customers: list[str],
                        actor: Actor) -> tuple[int, int]:
        manager = uow.manager(manager_id)
        assert manager is not None and manager.handover is not None
        target = uow.manager(manager.handover.get("to_manager_id"))
        days = protection_days(uow, target, self.default_days) if target is not None else self.default_days
        at, corr = self.clock.now(), current_correlation_id()
        handed = pooled = 0
        uow.prefetch([customer_key(cid) for cid in customers])
        for cid in customers:
            agg = uow.customer(cid)
            for key, slot in list((agg.slots if agg is not None else {}).items()):
                if slot["manager_id"] != manager_id:
                    continue
                assert agg is not None
                if target is not None and target.status == "active" and target.load + handed < target.capacity:
                    agg.assign(manager_id=target.manager_id, team_id=target.team_id, stage=key,
                               share=Decimal(slot["share"]), reason="handover", at=at, protection_days=days,
                               by=actor.user_id, correlation_id=corr)
                    handed += 1
                else:
                    agg.unassign(key, "manager_resigned", at, actor.user_id, corr)
                    pooled += 1
        if target is not None:
            target.change_load(handed)
        manager.change_load(-(handed + pooled))
        return handed, pooled

    # ------------------------------------------------------------------------------------ team moves
    def follow_team_changes(self, manager_id: str | None = None) -> int:
        """A manager moved to another team: their customers' slots move with them (data scope follows the
        manager). Re-publishes each slot with the new team (reason `team_changed`), keeping the manager,
        share and protection clock. Candidates come from the read model; the aggregates decide."""
        moved, after = 0, None
        while True:
            if manager_id is not None:  # right after the move: every customer the manager holds
                customers = self.directory.holdings(manager_id, limit=self.chunk_size, after=after)
            else:  # the scheduler's sweep: slots whose team differs from their manager's (read model)
                customers = self.directory.stale_teams(limit=self.chunk_size)
            if not customers:
                break
            n = save_retrying(self.app, lambda uow, cs=customers: self._retag_chunk(uow, cs))
            moved += n
            after = customers[-1]
            if manager_id is None and n == 0:
                break  # the read model has not caught up with an earlier retag yet
        if moved:
            log.info("slots_followed_team_change", manager_id=manager_id, slots=moved)
        return moved

    def _retag_chunk(self, uow: UnitOfWork, customers: list[str]) -> int:
        uow.prefetch([customer_key(cid) for cid in customers])
        at, n = self.clock.now(), 0
        for cid in customers:
            agg = uow.customer(cid)
            for key, slot in list((agg.slots if agg is not None else {}).items()):
                manager = uow.manager(slot["manager_id"])
                if manager is None or manager.resigned or manager.team_id == slot["team_id"]:
                    continue
                assert agg is not None
                agg.assign(manager_id=manager.manager_id, team_id=manager.team_id, stage=key,
                           share=Decimal(slot["share"]), reason="team_changed", at=at,
                           protection_days=protection_days(uow, manager, self.default_days),
                           correlation_id=current_correlation_id())
                n += 1
        return n

    def sweep_handovers(self) -> int:
        """Finishes hand-overs of resigned managers who still hold customers (never orphaned)."""
        moved = 0
        for manager_id in self.directory.resigned_with_customers():
            r = self.handover(manager_id)
            moved += r["handed_over"] + r["returned_to_pool"]
        return moved

