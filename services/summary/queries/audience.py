"""Whose data a caller sees: the principal's data scope narrowed by optional manager / team filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false

from shared.runtime.auth import Principal, Scope


class OutOfScope(Exception):
    """A filter names a manager or team outside the caller's scope (answered as 404)."""


@dataclass(frozen=True)
class Audience:
    managers: tuple[str, ...] | None = None  # None = any
    teams: tuple[str, ...] | None = None  # None = any

    @property
    def single_manager(self) -> str | None:
        return self.managers[0] if self.managers and len(self.managers) == 1 else None

    def where(self, table: Any, *, blank_none: bool = False) -> list[ColumnElement[bool]]:
        """Conditions on `table.c.manager_id` / `table.c.team_id`."""
        out: list[ColumnElement[bool]] = []
        if self.managers is not None:
            out.append(table.c.manager_id.in_(self.managers) if self.managers else false())
        if self.teams is not None:
            out.append(table.c.team_id.in_(self.teams) if self.teams else false())
        return out


def audience_for(principal: Principal, *, manager_id: str | None = None, team_id: str | None = None) -> Audience:
    if principal.scope == Scope.own:
        if manager_id is not None and manager_id != principal.user_id:
            raise OutOfScope(f"manager {manager_id!r} not found")
        if team_id is not None:
            raise OutOfScope(f"team {team_id!r} not found")
        return Audience(managers=(principal.user_id,))
    if principal.scope == Scope.team:
        teams = tuple(principal.teams)
        if team_id is not None:
            if team_id not in teams:
                raise OutOfScope(f"team {team_id!r} not found")
            teams = (team_id,)
        return Audience(managers=(manager_id,) if manager_id else None, teams=teams)
    return Audience(managers=(manager_id,) if manager_id else None, teams=(team_id,) if team_id else None)
