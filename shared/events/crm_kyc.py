"""`crm.kyc.events`: what the KYC service publishes (through its outbox)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field

from . import topics
from .registry import Payload, registry
from .types import CustomerId, EntityId, ShortText


class CaseState(StrEnum):
    pending = "pending"
    in_review = "in_review"
    awaiting_second_review = "awaiting_second_review"
    more_info_requested = "more_info_requested"
    resubmitted = "resubmitted"
    approved = "approved"
    rejected = "rejected"


@registry.contract("crm.kyc.case_state_changed", version=1, topic=topics.CRM_KYC)
class KycCaseStateChanged(Payload):
    """A KYC case changed state (opened, claimed, resubmitted, …)."""

    case_id: EntityId
    customer_id: CustomerId
    application_id: EntityId
    from_state: CaseState | None = None
    to_state: CaseState
    changed_at: AwareDatetime
    actor_id: ShortText | None = None
    high_risk: bool = False


@registry.contract("crm.kyc.case_decided", version=1, topic=topics.CRM_KYC)
class KycCaseDecided(Payload):
    """A KYC case was decided: approved, rejected, or more information requested."""

    case_id: EntityId
    customer_id: CustomerId
    application_id: EntityId
    decision: str = Field(pattern=r"^(approved|rejected|more_info_requested)$")
    reasons: list[ShortText] = Field(default_factory=list)
    decided_by: ShortText
    second_reviewer: ShortText | None = None
    decided_at: AwareDatetime
    completion_pct: int = Field(ge=0, le=100)
