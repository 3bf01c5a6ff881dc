"""Aggregates of the assignment service (eventsourcing). Pure: no I/O.

- `Team`: name, leader, protection period, members, the round-robin cursor.
- `Manager`: profile, capacity, status, referral code, the authoritative count of customers held (`load`),
  and, once resigned, the hand-over instruction (so a sweeper can finish it: never orphaned).
- `ReferralCode`: uniqueness index of managers' referral codes (the documents' manager QR code).
- `RuleBook`: the ordered, versioned assignment rules (one aggregate: rule order is global).
- `CustomerAssignment`: one per customer; its assignment slots (one per stage, `*` = every stage),
  protection clocks and history. Reclaim is a new version of this aggregate, so two scheduler replicas
  cannot both reclaim (the event store's optimistic concurrency rejects the second).

Public methods validate and raise `DomainError`s; the `@event` methods only mutate state (they run again
on replay, so they never raise).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from .errors import Conflict, Invalid

NAMESPACE = UUID("8f6b1d2a-3c4e-4f5a-9b6c-7d8e9f0a1b2c")
ALL_STAGES = "*"
SEEN_IDS_KEPT = 64
DEFAULT_PROTECTION_DAYS = 7


@lru_cache(maxsize=65_536)
def team_key(team_id: str) -> UUID:
    return uuid5(NAMESPACE, f"team:{team_id}")


@lru_cache(maxsize=65_536)
def manager_key(manager_id: str) -> UUID:
    return uuid5(NAMESPACE, f"manager:{manager_id}")


@lru_cache(maxsize=65_536)
def referral_key(code: str) -> UUID:
    return uuid5(NAMESPACE, f"referral:{code.strip().upper()}")


@lru_cache(maxsize=65_536)
def customer_key(customer_id: str) -> UUID:
    return uuid5(NAMESPACE, f"customer:{customer_id}")


RULEBOOK_ID = uuid5(NAMESPACE, "rulebook")


def stage_key(stage: str | None) -> str:
    return stage or ALL_STAGES


# ------------------------------------------------------------------------------------------- team
RECLAIM_POLICIES = ("pool", "reroute")


class Team(Aggregate):
    # what a reclaim does with the team's customers: "pool" (wait unassigned) or "reroute" (routed again by
    # the rules); None = the service's default (`ASSIGNMENT_RECLAIM_POLICY`). A class default: teams stored
    # before it have none.
    reclaim_policy: str | None = None
    # the team pool's SLA in minutes (None: the service default). A class default, as above.
    pool_sla_minutes = None

    @staticmethod
    def create_id(team_id: str, **_: Any) -> UUID:
        return team_key(team_id)

    @event("Created")
    def __init__(self, team_id: str, name: str, leader_id: str | None, protection_days: int, at: datetime,
                 pool_sla_minutes: int | None = None):
        self.team_id = team_id
        self.pool_sla_minutes = pool_sla_minutes
        self.name = name
        self.leader_id = leader_id
        self.protection_days = protection_days
        self.members: list[str] = []
        self.rr_cursor: str | None = None
        self.changed_at = at

    def edit(self, changes: dict[str, Any], at: datetime) -> bool:
        allowed = {"name", "leader_id", "protection_days", "reclaim_policy", "pool_sla_minutes"}
        if changes.get("reclaim_policy") not in (None, *RECLAIM_POLICIES):
            raise Invalid("reclaim_policy must be 'pool' or 'reroute'", field="reclaim_policy")
        diff = {k: v for k, v in changes.items() if k in allowed and getattr(self, k) != v}
        if diff:
            self._edited(team_id=self.team_id, changes=diff, profile={**self.profile(), **diff}, at=at)
        return bool(diff)

    def profile(self) -> dict[str, Any]:
        return {"team_id": self.team_id, "name": self.name, "leader_id": self.leader_id,
                "protection_days": self.protection_days, "reclaim_policy": self.reclaim_policy,
                "pool_sla_minutes": self.pool_sla_minutes}

    @event("Edited")
    def _edited(self, team_id: str, changes: dict[str, Any], profile: dict[str, Any], at: datetime) -> None:
        for k, v in changes.items():
            setattr(self, k, v)
        self.changed_at = at

    def add_member(self, manager_id: str) -> None:
        if manager_id not in self.members:
            self._member_joined(team_id=self.team_id, manager_id=manager_id)

    @event("MemberJoined")
    def _member_joined(self, team_id: str, manager_id: str) -> None:
        self.members = sorted({*self.members, manager_id})

    def remove_member(self, manager_id: str) -> None:
        if manager_id in self.members:
            self._member_left(team_id=self.team_id, manager_id=manager_id)

    @event("MemberLeft")
    def _member_left(self, team_id: str, manager_id: str) -> None:
        self.members = [m for m in self.members if m != manager_id]

    def advance_cursor(self, manager_id: str) -> None:
        self._cursor_advanced(team_id=self.team_id, manager_id=manager_id)

    @event("CursorAdvanced")
    def _cursor_advanced(self, team_id: str, manager_id: str) -> None:
        self.rr_cursor = manager_id


# ---------------------------------------------------------------------------------------- manager
class Manager(Aggregate):
    @staticmethod
    def create_id(manager_id: str, **_: Any) -> UUID:
        return manager_key(manager_id)

    @event("Registered")
    def __init__(self, manager_id: str, name: str, position: str | None, team_id: str | None,
                 regions: list[str], languages: list[str], capacity: int, referral_code: str | None,
                 at: datetime):
        self.manager_id = manager_id
        self.name = name
        self.position = position
        self.team_id = team_id
        self.regions = list(regions)
        self.languages = list(languages)
        self.capacity = capacity
        self.referral_code = referral_code
        self.status = "active"
        self.load = 0
        self.handover: dict[str, Any] | None = None
        self.changed_at = at

    @property
    def resigned(self) -> bool:
        return self.status == "resigned"

    def free_capacity(self) -> int:
        return max(self.capacity - self.load, 0)

    def ensure_can_take(self, n: int = 1) -> None:
        if self.status != "active":
            raise Conflict(f"manager {self.manager_id} is {self.status}", field="manager_id",
                           code=f"manager_{self.status}")
        if self.load + n > self.capacity:
            raise Conflict(f"manager {self.manager_id} is at capacity ({self.load}/{self.capacity})",
                           field="manager_id", code="over_capacity")

    def edit(self, changes: dict[str, Any], at: datetime) -> dict[str, Any]:
        if self.resigned:
            raise Conflict(f"manager {self.manager_id} has resigned", field="manager_id", code="manager_resigned")
        allowed = {"name", "position", "team_id", "regions", "languages", "capacity", "referral_code", "status"}
        if "status" in changes and changes["status"] not in ("active", "absent"):
            raise Invalid("status can be set to active or absent; use resign to resign", field="status")
        diff = {k: (list(v) if isinstance(v, tuple) else v) for k, v in changes.items()
                if k in allowed and getattr(self, k) != v}
        if diff:
            self._edited(manager_id=self.manager_id, changes=diff, profile={**self.profile(), **diff}, at=at)
        return diff

    def profile(self) -> dict[str, Any]:
        return {"manager_id": self.manager_id, "name": self.name, "position": self.position,
                "team_id": self.team_id, "regions": list(self.regions), "languages": list(self.languages),
                "capacity": self.capacity, "referral_code": self.referral_code, "status": self.status}

    @event("Edited")
    def _edited(self, manager_id: str, changes: dict[str, Any], profile: dict[str, Any], at: datetime) -> None:
        for k, v in changes.items():
            setattr(self, k, list(v) if isinstance(v, list | tuple) else v)
        self.changed_at = at

    def resign(self, mode: str, to_manager_id: str | None, at: datetime) -> None:
        if self.resigned:
            raise Conflict(f"manager {self.manager_id} has already resigned", code="manager_resigned")
        self._resigned(manager_id=self.manager_id, mode=mode, to_manager_id=to_manager_id,
                       profile={**self.profile(), "status": "resigned"}, at=at)

    @event("Resigned")
    def _resigned(self, manager_id: str, mode: str, to_manager_id: str | None, profile: dict[str, Any],
                  at: datetime) -> None:
        self.status = "resigned"
        self.handover = {"mode": mode, "to_manager_id": to_manager_id}
        self.changed_at = at

    def change_load(self, delta: int) -> None:
        if delta:
            self._load_changed(manager_id=self.manager_id, delta=delta, load=max(self.load + delta, 0))

    @event("LoadChanged")
    def _load_changed(self, manager_id: str, delta: int, load: int) -> None:
        self.load = load  # absolute, so projecting it twice is harmless


# ---------------------------------------------------------------------------------- referral code
class ReferralCode(Aggregate):
    @staticmethod
    def create_id(code: str, **_: Any) -> UUID:
        return referral_key(code)

    @event("Claimed")
    def __init__(self, code: str, manager_id: str):
        self.code = code
        self.manager_id: str | None = manager_id

    def claim(self, manager_id: str) -> None:
        if self.manager_id not in (None, manager_id):
            raise Conflict("referral code is already used by another manager", field="referral_code",
                           code="referral_code_taken")
        if self.manager_id is None:
            self._reclaimed(manager_id)

    @event("Reclaimed")
    def _reclaimed(self, manager_id: str) -> None:
        self.manager_id = manager_id

    def release(self) -> None:
        if self.manager_id is not None:
            self._released()

    @event("Released")
    def _released(self) -> None:
        self.manager_id = None


# ---------------------------------------------------------------------------------------- rules
class RuleBook(Aggregate):
    @staticmethod
    def create_id(**_: Any) -> UUID:
        return RULEBOOK_ID

    @event("Opened")
    def __init__(self) -> None:
        self.rules: dict[str, dict[str, Any]] = {}

    def save_rule(self, rule_id: str, definition: dict[str, Any], at: datetime, by: str | None) -> dict[str, Any]:
        current = self.rules.get(rule_id)
        if current is not None and {k: current.get(k) for k in definition} == definition:
            return current
        version = (current or {}).get("version", 0) + 1
        self._rule_saved(rule_id=rule_id, version=version, definition=definition, at=at, by=by)
        return self.rules[rule_id]

    @event("RuleSaved")
    def _rule_saved(self, rule_id: str, version: int, definition: dict[str, Any], at: datetime,
                    by: str | None) -> None:
        previous = self.rules.get(rule_id, {})
        rule = {**previous, **definition, "rule_id": rule_id, "version": version,
                "changed_at": at, "changed_by": by}
        self.rules = {**self.rules, rule_id: rule}

    def ordered(self) -> list[dict[str, Any]]:
        return sorted(self.rules.values(), key=lambda r: (r["position"], r["rule_id"]))


# ------------------------------------------------------------------------------ customer assignment
class CustomerAssignment(Aggregate):
    """Assignment slots of one customer: `slots[stage_key] = {manager_id, team_id, share, …}`."""

    @staticmethod
    def create_id(customer_id: str, **_: Any) -> UUID:
        return customer_key(customer_id)

    # merged into another customer (crm.customer.merged): {survivor_id, active, at, cause, slots before it}, a
    # last-writer-wins register by (time, event id). A class default: not a constructor field, and stored
    # aggregates from before it have none.
    merge = None
    # the routing facts of a registration consumed while merged (routed if an unmerge leaves it without owner)
    held = None
    # waiting in a team's pool for the lead to distribute: {team_id, rule_id, rule_version, queued_at, sla_due_at,
    # breached_at}; cleared by any assignment (the lead's distribution, a manual or bulk one) and by a merge
    queued = None

    @event("Opened")
    def __init__(self, customer_id: str):
        self.customer_id = customer_id
        self.slots: dict[str, dict[str, Any]] = {}
        self.seen: list[str] = []

    @property
    def merged(self) -> bool:
        return bool(self.merge and self.merge["active"])

    def queue(self, *, team_id: str, rule_id: str | None, rule_version: int | None, inputs: dict[str, Any],
              at: datetime, sla_due_at: datetime, cause_event_id: str | None,
              correlation_id: str | None = None) -> None:
        """Queue the customer in a team's pool (a rule with `allocation: team_pool`): no owner yet."""
        self._queued(customer_id=self.customer_id, team_id=team_id, rule_id=rule_id, rule_version=rule_version,
                     inputs=inputs, at=at, sla_due_at=sla_due_at, cause_event_id=cause_event_id,
                     correlation_id=correlation_id)

    @event("Queued")
    def _queued(self, customer_id: str, team_id: str, rule_id: str | None, rule_version: int | None,
                inputs: dict[str, Any], at: datetime, sla_due_at: datetime, cause_event_id: str | None,
                correlation_id: str | None) -> None:
        self.queued = {"team_id": team_id, "rule_id": rule_id, "rule_version": rule_version, "queued_at": at,
                       "sla_due_at": sla_due_at, "breached_at": None}
        self._remember(cause_event_id)

    def breach_due(self, now: datetime) -> bool:
        """Whether the queue entry passed its SLA due time and its breach was not recorded yet."""
        q = self.queued
        return q is not None and q["breached_at"] is None and q["sla_due_at"] <= now

    def breach_sla(self, now: datetime) -> bool:
        """Record (once) that the queue entry passed its SLA due time; False when there is nothing to record."""
        if not self.breach_due(now):
            return False
        q = self.queued
        assert q is not None
        self._pool_sla_breached(customer_id=self.customer_id, team_id=q["team_id"], queued_at=q["queued_at"],
                                sla_due_at=q["sla_due_at"], at=now)
        return True

    @event("PoolSlaBreached")
    def _pool_sla_breached(self, customer_id: str, team_id: str, queued_at: datetime, sla_due_at: datetime,
                           at: datetime) -> None:
        if self.queued is not None:
            self.queued = {**self.queued, "breached_at": at}

    @event("Dequeued")
    def _dequeued(self, customer_id: str, team_id: str, reason: str, at: datetime) -> None:
        self.queued = None

    def merge_is_newer(self, at: datetime, cause: str) -> bool:
        return not self.has_seen(cause) and (self.merge is None or (at, cause) > (self.merge["at"],
                                                                                  self.merge["cause"]))

    def merge_into(self, survivor_id: str, at: datetime, cause: str, now: datetime) -> dict[str, dict[str, Any]]:
        """Close every slot (reason `merged`) and remember them; returns the closed slots."""
        before = {k: {"manager_id": v["manager_id"], "team_id": v["team_id"]} for k, v in sorted(self.slots.items())}
        if self.queued is not None:  # a merged customer waits in no pool
            self._dequeued(customer_id=self.customer_id, team_id=self.queued["team_id"], reason="merged", at=now)
        for key in sorted(self.slots):
            self.unassign(key, "merged", now)
        self._merge_changed(survivor_id=survivor_id, active=True, at=at, cause=cause, slots=before)
        return before

    def separate(self, at: datetime, cause: str) -> dict[str, dict[str, Any]]:
        """The merge was undone; returns the slots the customer had before it (empty if it was not merged)."""
        before = dict(self.merge["slots"]) if self.merged else {}  # type: ignore[index]
        self._merge_changed(survivor_id=None, active=False, at=at, cause=cause, slots={})
        return before

    def inherited(self, reason: str, merged_id: str, manager_id: str) -> bool:
        """Whether this survivor's every-stage owner is still the one it took from `merged_id` at a merge
        (assigned with `reason`, the merged customer's id in its inputs)."""
        slot = self.slots.get(ALL_STAGES)
        return (slot is not None and slot["manager_id"] == manager_id and slot["reason"] == reason
                and slot["inputs"].get("merged_id") == merged_id)

    def hold_registration(self, facts: dict[str, Any], cause: str) -> None:
        self._registration_held(facts=facts, cause=cause)

    @event("RegistrationHeld")
    def _registration_held(self, facts: dict[str, Any], cause: str) -> None:
        self.held = facts
        self._remember(cause)

    @event("MergeChanged")
    def _merge_changed(self, survivor_id: str | None, active: bool, at: datetime, cause: str,
                       slots: dict[str, dict[str, Any]]) -> None:
        self.merge = {"survivor_id": survivor_id, "active": active, "at": at, "cause": cause, "slots": slots}
        self._remember(cause)

    # -- idempotency of upstream events ---------------------------------------------------------
    def has_seen(self, event_id: str | None) -> bool:
        return event_id is not None and event_id in self.seen

    def _remember(self, event_id: str | None) -> None:
        if event_id:
            self.seen = [*self.seen[-(SEEN_IDS_KEPT - 1):], event_id]

    # -- commands ---------------------------------------------------------------------------------
    def holder(self, stage: str | None) -> str | None:
        slot = self.slots.get(stage_key(stage))
        return slot["manager_id"] if slot else None

    def assign(self, *, manager_id: str, team_id: str | None, stage: str | None, share: Decimal, reason: str,
               at: datetime, protection_days: int, by: str | None = None, rule_id: str | None = None,
               rule_version: int | None = None, inputs: dict[str, Any] | None = None,
               cause_event_id: str | None = None, correlation_id: str | None = None) -> str | None:
        """Assigns the slot; returns the previous manager id (None when the slot was free). The same
        manager keeping the slot (new share, new team) keeps their protection clock."""
        key = stage_key(stage)
        previous = self.slots.get(key)
        same = previous is not None and previous["manager_id"] == manager_id
        self._assigned(
            customer_id=self.customer_id, stage=key, manager_id=manager_id, team_id=team_id, share=share,
            reason=reason, at=at,
            protection_expires_at=(previous["protection_expires_at"] if same else  # type: ignore[index]
                                   at + timedelta(days=protection_days)),
            last_follow_up_at=previous["last_follow_up_at"] if same else None,  # type: ignore[index]
            protection_days=protection_days,
            by=by, rule_id=rule_id, rule_version=rule_version, inputs=inputs or {},
            previous_manager_id=previous["manager_id"] if previous else None,
            previous_team_id=previous["team_id"] if previous else None, cause_event_id=cause_event_id,
            correlation_id=correlation_id,
        )
        return previous["manager_id"] if previous else None

    @event("Assigned")
    def _assigned(self, customer_id: str, stage: str, manager_id: str, team_id: str | None, share: Decimal, reason: str,
                  at: datetime, protection_expires_at: datetime, last_follow_up_at: datetime | None,
                  protection_days: int, by: str | None,
                  rule_id: str | None, rule_version: int | None, inputs: dict[str, Any],
                  previous_manager_id: str | None, previous_team_id: str | None,
                  cause_event_id: str | None, correlation_id: str | None) -> None:
        self.slots = {**self.slots, stage: {
            "manager_id": manager_id, "team_id": team_id, "share": share, "reason": reason,
            "assigned_at": at, "assigned_by": by, "rule_id": rule_id, "rule_version": rule_version,
            "inputs": inputs, "protection_days": protection_days,
            "protection_expires_at": protection_expires_at, "last_follow_up_at": last_follow_up_at,
        }}
        self.queued = None  # an owner, by whatever means: out of the team's pool
        self._remember(cause_event_id)

    def unassign(self, stage: str, reason: str, at: datetime, by: str | None = None,
                 correlation_id: str | None = None) -> dict[str, Any]:
        slot = self.slots[stage]
        self._unassigned(customer_id=self.customer_id, stage=stage, manager_id=slot["manager_id"], team_id=slot["team_id"], reason=reason,
                         at=at, by=by, correlation_id=correlation_id)
        return slot

    @event("Unassigned")
    def _unassigned(self, customer_id: str, stage: str, manager_id: str, team_id: str | None, reason: str, at: datetime,
                    by: str | None, correlation_id: str | None) -> None:
        self.slots = {k: v for k, v in self.slots.items() if k != stage}

    def record_follow_up(self, *, manager_id: str, recorded_at: datetime, event_id: str) -> dict[str, datetime]:
        """Resets the protection clock of every slot this manager holds (a follow-up before the
        assignment does not count; out-of-order follow-ups never shorten the period). Returns the new
        expiry per stage (empty: nothing changed)."""
        expiries: dict[str, datetime] = {}
        for key, slot in self.slots.items():
            if slot["manager_id"] != manager_id or recorded_at < slot["assigned_at"]:
                continue
            expires = recorded_at + timedelta(days=slot["protection_days"])
            if expires > slot["protection_expires_at"]:
                expiries[key] = expires
        if expiries:
            self._followed_up(customer_id=self.customer_id, manager_id=manager_id, recorded_at=recorded_at, expiries=expiries, event_id=event_id)
        return expiries

    @event("FollowedUp")
    def _followed_up(self, customer_id: str, manager_id: str, recorded_at: datetime, expiries: dict[str, datetime],
                     event_id: str) -> None:
        slots = dict(self.slots)
        for key, expires in expiries.items():
            if key in slots:
                slots[key] = {**slots[key], "protection_expires_at": expires, "last_follow_up_at": recorded_at}
        self.slots = slots
        self._remember(event_id)

    def due_for_reclaim(self, now: datetime) -> list[str]:
        return [k for k, s in self.slots.items() if s["protection_expires_at"] <= now]

    def left_in_pool(self, inputs: dict[str, Any], at: datetime, cause_event_id: str | None) -> None:
        self._left_in_pool(customer_id=self.customer_id, inputs=inputs, at=at, cause_event_id=cause_event_id)

    @event("LeftInPool")
    def _left_in_pool(self, customer_id: str, inputs: dict[str, Any], at: datetime, cause_event_id: str | None) -> None:
        self._remember(cause_event_id)

    def owner_change_not_followed(self, *, manager_id: str, code: str, inputs: dict[str, Any], at: datetime,
                                  request_id: str) -> None:
        """A client/lead owner change the platform confirmed that the assignment cannot follow (the manager
        is unknown, not active or full, or a later assignment superseded it): kept in the history, with
        the request as the cause so a re-delivery records nothing twice."""
        self._owner_change_not_followed(customer_id=self.customer_id, manager_id=manager_id, code=code,
                                        inputs=inputs, at=at, cause_event_id=request_id)

    @event("OwnerChangeNotFollowed")
    def _owner_change_not_followed(self, customer_id: str, manager_id: str, code: str, inputs: dict[str, Any],
                                   at: datetime, cause_event_id: str) -> None:
        self._remember(cause_event_id)
