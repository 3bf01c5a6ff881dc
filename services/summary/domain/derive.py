"""Per-customer derivation: from one customer's history (stage changes, assignments, milestones), the facts
with their attribution, the stage and the manager at any moment, and the current state.

Pure and order-independent: the history is sorted by (time, event id) before use, so any delivery order,
re-delivery or replay of the same events gives the same result.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# Milestones of the funnel, in order, and the lifecycle stage a customer is in *when* each happens
# (the stage whose manager gets the credit).
MILESTONES = ("registered", "applied", "opened", "funded", "traded")
STAGE_BEFORE = {
    "registered": "registered",
    "applied": "registered",
    "opened": "pending_account_opening",
    "rejected": "pending_account_opening",
    "funded": "pending_funding",
    "traded": "funded",
}
# A stage change into a stage implies the milestone that leads there.
MILESTONE_OF_STAGE = {
    "registered": "registered",
    "pending_account_opening": "applied",
    "pending_funding": "opened",
    "funded": "funded",
    "traded": "traded",
}
# Conversions credited by attribution share (seed 002, 业绩归属): the stage's owner holds its share, the rest
# goes to the every-stage owner (see `CustomerTimeline.credit_at`).
CONVERSIONS = ("opened", "funded", "traded")
SHARE_PLACES = Decimal("0.0001")
WHOLE = Decimal(1)
ANY_STAGE = "*"
STAGE_RANK = {s: i for i, s in enumerate(
    ("registered", "pending_account_opening", "pending_funding", "funded", "traded"))}


MERGE_MARKS = ("merged", "unmerged")  # history kinds of a merge mark: a = the survivor


@dataclass(frozen=True, order=True)
class HistoryItem:
    """One history entry. `kind`: stage | assign | unassign | milestone | rejected | merged | unmerged.

    stage: a=to_stage. assign/unassign: a=manager_id, b=team_id, c=stage (None = every stage); assign: d=share
    (decimal text; None = whole). milestone: a=milestone name. rejected: b=application ref."""

    at: datetime
    event_id: str
    kind: str = field(compare=False)
    a: str | None = field(default=None, compare=False)
    b: str | None = field(default=None, compare=False)
    c: str | None = field(default=None, compare=False)
    d: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Owner:
    manager_id: str | None = None
    team_id: str | None = None


NOBODY = Owner()


@dataclass(frozen=True)
class Fact:
    """A customer milestone (or an account rejection) with the manager in force when it happened."""

    kind: str
    ref: str
    at: datetime
    manager_id: str | None
    team_id: str | None
    secs_since_applied: int | None = None
    secs_since_registered: int | None = None
    share: Decimal = WHOLE  # the manager's attribution share of the fact; the rest is the co-owner's
    co_manager_id: str | None = None
    co_team_id: str | None = None


def share_of(text: str | None) -> Decimal:
    """An assignment's share as a decimal, half-even to 4 places, within [0, 1] (None / unreadable = whole)."""
    try:
        value = WHOLE if text is None else Decimal(text).quantize(SHARE_PLACES, ROUND_HALF_EVEN)
    except InvalidOperation:
        return WHOLE
    return min(max(value, Decimal(0)), WHOLE) if value.is_finite() else WHOLE


@dataclass(frozen=True)
class Funnel:
    registered_at: datetime | None
    applied_at: datetime | None
    opened_at: datetime | None
    funded_at: datetime | None
    traded_at: datetime | None
    owner: Owner


def funnel_credits(facts: Iterable[Fact]) -> list[tuple[str, int, str | None, str | None, Decimal]]:
    """Who is credited each conversion the funnel counts, by attribution share: (milestone, part, manager, team,
    share). A conversion reached without its own fact (funded with no recorded opening counts as opened) is
    credited like the first recorded conversion after it. Part 0 is the owner (its share), part 1 the co-owner
    (the rest): a customer's conversion adds up to exactly 1."""
    by_kind = {f.kind: f for f in facts if f.kind in CONVERSIONS}
    out: list[tuple[str, int, str | None, str | None, Decimal]] = []
    for i, name in enumerate(CONVERSIONS):
        f = next((by_kind[k] for k in CONVERSIONS[i:] if k in by_kind), None)
        if f is None:
            continue
        out.append((name, 0, f.manager_id, f.team_id, f.share))
        if f.share < WHOLE:
            out.append((name, 1, f.co_manager_id, f.co_team_id, WHOLE - f.share))
    return out


