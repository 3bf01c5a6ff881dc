"""Upstream events into aggregates: rule-based assignment on registration, follow-ups resetting the
protection clock, client/lead owner changes the platform confirmed (from the User CRM). Used by the
event-sourced consumer (one unit of work per batch, saved with tracking)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.events import Event
from shared.events.crm_customer import CustomerMerged, CustomerOnboarded, CustomerUnmerged
from shared.events.crm_tasks import FollowUpRecorded
from shared.events.crm_usercrm import OwnerChangeConfirmed
from shared.runtime.eventstore import ProcessingEvent
from shared.runtime.logging import bound_contextvars, get_logger

from .application import AssignmentApplication, UnitOfWork
from .assigning import assign_in, protection_days
from .domain.clock import Clock
from .domain.model import ALL_STAGES, CustomerAssignment, customer_key, stage_key
from .domain.rules import Candidate, CustomerFacts, Decision, Rule, TeamView, reroute, route
from .domain.scope import Actor

log = get_logger("assignment.routing")

# the contracts the router acts on; it ignores all others
ROUTED = (CustomerOnboarded, FollowUpRecorded, OwnerChangeConfirmed, CustomerMerged, CustomerUnmerged)
OWNER_CHANGE = "owner_change"  # the assignment reason of a confirmed client/lead owner change
MERGE, UNMERGE = "merge", "unmerge"  # the assignment reasons of an owner carried over by a merge / an unmerge
UNMERGED = "unmerged"  # the unassignment reason of an owner the survivor inherited, given back by an unmerge


def routed(ev: Event) -> bool:
    return isinstance(ev.payload, ROUTED)


def subjects(ev: Event) -> list[str]:
    """The customers an event routes (a merge: the merged customer and its survivor)."""
    p = ev.payload
    if isinstance(p, CustomerMerged | CustomerUnmerged):
        return [p.merged_id, p.survivor_id]
    return [p.customer_id]


class _Lazy(Mapping[str, Any]):
    """A read-only mapping computed on access (views of aggregates in the unit of work)."""

    def __init__(self, fn: Callable[[str], Any]):
        self._fn = fn

    def __getitem__(self, key: str) -> Any:
        return self._fn(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class Router:
    def __init__(self, app: AssignmentApplication, clock: Clock, *, default_protection_days: int = 7,
                 default_pool_sla_minutes: int = 240):
        self.app, self.clock, self.default_days = app, clock, default_protection_days
        self.default_sla = default_pool_sla_minutes

    def apply(self, events: list[Event]) -> ProcessingEvent:
        uow = BatchWork(self.app)
        uow.refresh_kept()  # the rule book, teams and managers: one query, not two per aggregate
        now = self.clock.now()
        book = uow.existing_rulebook()  # read-only: never create the rule book here
        rules = [Rule.from_dict(r) for r in (book.rules.values() if book is not None else ())]
        uow.prefetch([customer_key(cid) for ev in events if routed(ev) for cid in subjects(ev)])
        for ev in events:
            with bound_contextvars(event_id=str(ev.event_id), correlation_id=ev.envelope.correlation_id):
                if isinstance(ev.payload, CustomerOnboarded):
                    self._registered(uow, ev, rules, now)
                elif isinstance(ev.payload, FollowUpRecorded):
                    self._follow_up(uow, ev, now)
                elif isinstance(ev.payload, OwnerChangeConfirmed):
                    self._owner_change(uow, ev.payload, now)
                elif isinstance(ev.payload, CustomerMerged):
                    self._merged(uow, ev, now)
                elif isinstance(ev.payload, CustomerUnmerged):
                    self._unmerged(uow, ev, rules, now)
        uow.settle()
        pe = ProcessingEvent()
        pe.collect_events(*uow.changed())
        return pe

    def _registered(self, uow: UnitOfWork, ev: Event, rules: list[Rule], now: datetime) -> None:
        p = ev.payload
        eid = str(ev.event_id)
        agg = uow.customer(p.customer_id)
        facts = CustomerFacts(p.customer_id, p.channel, p.user_region, p.active_region, p.language,
                              p.referral_code, p.institution_id, tuple(p.segment_ids))
        if agg is not None and (agg.has_seen(eid) or ALL_STAGES in agg.slots or agg.merged
                                or agg.queued is not None):
            if agg.merged and not agg.has_seen(eid):  # routed if an unmerge leaves the customer without owner
                agg.hold_registration(asdict(facts), eid)
            log.info("registration_skipped", customer_id=p.customer_id,
                     why="merged" if agg.merged else ("queued" if agg.queued is not None else "already_routed"))
            return
        self._route(uow, agg, facts, rules, now, eid, ev.envelope.correlation_id)

    def _route(self, uow: UnitOfWork, agg: CustomerAssignment | None, facts: CustomerFacts, rules: list[Rule],
               now: datetime, eid: str, correlation_id: str | None) -> None:
        code = uow.referral(facts.referral_code) if facts.referral_code else None
        decision = route(facts, rules, _Lazy(uow.team_view), _Lazy(uow.candidate),
                         code.manager_id if code is not None else None)
        agg = agg if agg is not None else uow.add(CustomerAssignment(customer_id=facts.customer_id))
        self._follow_decision(uow, agg, decision, None, Decimal("1"), now, eid, correlation_id)

    def reroute(self, uow: BatchWork, agg: CustomerAssignment, stage: str, lost: dict[str, Any],
                facts: CustomerFacts, rules: list[Rule], now: datetime, cause: str,
                correlation_id: str | None) -> str | None:
        """A slot just reclaimed from `lost["manager_id"]`, routed again by the rules (reason `reroute`, the
        same stage and share), never back to that manager unless no one else is eligible; nobody eligible:
        it stays in the pool (`LeftInPool`, with what was skipped). Runs in the reclaim's unit of work, so a
        re-run or a second scheduler replica finds nothing due and routes nothing twice. Returns the manager."""
        code = uow.referral(facts.referral_code) if facts.referral_code else None
        decision = reroute(facts, rules, _Lazy(uow.team_view), _Lazy(uow.candidate), lost["manager_id"],
                           code.manager_id if code is not None else None)
        return self._follow_decision(uow, agg, decision, stage, Decimal(lost["share"]), now, cause, correlation_id)

    def _follow_decision(self, uow: UnitOfWork, agg: CustomerAssignment, decision: Decision, stage: str | None,
                         share: Decimal, now: datetime, eid: str, correlation_id: str | None) -> str | None:
        if decision.reason == "team_pool":  # queued in the team's pool for its lead to distribute
            assert decision.team_id is not None
            self.queue(uow, agg, decision.team_id, decision.rule_id, decision.rule_version, decision.inputs, now,
                       eid, correlation_id)
            return None
        if decision.manager_id is None:
            agg.left_in_pool(decision.inputs, now, eid)
            log.info("customer_left_in_pool", customer_id=agg.customer_id,
                     skipped=len(decision.inputs["skipped"]))
            return None
        manager = uow.manager(decision.manager_id)
        assert manager is not None
        agg.assign(manager_id=manager.manager_id, team_id=manager.team_id, stage=stage_key(stage), share=share,
                   reason=decision.reason, at=now, protection_days=protection_days(uow, manager, self.default_days),
                   rule_id=decision.rule_id, rule_version=decision.rule_version, inputs=decision.inputs,
                   cause_event_id=eid, correlation_id=correlation_id)
        uow.took(manager.manager_id, decision.advance_team)  # type: ignore[attr-defined]
        log.info("customer_routed", customer_id=agg.customer_id, manager_id=manager.manager_id,
                 reason=decision.reason, rule_id=decision.rule_id, rule_version=decision.rule_version)
        return manager.manager_id

    def queue(self, uow: UnitOfWork, agg: CustomerAssignment, team_id: str, rule_id: str | None,
              rule_version: int | None, inputs: dict[str, Any], now: datetime, cause: str | None,
              correlation_id: str | None) -> None:
        """Queue the customer in the team's pool, due within the team's SLA (else the service default)."""
        team = uow.team(team_id)
        minutes = (team.pool_sla_minutes if team is not None else None) or self.default_sla
        agg.queue(team_id=team_id, rule_id=rule_id, rule_version=rule_version, inputs=inputs, at=now,
                  sla_due_at=now + timedelta(minutes=minutes), cause_event_id=cause, correlation_id=correlation_id)
        log.info("customer_queued", customer_id=agg.customer_id, team_id=team_id, rule_id=rule_id,
                 sla_minutes=minutes)

    def _follow_up(self, uow: UnitOfWork, ev: Event, now: datetime) -> None:
        p = ev.payload
        agg = uow.customer(p.customer_id)
        if agg is None:
            return
        recorded_at = min(p.recorded_at, now)  # a clock-skewed future follow-up cannot extend protection
        expiries = agg.record_follow_up(manager_id=p.manager_id, recorded_at=recorded_at, event_id=str(ev.event_id))
        if expiries:
            log.info("protection_reset", customer_id=p.customer_id, manager_id=p.manager_id, slots=len(expiries))


    def _merged(self, uow: UnitOfWork, ev: Event, now: datetime) -> None:
        """The survivor's owner wins: the merged customer's slots are closed (reason `merged`, its managers'
        load released) and it is not routed while merged; a survivor without an every-stage owner takes the
        merged customer's (reason `merge`), so the customer is never left without one."""
        p, eid = ev.payload, str(ev.event_id)
        merged = uow.customer_or_new(p.merged_id)
        if not merged.merge_is_newer(p.merged_at, eid):
            return
        closed = merged.merge_into(p.survivor_id, p.merged_at, eid, now)
        for slot in closed.values():
            if (m := uow.manager(slot["manager_id"])) is not None:
                m.change_load(-1)
        survivor = uow.customer(p.survivor_id)
        owner = closed.get(ALL_STAGES)
        if owner is not None and (survivor is None or ALL_STAGES not in survivor.slots):
            self._carry_owner(uow, p.survivor_id, owner["manager_id"], MERGE, {"merged_id": p.merged_id}, eid, now)
        log.info("customer_merge_followed", survivor_id=p.survivor_id, merged_id=p.merged_id, closed=len(closed))

    def _unmerged(self, uow: UnitOfWork, ev: Event, rules: list[Rule], now: datetime) -> None:
        """The merge was undone: the customer gets its every-stage owner from before the merge back (when
        that manager can still take it); the survivor keeps its own, but an owner it only inherited from the
        merged customer (reason `merge`, still holding the slot) goes back with it: the survivor returns to
        what it had before the merge (no every-stage owner; `customer_unassigned` reason `unmerged`)."""
        p, eid = ev.payload, str(ev.event_id)
        merged = uow.customer_or_new(p.merged_id)
        if not merged.merge_is_newer(p.unmerged_at, eid):
            return
        owner = merged.separate(p.unmerged_at, eid).get(ALL_STAGES)
        survivor = uow.customer(p.survivor_id)
        if owner is not None and survivor is not None and survivor.inherited(MERGE, p.merged_id, owner["manager_id"]):
            survivor.unassign(ALL_STAGES, UNMERGED, now)
            if (m := uow.manager(owner["manager_id"])) is not None:
                m.change_load(-1)
        if owner is not None and ALL_STAGES not in merged.slots:
            self._carry_owner(uow, p.merged_id, owner["manager_id"], UNMERGE, {"survivor_id": p.survivor_id}, eid,
                              now)
        if ALL_STAGES not in merged.slots and merged.held is not None:  # registered while merged: routed now
            self._route(uow, merged, CustomerFacts(**merged.held), rules, now, eid, ev.envelope.correlation_id)

    def _carry_owner(self, uow: UnitOfWork, customer_id: str, manager_id: str, reason: str,
                     why: dict[str, Any], cause: str, now: datetime) -> None:
        if uow.manager(manager_id) is None:
            return
        result = assign_in(uow, Actor.system(), [customer_id], manager_id, stage=None, share=Decimal("1"),
                           reason=reason, at=now, default_days=self.default_days, inputs=why,
                           cause_event_id=cause)[customer_id]
        if result.status == "rejected":
            log.warning("merge_owner_not_carried", customer_id=customer_id, manager_id=manager_id, code=result.code)

    def _owner_change(self, uow: UnitOfWork, p: OwnerChangeConfirmed, now: datetime) -> None:
        """The platform confirmed a client/lead owner change: the new owner holds the customer's every-stage
        slot (reason `owner_change`, by the CRM user who asked, the request as the "why"), as a manual
        assignment would, unless the manager is unknown, not active or full, or the slot was assigned
        after the confirmation (a later decision stands): then the history says why it was not followed.
        At-least-once: the request id is the cause, so a re-delivered confirmation changes nothing."""
        agg = uow.customer(p.customer_id)
        if agg is not None and agg.has_seen(p.request_id):
            log.info("owner_change_skipped", customer_id=p.customer_id, request_id=p.request_id, why="already_seen")
            return
        why = {"request_id": p.request_id, "requested_by": p.requested_by,
               "requested_at": p.requested_at.isoformat(), "reason": p.reason,
               "previous_owner_id": p.previous_owner_id, "confirmed_at": p.confirmed_at.isoformat()}
        slot = agg.slots.get(ALL_STAGES) if agg is not None else None
        code: str | None = None
        if uow.manager(p.owner_id) is None:
            code = "unknown_manager"
        elif slot is not None and slot["manager_id"] != p.owner_id and slot["assigned_at"] > p.confirmed_at:
            code = "superseded"
        else:
            result = assign_in(uow, Actor.system(), [p.customer_id], p.owner_id, stage=None, share=Decimal("1"),
                               reason=OWNER_CHANGE, at=now, default_days=self.default_days, by=p.requested_by,
                               inputs=why, cause_event_id=p.request_id)[p.customer_id]
            code = result.code if result.status == "rejected" else None
            if result.status == "unchanged":
                code = "already_owner"
        if code is not None:
            uow.customer_or_new(p.customer_id).owner_change_not_followed(
                manager_id=p.owner_id, code=code, inputs=why, at=now, request_id=p.request_id)
            (log.info if code == "already_owner" else log.warning)(
                "owner_change_not_followed", customer_id=p.customer_id, request_id=p.request_id,
                manager_id=p.owner_id, code=code)
            return
        log.info("owner_change_followed", customer_id=p.customer_id, request_id=p.request_id, manager_id=p.owner_id)


