"""Outbox mapper: stored domain event -> the `crm.assignment.*` messages the relay publishes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.events.crm_assignment import (
    CustomerAssigned,
    CustomerQueued,
    CustomerUnassigned,
    ManagerChanged,
    ManagerStatus,
    PoolSlaBreached,
    TeamChanged,
    UnassignReason,
)
from shared.runtime.outbox import Outgoing

from .domain.model import ALL_STAGES, CustomerAssignment, Manager, Team


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


def _assigned(e: Any) -> list[Outgoing]:
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


def _unassigned(e: Any) -> list[Outgoing]:
    return [Outgoing(CustomerUnassigned(
        customer_id=e.customer_id, manager_id=e.manager_id, team_id=e.team_id, stage=_stage(e.stage),
        reason=UnassignReason(e.reason), unassigned_by=e.by, unassigned_at=e.at,
    ), occurred_at=e.at, correlation_id=e.correlation_id)]


def _queued(e: Any) -> list[Outgoing]:
    return [Outgoing(CustomerQueued(
        customer_id=e.customer_id, team_id=e.team_id, rule_id=e.rule_id, rule_version=e.rule_version,
        queued_at=e.at, sla_due_at=e.sla_due_at, rule_inputs=e.inputs or None,
    ), occurred_at=e.at, causation_id=e.cause_event_id, correlation_id=e.correlation_id)]


def _sla_breached(e: Any) -> list[Outgoing]:
    return [Outgoing(PoolSlaBreached(customer_id=e.customer_id, team_id=e.team_id, queued_at=e.queued_at,
                                     sla_due_at=e.sla_due_at, breached_at=e.at), occurred_at=e.at)]


def _manager_registered(e: Any) -> list[Outgoing]:
    return [_manager({"manager_id": e.manager_id, "name": e.name, "position": e.position,
                      "team_id": e.team_id, "regions": e.regions, "languages": e.languages,
                      "capacity": e.capacity, "referral_code": e.referral_code, "status": "active"}, e.at)]


def _manager_profile(e: Any) -> list[Outgoing]:
    return [_manager(e.profile, e.at)]


def _team_created(e: Any) -> list[Outgoing]:
    return [_team({"team_id": e.team_id, "name": e.name, "leader_id": e.leader_id,
                   "protection_days": e.protection_days}, e.at)]


def _team_edited(e: Any) -> list[Outgoing]:
    return [_team(e.profile, e.at)]


MAPPERS: dict[type, Callable[[Any], list[Outgoing]]] = {  # by the stored domain event's class
    CustomerAssignment.Assigned: _assigned,
    CustomerAssignment.Unassigned: _unassigned,
    CustomerAssignment.Queued: _queued,
    CustomerAssignment.PoolSlaBreached: _sla_breached,
    Manager.Registered: _manager_registered,
    Manager.Edited: _manager_profile,
    Manager.Resigned: _manager_profile,
    Team.Created: _team_created,
    Team.Edited: _team_edited,
}


def map_event(e: Any) -> list[Outgoing]:
    mapper = MAPPERS.get(type(e))
    return mapper(e) if mapper is not None else []