class CustomerTimeline:
    def __init__(self, items: Iterable[HistoryItem]):
        self.items = sorted(set(items))
        # Stage changes at the same instant (facts stamped with one time) order by lifecycle rank, so the
        # furthest stage wins whatever the event ids are.
        self._stages = sorted((i.at, STAGE_RANK.get(i.a, -1), i.event_id, i.a)
                              for i in self.items if i.kind == "stage" and i.a)
        self._assignments = [i for i in self.items if i.kind in ("assign", "unassign")]
        self._assign_keys = [(i.at, i.event_id) for i in self._assignments]

    # -- merge -----------------------------------------------------------------------------------
    def merged(self) -> bool:
        """Merged into another customer (the latest of its merges and unmerges by (time, event id) is a
        merge): it then contributes nothing — no stage, milestones, funnel or due items — so every count is
        by unique survivor."""
        return self.survivor() is not None

    def survivor(self) -> str | None:
        """The customer this one is merged into now (None: not merged)."""
        marks = [i for i in self.items if i.kind in MERGE_MARKS]
        return marks[-1].a if marks and marks[-1].kind == "merged" else None

    # -- stage -----------------------------------------------------------------------------------
    def stage_at(self, at: datetime) -> str | None:
        """Stage in force at `at` (the latest stage change at or before it)."""
        idx = bisect.bisect_right(self._stages, (at, len(STAGE_RANK), "\uffff", ""))
        return self._stages[idx - 1][3] if idx else None

    def current_stage(self) -> tuple[str | None, datetime | None]:
        if not self._stages:
            return None, None
        at, _, _, stage = self._stages[-1]
        return stage, at

    # -- assignment ------------------------------------------------------------------------------
    def _slots_at(self, at: datetime | None) -> dict[str, tuple[Owner, Decimal]]:
        """The assignment slots in force at `at` (None = now): stage key → (owner, share)."""
        slots: dict[str, tuple[Owner, Decimal]] = {}
        for item in self._assignments:
            if at is not None and item.at > at:
                break
            key = item.c or ANY_STAGE
            if item.kind == "assign":
                slots[key] = (Owner(item.a, item.b), share_of(item.d))
            elif key in slots and slots[key][0].manager_id == item.a:
                del slots[key]
            elif key == ANY_STAGE:
                for k in [k for k, (o, _) in slots.items() if o.manager_id == item.a]:
                    del slots[k]
        return slots

    def _owners_at(self, at: datetime | None) -> dict[str, Owner]:
        return {k: owner for k, (owner, _) in self._slots_at(at).items()}

    def credit_at(self, at: datetime, stage: str) -> tuple[Owner, Decimal, Owner]:
        """Attribution of a conversion at `at` in `stage` (seed 002, 业绩归属): (owner, share, co-owner). The
        stage's owner (its stage-specific slot, else the every-stage one) is credited its slot's share; when
        that is a stage-specific slot and another manager holds the every-stage slot, that manager is credited
        the rest (1 − share); otherwise nobody else holds a share and the owner is credited the whole. So a
        customer's conversion counts exactly 1 in total (shares are 4-place decimals: the two parts add up
        exactly)."""
        slots = self._slots_at(at)
        own = slots.get(stage)
        every = slots.get(ANY_STAGE)
        if own is None or not own[0].manager_id:
            return (every[0] if every else NOBODY), WHOLE, NOBODY
        owner, share = own
        if share >= WHOLE or every is None or not every[0].manager_id or every[0].manager_id == owner.manager_id:
            return owner, WHOLE, NOBODY
        return owner, share, every[0]

    def owner_at(self, at: datetime | None, stage: str | None) -> Owner:
        """Manager in force at `at` (None = now) for `stage`: a stage-specific assignment wins over an
        all-stage one."""
        owners = self._owners_at(at)
        return owners.get(stage or ANY_STAGE) or owners.get(ANY_STAGE) or NOBODY

    def first_owner_after(self, at: datetime) -> Owner:
        for item in self._assignments:
            if item.kind == "assign" and item.at >= at:
                return Owner(item.a, item.b)
        return NOBODY

    def acquisition_owner(self, registered_at: datetime | None) -> Owner:
        """Who the customer belongs to for cohort analytics: the manager in force at registration or,
        when none was (customers are usually assigned just after they register), the first one after."""
        if registered_at is None:
            return NOBODY
        owner = self.owner_at(registered_at, "registered")
        return owner if owner.manager_id else self.first_owner_after(registered_at)

    def current_owner(self) -> Owner:
        return self.owner_at(None, self.current_stage()[0])

    # -- milestones --------------------------------------------------------------------------------
    def milestone_times(self) -> dict[str, datetime]:
        """First time of each milestone, from the explicit facts and from the stage changes."""
        first: dict[str, datetime] = {}
        for item in self.items:
            name = None
            if item.kind == "milestone":
                name = item.a
            elif item.kind == "stage" and item.a in MILESTONE_OF_STAGE:
                name = MILESTONE_OF_STAGE[item.a]
            if name in MILESTONES and (name not in first or item.at < first[name]):
                first[name] = item.at
        return first

    def facts(self) -> list[Fact]:
        times = self.milestone_times()
        out: list[Fact] = []
        for name in MILESTONES:
            at = times.get(name)
            if at is None:
                continue
            owner = (self.acquisition_owner(at) if name == "registered"
                     else self.owner_at(at, STAGE_BEFORE[name]))
            share, co = WHOLE, NOBODY
            if name in CONVERSIONS:
                owner, share, co = self.credit_at(at, STAGE_BEFORE[name])
            since_applied = since_registered = None
            if name == "opened":
                since_applied = _secs(times.get("applied"), at)
                since_registered = _secs(times.get("registered"), at)
            out.append(Fact(name, "", at, owner.manager_id, owner.team_id, since_applied, since_registered,
                            share, co.manager_id, co.team_id))
        rejections: dict[str, datetime] = {}
        for item in self.items:
            if item.kind == "rejected":
                ref = item.b or ""
                if ref not in rejections or item.at < rejections[ref]:
                    rejections[ref] = item.at
        for ref, at in sorted(rejections.items()):
            owner = self.owner_at(at, STAGE_BEFORE["rejected"])
            out.append(Fact("rejected", ref, at, owner.manager_id, owner.team_id))
        return out

    def funnel(self) -> Funnel:
        t = self.milestone_times()
        registered = t.get("registered")
        return Funnel(registered, t.get("applied"), t.get("opened"), t.get("funded"), t.get("traded"),
                      self.acquisition_owner(registered))


def _secs(start: datetime | None, end: datetime) -> int | None:
    if start is None or start > end:
        return None
    return int((end - start).total_seconds())
