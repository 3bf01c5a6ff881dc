"""The rule engine: which manager gets a newly registered customer, and why. Pure functions.

Order of decision:
1. a referral code that belongs to an active manager with free capacity → that manager (`referral_code`);
2. the enabled rules in order (`position`, then rule id): the first rule whose criteria all match
   (an empty criterion matches anything) *and* that yields an eligible manager wins (`rule`); a rule
   whose manager / team has nobody eligible is skipped (recorded in the inputs) and the next one tried;
   A rule with `allocation: team_pool` does not pick a manager: the customer is queued in its team's pool
   (`team_pool`), where the team lead distributes it;
3. nothing → the customer stays in the pool (a `pool` decision, with what was skipped).
A reclaimed customer is routed again the same way (`reroute`), the manager who lost it excluded unless no
one else is eligible.
Within a team: `round_robin` (the next eligible member after the team's cursor, members ordered by id)
or `least_loaded` (fewest customers held; ties broken in round-robin order). Eligible = status active and
load < capacity; absent and resigned managers are skipped.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

STRATEGIES = ("round_robin", "least_loaded")
ALLOCATIONS = ("direct", "team_pool")  # to a manager now, or queued in the team's pool for its lead


@dataclass(frozen=True)
class CustomerFacts:
    """What routing may look at (no personal data)."""

    customer_id: str
    channel: str | None = None
    user_region: str | None = None
    active_region: str | None = None
    language: str | None = None
    referral_code: str | None = None
    institution_id: str | None = None
    segments: tuple[str, ...] = ()  # the customer service's saved segments it is in (at registration)

    @property
    def region(self) -> str | None:
        """The Active Region (ID issuing country, else the User Region) — the documents' rule."""
        return self.active_region or self.user_region

    def inputs(self) -> dict[str, Any]:
        return {"channel": self.channel, "region": self.region, "user_region": self.user_region,
                "active_region": self.active_region, "language": self.language,
                "referral_code": self.referral_code,
                **({"institution_id": self.institution_id} if self.institution_id else {}),
                **({"segments": list(self.segments)} if self.segments else {})}


def _norm(values: Any) -> tuple[str, ...]:
    return tuple(str(v).strip().lower() for v in (values or ()) if str(v).strip())


def language_matches(wanted: tuple[str, ...], language: str | None) -> bool:
    """`zh` matches `zh`, `zh-HK`, `zh-Hant`; `zh-hk` matches only `zh-HK` (case-insensitive)."""
    if not wanted:
        return True
    if not language:
        return False
    lang = language.lower()
    return any(lang == w or lang.startswith(w + "-") for w in wanted)


@dataclass(frozen=True)
class Rule:
    rule_id: str
    version: int
    position: int
    team_id: str | None = None
    manager_id: str | None = None
    strategy: str = "round_robin"
    allocation: str = "direct"
    enabled: bool = True
    regions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    referral_codes: tuple[str, ...] = ()
    institutions: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()  # segment ids (exact): the customer is in any of them

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Rule:
        return cls(rule_id=d["rule_id"], version=int(d["version"]), position=int(d["position"]),
                   team_id=d.get("team_id"), manager_id=d.get("manager_id"),
                   strategy=d.get("strategy") or "round_robin", allocation=d.get("allocation") or "direct",
                   enabled=bool(d.get("enabled", True)),
                   regions=_norm(d.get("regions")), channels=_norm(d.get("channels")),
                   languages=_norm(d.get("languages")), referral_codes=_norm(d.get("referral_codes")),
                   institutions=_norm(d.get("institutions")), segments=tuple(d.get("segments") or ()))

    def matches(self, facts: CustomerFacts) -> bool:
        if not self.enabled:
            return False
        if self.regions and (facts.region or "").lower() not in self.regions:
            return False
        if self.channels and (facts.channel or "").lower() not in self.channels:
            return False
        if self.referral_codes and (facts.referral_code or "").strip().lower() not in self.referral_codes:
            return False
        if self.institutions and (facts.institution_id or "").lower() not in self.institutions:
            return False
        if self.segments and not set(self.segments) & set(facts.segments):
            return False
        return language_matches(self.languages, facts.language)


@dataclass(frozen=True)
class Candidate:
    manager_id: str
    team_id: str | None
    status: str
    capacity: int
    load: int

    @property
    def eligible(self) -> bool:
        return self.status == "active" and self.load < self.capacity


@dataclass(frozen=True)
class TeamView:
    team_id: str
    members: tuple[str, ...]
    rr_cursor: str | None = None


@dataclass(frozen=True)
class Decision:
    manager_id: str | None  # None: stays in the pool
    team_id: str | None
    reason: str  # "referral_code" | "rule" | "team_pool" (queued in `team_id`'s pool) | "pool"
    rule_id: str | None
    rule_version: int | None
    inputs: dict[str, Any] = field(default_factory=dict)
    advance_team: str | None = None  # team whose round-robin cursor moves to `manager_id`


