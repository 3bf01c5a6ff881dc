"""Request models (strict: unknown fields rejected, every field validated → 422 naming it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.crm_customer import Stage
from shared.events.types import CountryCode, CustomerId, EntityId

Name = Annotated[str, Field(min_length=1, max_length=200)]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
Code = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
ReclaimPolicy = Literal["pool", "reroute"]
Share = Annotated[Decimal, Field(gt=0, le=1, max_digits=9, decimal_places=8)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeamIn(Strict):
    team_id: EntityId
    name: Name
    leader_id: EntityId | None = None
    protection_days: int = Field(default=7, ge=1, le=365)
    reclaim_policy: ReclaimPolicy | None = Field(
        default=None, description="What a reclaim does with the team's customers: `pool` (they wait unassigned) "
                                  "or `reroute` (routed again by the rules, never back to the manager who lost "
                                  "them unless no one else is eligible); null = the service's default.")
    pool_sla_minutes: int | None = Field(default=None, ge=1, le=525_600,
                                         description="The team pool's SLA in minutes; null: the service default.")


# Patches: an omitted field is left as it is; `null` clears only the fields that may be empty (leader,
# position, team, referral code) — a required one (name, capacity, …) given as null is a 422.
class TeamPatch(Strict):
    name: Name = Field(default=None, description="Omit to keep; never null.")
    leader_id: EntityId | None = None
    protection_days: int = Field(default=None, ge=1, le=365, description="Omit to keep; never null.")
    reclaim_policy: ReclaimPolicy | None = Field(default=None, description="Omit to keep; null = the service's "
                                                                            "default.")
    pool_sla_minutes: int | None = Field(default=None, ge=1, le=525_600,
                                         description="The team pool's SLA in minutes; null: the service default.")


class ManagerIn(Strict):
    manager_id: EntityId = Field(description="The manager's CRM user id (their JWT subject).")
    name: Name
    position: Name | None = None
    team_id: EntityId | None = None
    regions: list[CountryCode] = Field(default_factory=list, max_length=50)
    languages: list[Language] = Field(default_factory=list, max_length=20)
    capacity: int = Field(ge=0, le=1_000_000, description="Maximum number of customers held at once.")
    referral_code: Code | None = Field(default=None, description="The manager's QR / referral code (unique).")


class ManagerPatch(Strict):
    name: Name = Field(default=None, description="Omit to keep; never null.")
    position: Name | None = None
    team_id: EntityId | None = None
    regions: list[CountryCode] = Field(default=None, max_length=50, description="Omit to keep; [] for none.")
    languages: list[Language] = Field(default=None, max_length=20, description="Omit to keep; [] for none.")
    capacity: int = Field(default=None, ge=0, le=1_000_000, description="Omit to keep; never null.")
    referral_code: Code | None = None
    status: Literal["active", "absent"] = Field(default=None, description="Omit to keep; never null.")


class ResignIn(Strict):
    handover: Literal["manager", "pool"] = Field(description="Hand customers to another manager or the pool.")
    to_manager_id: EntityId | None = None


class AssignIn(Strict):
    customer_id: CustomerId
    manager_id: EntityId
    stage: Stage | None = Field(default=None, description="Lifecycle stage of this assignment; None = all.")
    share: Share = Decimal("1")


class BulkAssignIn(Strict):
    customer_ids: list[CustomerId] = Field(min_length=1, max_length=100_000,
                                          description="At most ASSIGNMENT_BULK_MAX_CUSTOMERS (default 20,000).")
    manager_id: EntityId
    stage: Stage | None = None
    share: Share = Decimal("1")


class DistributeIn(Strict):
    customer_ids: list[CustomerId] = Field(min_length=1, max_length=5_000,
                                          description="Customers waiting in the team's pool.")
    manager_id: EntityId = Field(description="A manager of the team.")


class UnassignIn(Strict):
    customer_id: CustomerId
    stage: Stage | None = Field(default=None, description="The stage slot to free; None = the all-stage slot.")
    all_stages: bool = Field(default=False, description="Free every slot of the customer.")


class RuleIn(Strict):
    position: int = Field(ge=0, le=1_000_000, description="Lower runs first.")
    name: Name | None = None
    team_id: EntityId | None = None
    manager_id: EntityId | None = None
    strategy: Literal["round_robin", "least_loaded"] = "round_robin"
    allocation: Literal["direct", "team_pool"] = Field(
        default="direct", description="direct: to a manager now (team strategy or manager_id); team_pool: queued "
                                      "in team_id's pool for its lead to distribute.")
    enabled: bool = True
    regions: list[CountryCode] = Field(default_factory=list, max_length=250)
    channels: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=50)
    languages: list[Language] = Field(default_factory=list, max_length=50)
    referral_codes: list[Code] = Field(default_factory=list, max_length=500)
    institutions: list[EntityId] = Field(default_factory=list, max_length=500,
                                         description="Institution ids (customer service's institutions): routing "
                                                     "by institution. Empty matches any.")
    segments: list[EntityId] = Field(default_factory=list, max_length=100,
                                     description="Saved segment ids (the customer service's `/customers/segments`): "
                                                 "the customer is in any of them at registration "
                                                 "(`customer_registered.segment_ids`). Empty matches any.")
