"""Commands for teams, account managers and assignment rules (synchronous; call via asyncio.to_thread)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.runtime.logging import get_logger

from .application import AssignmentApplication, UnitOfWork, save_retrying
from .domain.errors import Conflict, Forbidden, Invalid, NotFound
from .domain.model import Manager, ReferralCode, Team
from .domain.rules import ALLOCATIONS, STRATEGIES
from .domain.scope import Actor

log = get_logger("assignment.admin")


class Admin:
    def __init__(self, app: AssignmentApplication):
        self.app = app

    # ----------------------------------------------------------------------------------------- teams
    def create_team(self, actor: Actor, *, team_id: str, name: str, leader_id: str | None, protection_days: int,
                    at: datetime, reclaim_policy: str | None = None,
                    pool_sla_minutes: int | None = None) -> dict[str, Any]:
        if actor.scope != "all":
            raise Forbidden("only an all-scope user may create teams")

        def run(uow: UnitOfWork) -> dict[str, Any]:
            if uow.team(team_id) is not None:
                raise Conflict(f"team {team_id!r} already exists", field="team_id", code="duplicate")
            team = uow.add(Team(team_id=team_id, name=name, leader_id=leader_id, protection_days=protection_days,
                                at=at, pool_sla_minutes=pool_sla_minutes))
            if reclaim_policy is not None:
                team.edit({"reclaim_policy": reclaim_policy}, at)
            return team.profile()

        out = save_retrying(self.app, run)
        log.info("team_created", team_id=team_id)
        return out

    def edit_team(self, actor: Actor, team_id: str, changes: dict[str, Any], at: datetime) -> dict[str, Any]:
        if not actor.may_manage_team(team_id):
            raise NotFound(f"team {team_id!r} not found")

        def run(uow: UnitOfWork) -> dict[str, Any]:
            team = uow.team(team_id)
            if team is None:
                raise NotFound(f"team {team_id!r} not found")
            team.edit(changes, at)
            return team.profile()

        out = save_retrying(self.app, run)
        log.info("team_edited", team_id=team_id, fields=sorted(changes))
        return out

    # -------------------------------------------------------------------------------------- managers
    def create_manager(self, actor: Actor, *, manager_id: str, name: str, position: str | None,
                       team_id: str | None, regions: list[str], languages: list[str], capacity: int,
                       referral_code: str | None, at: datetime) -> dict[str, Any]:
        if not actor.may_manage_team(team_id):
            raise Forbidden("a team-scope user may only add managers to their own teams", field="team_id")

        def run(uow: UnitOfWork) -> dict[str, Any]:
            if uow.manager(manager_id) is not None:
                raise Conflict(f"manager {manager_id!r} already exists", field="manager_id", code="duplicate")
            team = self._team(uow, team_id)
            manager = uow.add(Manager(manager_id=manager_id, name=name, position=position, team_id=team_id,
                                      regions=regions, languages=languages, capacity=capacity,
                                      referral_code=referral_code, at=at))
            if team is not None:
                team.add_member(manager_id)
            if referral_code:
                self._claim(uow, referral_code, manager_id)
            return manager.profile() | {"load": manager.load}

        out = save_retrying(self.app, run)
        log.info("manager_added", manager_id=manager_id, team_id=team_id)
        return out

    def edit_manager(self, actor: Actor, manager_id: str, changes: dict[str, Any], at: datetime) -> dict[str, Any]:
        def run(uow: UnitOfWork) -> dict[str, Any]:
            manager = self.visible_manager(uow, actor, manager_id)
            old_team, old_code = manager.team_id, manager.referral_code
            if "team_id" in changes and not actor.may_manage_team(changes["team_id"]):
                raise Forbidden("target team is outside the caller's scope", field="team_id")
            new_team = self._team(uow, changes["team_id"]) if changes.get("team_id") else None
            diff = manager.edit(changes, at)
            if "team_id" in diff:
                if old_team and (t := uow.team(old_team)) is not None:
                    t.remove_member(manager_id)
                if new_team is not None:
                    new_team.add_member(manager_id)
            if "referral_code" in diff:
                if old_code and (code := uow.referral(old_code)) is not None:
                    code.release()
                if diff["referral_code"]:
                    self._claim(uow, diff["referral_code"], manager_id)
            return manager.profile() | {"load": manager.load}

        out = save_retrying(self.app, run)
        log.info("manager_edited", manager_id=manager_id, fields=sorted(changes))
        return out

    @staticmethod
    def visible_manager(uow: UnitOfWork, actor: Actor, manager_id: str) -> Manager:
        manager = uow.manager(manager_id)
        if manager is None or not actor.may_manage_team(manager.team_id):
            raise NotFound(f"manager {manager_id!r} not found")
        return manager

    @staticmethod
    def _team(uow: UnitOfWork, team_id: str | None) -> Team | None:
        if team_id is None:
            return None
        team = uow.team(team_id)
        if team is None:
            raise Invalid(f"unknown team {team_id!r}", field="team_id")
        return team

    @staticmethod
    def _claim(uow: UnitOfWork, code: str, manager_id: str) -> None:
        existing = uow.referral(code)
        if existing is None:
            uow.add(ReferralCode(code=code, manager_id=manager_id))
        else:
            existing.claim(manager_id)

    # ----------------------------------------------------------------------------------------- rules
    def save_rule(self, actor: Actor, rule_id: str, definition: dict[str, Any], at: datetime) -> dict[str, Any]:
        """Create or change a rule (every change is a new version). Rules are global (their order decides
        for every team), so only an all-scope user may change them."""
        if actor.scope != "all":
            raise Forbidden("only an all-scope user may change assignment rules")
        if definition.get("strategy", "round_robin") not in STRATEGIES:
            raise Invalid(f"strategy must be one of {STRATEGIES}", field="strategy")
        if definition.get("allocation", "direct") not in ALLOCATIONS:
            raise Invalid(f"allocation must be one of {ALLOCATIONS}", field="allocation")

        def run(uow: UnitOfWork) -> dict[str, Any]:
            book = uow.rulebook()
            merged = {**book.rules.get(rule_id, {}), **definition}
            if "position" not in merged:
                raise Invalid("position is required for a new rule", field="position")
            if bool(merged.get("team_id")) == bool(merged.get("manager_id")):
                raise Invalid("a rule targets exactly one of team_id or manager_id", field="team_id")
            if merged.get("allocation") == "team_pool" and not merged.get("team_id"):
                raise Invalid("a rule allocating to a team's pool targets a team", field="allocation")
            if merged.get("team_id") and uow.team(merged["team_id"]) is None:
                raise Invalid(f"unknown team {merged['team_id']!r}", field="team_id")
            if merged.get("manager_id") and uow.manager(merged["manager_id"]) is None:
                raise Invalid(f"unknown manager {merged['manager_id']!r}", field="manager_id")
            return dict(book.save_rule(rule_id, definition, at, actor.user_id))

        out = save_retrying(self.app, run)
        log.info("rule_saved", rule_id=rule_id, version=out["version"])
        return out
