"""Route dependencies: the container, the caller's data scope and level, visibility of a campaign, and domain
error -> problem+json mapping."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request

from shared.runtime.api import Problem
from shared.runtime.api import run_command as kit_run_command
from shared.runtime.auth import Principal

from ..application import CampaignNotFound
from ..domain.campaign import Campaign
from ..domain.review import level_of
from ..projections.queries import DataScope

T = TypeVar("T")
PROBLEM_BASE = "urn:whale-crm:problem:campaigns:"


def container(request: Request) -> Any:
    return request.app.state.container


def data_scope(principal: Principal) -> DataScope:
    return DataScope(str(principal.scope), principal.user_id, tuple(principal.teams), principal.team_id)


def level(request: Request, principal: Principal) -> int:
    return level_of(principal.roles, container(request).settings.role_levels)


def not_found(campaign_id: str) -> Problem:
    return Problem(404, "Not Found", f"campaign {campaign_id!r} not found", type_=f"{PROBLEM_BASE}not_found")


def sees(principal: Principal, campaign: Campaign) -> bool:
    """All: every campaign; team: those created in the caller's teams; own: those created in the caller's own
    team (a manager's peers); everyone: their own (the same rule as `projections.queries.visible`)."""
    scope = data_scope(principal)
    if scope.scope == "all" or campaign.created_by == scope.user_id:
        return True
    teams = scope.teams if scope.scope == "team" else ((scope.team,) if scope.team else ())
    return campaign.scope.get("team") in teams


def run_command(fn: Callable[..., T], *args: Any, campaign_id: str | None = None, **kwargs: Any) -> Awaitable[T]:
    """Run a synchronous application command in a worker thread (the kit's `run_command`): domain errors and a
    lost concurrent write as problem+json, a missing campaign as a 404."""

    def missing(exc: Exception) -> Problem | None:
        return not_found(campaign_id or str(exc)) if isinstance(exc, CampaignNotFound) else None

    return kit_run_command(functools.partial(fn, *args, **kwargs), PROBLEM_BASE, what="campaign", problem=missing)
