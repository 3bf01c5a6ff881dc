"""Who may act on what: the caller's data scope, as the domain sees it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """`own`: only themself (a manager's id is their user id); `team`: managers / customers of `teams`;
    `all`: everyone. `user_id` is None for the system (rules, scheduler)."""

    user_id: str | None
    scope: str = "all"
    teams: tuple[str, ...] = ()

    @classmethod
    def system(cls) -> Actor:
        return cls(None, "all", ())

    def may_use_manager(self, manager_id: str, team_id: str | None) -> bool:
        if self.scope == "all":
            return True
        if self.scope == "team":
            return team_id is not None and team_id in self.teams
        return manager_id == self.user_id

    def may_see_slot(self, manager_id: str | None, team_id: str | None) -> bool:
        """A customer slot (None manager = in the pool, which every assigner may take)."""
        if manager_id is None:
            return True
        return self.may_use_manager(manager_id, team_id)

    def may_manage_team(self, team_id: str | None) -> bool:
        return self.scope == "all" or (self.scope == "team" and team_id is not None and team_id in self.teams)
