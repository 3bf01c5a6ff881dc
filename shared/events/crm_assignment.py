"""`crm.assignment.events`: what the assignment service publishes (through its outbox)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, Field

from . import topics
from .registry import Payload, registry
from .types import CountryCode, CustomerId, EntityId, ShortText


class UnassignReason(StrEnum):
    manual = "manual"
    reclaimed = "reclaimed"  # protection period expired without a follow-up
    manager_resigned = "manager_resigned"
    reassigned = "reassigned"
    merged = "merged"  # the customer was merged into another (crm.customer.merged): the survivor's owner wins
    unmerged = "unmerged"  # the merge was undone (crm.customer.unmerged): an owner the survivor inherited goes back


class ManagerStatus(StrEnum):
    active = "active"
    absent = "absent"
    resigned = "resigned"


@registry.contract("crm.assignment.customer_assigned", version=1, topic=topics.CRM_ASSIGNMENT)
class CustomerAssigned(Payload):
    """A customer was assigned to an account manager (for a stage, with a performance-attribution share)."""

    customer_id: CustomerId
    manager_id: EntityId
    team_id: EntityId | None = None
    stage: ShortText | None = Field(default=None, description="Lifecycle stage this assignment is for; None = all.")
    share: Decimal = Field(default=Decimal("1"), ge=0, le=1, description="Performance-attribution share.")
    previous_manager_id: EntityId | None = None
    rule_id: EntityId | None = Field(default=None, description="Assignment rule that chose the manager, if any.")
    rule_version: int | None = None
    reason: ShortText = Field(description="manual, bulk, rule, referral_code, reroute (a reclaimed customer routed "
                              "again by the rules), handover, team_changed, owner_change, merge, unmerge…")
    assigned_by: ShortText | None = Field(default=None, description="CRM user id; None when automatic.")
    assigned_at: AwareDatetime
    protection_expires_at: AwareDatetime | None = None
    rule_inputs: dict[str, Any] | None = Field(
        default=None,
        description="Why this manager: the routing inputs (channel, region, language, referral code), the rule "
        "that matched and what was skipped. None for manual assignments.",
    )


@registry.contract("crm.assignment.customer_unassigned", version=1, topic=topics.CRM_ASSIGNMENT)
class CustomerUnassigned(Payload):
    """A customer went back to the pool (manual unassign, reclaim after the protection period, resignation)."""

    customer_id: CustomerId
    manager_id: EntityId
    team_id: EntityId | None = None
    stage: ShortText | None = None
    reason: UnassignReason
    unassigned_by: ShortText | None = None
    unassigned_at: AwareDatetime


@registry.contract("crm.assignment.manager_changed", version=1, topic=topics.CRM_ASSIGNMENT, key="manager_id")
class ManagerChanged(Payload):
    """An account manager was added or edited, or changed status (active, absent, resigned)."""

    manager_id: EntityId
    name: ShortText
    position: ShortText | None = None
    team_id: EntityId | None = None
    regions: list[CountryCode] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    status: ManagerStatus
    referral_code: ShortText | None = None
    changed_at: AwareDatetime
    capacity: int | None = Field(default=None, ge=0, description="Maximum number of customers held at once.")


@registry.contract("crm.assignment.team_changed", version=1, topic=topics.CRM_ASSIGNMENT, key="team_id")
class TeamChanged(Payload):
    """A team was created or changed (name, leader)."""

    team_id: EntityId
    name: ShortText
    leader_id: EntityId | None = None
    protection_days: int = Field(default=7, ge=1, le=365)
    changed_at: AwareDatetime


@registry.contract("crm.assignment.customer_queued", version=1, topic=topics.CRM_ASSIGNMENT)
class CustomerQueued(Payload):
    """A rule allocated a customer to a team's pool (step-by-step allocation): it has no owner yet and waits
    for the team lead to distribute it (`customer_assigned` reason `team_pool`) by the SLA due time."""

    customer_id: CustomerId
    team_id: EntityId
    rule_id: EntityId | None = Field(default=None, description="The rule that queued the customer.")
    rule_version: int | None = None
    queued_at: AwareDatetime
    sla_due_at: AwareDatetime = Field(description="When the wait passes the team's pool SLA.")
    rule_inputs: dict[str, Any] | None = Field(default=None, description="The routing inputs, as on customer_assigned.")


@registry.contract("crm.assignment.pool_sla_breached", version=1, topic=topics.CRM_ASSIGNMENT)
class PoolSlaBreached(Payload):
    """A customer queued in a team's pool was still waiting at its SLA due time (published once per queue
    entry)."""

    customer_id: CustomerId
    team_id: EntityId
    queued_at: AwareDatetime
    sla_due_at: AwareDatetime
    breached_at: AwareDatetime