def round_robin_order(members: tuple[str, ...], cursor: str | None) -> list[str]:
    """Members in the order round-robin offers them: the first after the cursor, wrapping around."""
    ordered = sorted(members)
    if not ordered:
        return []
    start = bisect_right(ordered, cursor) if cursor is not None else 0
    return ordered[start:] + ordered[:start]


def pick_in_team(team: TeamView, managers: Mapping[str, Candidate | None], strategy: str) -> str | None:
    order = round_robin_order(team.members, team.rr_cursor)
    eligible = [m for m in order if (c := managers.get(m)) is not None and c.eligible]
    if not eligible:
        return None
    if strategy == "least_loaded":
        rank = {m: i for i, m in enumerate(eligible)}
        return min(eligible, key=lambda m: (managers[m].load, rank[m]))  # type: ignore[union-attr]
    return eligible[0]


def route(facts: CustomerFacts, rules: list[Rule], teams: Mapping[str, TeamView | None],
          managers: Mapping[str, Candidate | None], referral_manager_id: str | None = None) -> Decision:
    inputs = facts.inputs()
    skipped: list[str] = []
    if referral_manager_id is not None:
        cand = managers.get(referral_manager_id)
        if cand is not None and cand.eligible:
            return Decision(cand.manager_id, cand.team_id, "referral_code", None, None,
                            {**inputs, "matched": "referral_code"})
        skipped.append(f"referral_code manager {referral_manager_id}: "
                       f"{'unknown' if cand is None else ('full' if cand.status == 'active' else cand.status)}")
    for rule in sorted(rules, key=lambda r: (r.position, r.rule_id)):
        if not rule.matches(facts):
            continue
        if rule.allocation == "team_pool":
            if rule.team_id is None or teams.get(rule.team_id) is None:
                skipped.append(f"rule {rule.rule_id} v{rule.version}: unknown team")
                continue
            details = {**inputs, "matched": f"rule {rule.rule_id} v{rule.version}", "allocation": "team_pool"}
            if skipped:
                details["skipped"] = skipped
            return Decision(None, rule.team_id, "team_pool", rule.rule_id, rule.version, details)
        chosen = _target(rule, teams, managers)
        if chosen is None:
            skipped.append(f"rule {rule.rule_id} v{rule.version}: no eligible manager")
            continue
        cand = managers[chosen]
        assert cand is not None
        details = {**inputs, "matched": f"rule {rule.rule_id} v{rule.version}", "strategy": rule.strategy}
        if skipped:
            details["skipped"] = skipped
        team_id = rule.team_id or cand.team_id
        return Decision(chosen, team_id, "rule", rule.rule_id, rule.version, details,
                        advance_team=rule.team_id if rule.manager_id is None else None)
    return Decision(None, None, "pool", None, None, {**inputs, "matched": None, "skipped": skipped})


def reroute(facts: CustomerFacts, rules: list[Rule], teams: Mapping[str, TeamView | None],
            managers: Mapping[str, Candidate | None], excluded: str,
            referral_manager_id: str | None = None) -> Decision:
    """A reclaimed customer routed again: the same decision as `route`, never to `excluded` (the manager who
    lost it) unless no one else is eligible — then `fallback_to_previous` is true in the inputs. The
    decision's reason is `reroute` (`pool` when nobody at all is eligible)."""
    without = _Without(managers, excluded)
    decision = route(facts, rules, teams, without, referral_manager_id)
    fallback = False
    if decision.manager_id is None:
        again = route(facts, rules, teams, managers, referral_manager_id)
        if again.manager_id == excluded:
            decision, fallback = again, True
    inputs = {**decision.inputs, "excluded_manager": excluded, "fallback_to_previous": fallback}
    if decision.manager_id is None:
        return replace(decision, inputs=inputs)
    return replace(decision, reason="reroute", inputs=inputs)


class _Without(Mapping[str, "Candidate | None"]):
    """The candidates, with one manager made ineligible."""

    def __init__(self, managers: Mapping[str, Candidate | None], excluded: str):
        self._managers, self._excluded = managers, excluded

    def __getitem__(self, key: str) -> Candidate | None:
        cand = self._managers[key]
        if key == self._excluded and cand is not None:
            return replace(cand, status="excluded")
        return cand

    def __iter__(self) -> Iterator[str]:
        return iter(self._managers)

    def __len__(self) -> int:
        return len(self._managers)


def _target(rule: Rule, teams: Mapping[str, TeamView | None], managers: Mapping[str, Candidate | None]) -> str | None:
    if rule.manager_id is not None:
        cand = managers.get(rule.manager_id)
        return rule.manager_id if cand is not None and cand.eligible else None
    if rule.team_id is None:
        return None
    team = teams.get(rule.team_id)
    if team is None:
        return None
    return pick_in_team(team, managers, rule.strategy)
