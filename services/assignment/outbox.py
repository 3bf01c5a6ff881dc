"""Outbox mapper: stored domain event -> the `crm.assignment.*` messages the relay publishes."""

from __future__ import annotations

from typing import Any

from shared.events.crm_assignment import (
    CustomerAssigned,
    CustomerUnassigned,
    ManagerChanged,
    ManagerStatus,
    TeamChanged,
    UnassignReason,
)
from shared.runtime.outbox import Outgoing

from .domain.model import ALL_STAGES


def _stage(key: str) -> str | None:
    return None if key == ALL_STAGES else key


def _manager(profile: dict[str, Any], at: Any) -> Outgoing:
    return Outgoing(ManagerChanged(
        manager_id=profile["manager_id"], name=profile["name"], position=profile.get("position"),
        team_id=profile.get("team_id"), regions=list(profile.get("regions") or []),
        languages=list(profile.get("languages") or []), status=ManagerStatus(profile["status"]),
        referral_code=profile.get("referral_code"), changed_at=at, capacity=profile.get("capacity"),
    ), occurred_at=at)


def _team(p: dict[str, Any], at: Any) -> Outgoing:
    return Outgoing(TeamChanged(team_id=p["team_id"], name=p["name"], leader_id=p.get("leader_id"),
                                protection_days=p["protection_days"], changed_at=at), occurred_at=at)


def map_event(e: Any) -> list[Outgoing]:
    kind = type(e).__qualname__
    if kind == "CustomerAssignment.Assigned":
        out: list[Outgoing] = []
        if e.previous_manager_id is not None and e.previous_manager_id != e.manager_id:
            reason = UnassignReason.manager_resigned if e.reason == "handover" else UnassignReason.reassigned
            out.append(Outgoing(CustomerUnassigned(
                customer_id=e.customer_id, manager_id=e.previous_manager_id, team_id=e.previous_team_id,
                stage=_stage(e.stage), reason=reason, unassigned_by=e.by, unassigned_at=e.at,
            ), occurred_at=e.at, causation_id=e.cause_event_id, correlation_id=e.correlation_id))
        out.append(Outgoing(CustomerAssigned(
            customer_id=e.customer_id, manager_id=e.manager_id, team_id=e.team_id, stage=_stage(e.stage),
            share=e.share, previous_manager_id=e.previous_manager_id, rule_id=e.rule_id,
            rule_version=e.rule_version, reason=e.reason, assigned_by=e.by, assigned_at=e.at,
            protection_expires_at=e.protection_expires_at, rule_inputs=e.inputs or None,
        ), occurred_at=e.at, causation_id=e.cause_event_id, correlation_id=e.correlation_id))
        return out
    if kind == "CustomerAssignment.Unassigned":
        return [Outgoing(CustomerUnassigned(
            customer_id=e.customer_id, manager_id=e.manager_id, team_id=e.team_id, stage=_stage(e.stage),
            reason=UnassignReason(e.reason), unassigned_by=e.by, unassigned_at=e.at,
        ), occurred_at=e.at, correlation_id=e.correlation_id)]
    if kind == "Manager.Registered":
        return [_manager({"manager_id": e.manager_id, "name": e.name, "position": e.position,
                          "team_id": e.team_id, "regions": e.regions, "languages": e.languages,
                          "capacity": e.capacity, "referral_code": e.referral_code, "status": "active"}, e.at)]
    if kind in ("Manager.Edited", "Manager.Resigned"):
        return [_manager(e.profile, e.at)]
    if kind == "Team.Created":
        return [_team({"team_id": e.team_id, "name": e.name, "leader_id": e.leader_id,
                       "protection_days": e.protection_days}, e.at)]
    if kind == "Team.Edited":
        return [_team(e.profile, e.at)]
    return []