class BatchWork(UnitOfWork):
    """A unit of work for one consumer batch (or one reclaim chunk) that keeps the managers' load and the teams' round-robin
    cursors in memory while routing, and writes one event per manager / team at the end (`settle`)
    instead of one per customer."""

    def __init__(self, app: AssignmentApplication):
        super().__init__(app)
        self.extra_load: dict[str, int] = {}
        self.cursors: dict[str, str] = {}

    def took(self, manager_id: str, team_id: str | None) -> None:
        self.extra_load[manager_id] = self.extra_load.get(manager_id, 0) + 1
        if team_id is not None:
            self.cursors[team_id] = manager_id

    def released(self, manager_id: str) -> None:
        """The manager no longer holds one of their customers (a reclaim), settled with the rest."""
        self.extra_load[manager_id] = self.extra_load.get(manager_id, 0) - 1

    def team_view(self, team_id: str) -> TeamView | None:
        team = self.team(team_id)
        if team is None:
            return None
        return TeamView(team.team_id, tuple(team.members), self.cursors.get(team_id, team.rr_cursor))

    def pending_load(self, manager_id: str) -> int:
        return self.extra_load.get(manager_id, 0)

    def candidate(self, manager_id: str) -> Candidate | None:
        m = self.manager(manager_id)
        if m is None:
            return None
        return Candidate(m.manager_id, m.team_id, m.status, m.capacity, m.load + self.extra_load.get(manager_id, 0))

    def settle(self) -> None:
        for manager_id, n in self.extra_load.items():
            m = self.manager(manager_id)
            assert m is not None
            m.change_load(n)
        for team_id, manager_id in self.cursors.items():
            team = self.team(team_id)
            if team is not None and team.rr_cursor != manager_id:
                team.advance_cursor(manager_id)
