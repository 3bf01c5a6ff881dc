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
    completion_pct: int | None = Field(
        default=None, ge=0, le=100,
        description="KYC completion of the case after the change: share of required documents and fields accepted.",
    )
    submission: int | None = Field(
        default=None, ge=1, description="Submission number of the case (1 = first submission, +1 per resubmission)."
    )


class DocumentOutcome(Payload):
    """The decision on one document version, as part of a case decision (never the storage reference)."""

    document_id: EntityId = Field(description="Upstream document id.")
    kind: ShortText = Field(description="Document kind, e.g. id_front, proof_of_address.")
    version: int = Field(ge=1, description="Version of the document (a resubmitted file is a new version).")
    decision: str = Field(
        pattern=r"^(pending|accepted|rejected|more_info_requested)$", description="Reviewer decision on it."
    )
    reason_code: ShortText | None = Field(default=None, description="Reason code from the configured list.")


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
    high_risk: bool = Field(default=False, description="The case was flagged high-risk (four-eyes applied).")
    documents: list[DocumentOutcome] = Field(
        default_factory=list, max_length=100,
        description="Decision per active document of the case at the time of the decision.",
    )
    submission: int | None = Field(default=None, ge=1, description="Submission number the decision is about.")
    account_type: ShortText | None = Field(default=None, description="Account type applied for (cash, margin).")
