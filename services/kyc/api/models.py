"""Request and response bodies. Requests are strict: unknown fields and bad values are 422 naming the field."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ReasonCode = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignBody(Strict):
    reviewer_id: str = Field(min_length=1, max_length=200, description="User id of the reviewer.")


class DocumentDecisionBody(Strict):
    decision: Literal["accepted", "rejected", "more_info_requested"]
    reason_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9_]+$",
        description="Code from GET /kyc/reasons; required unless accepting.",
    )
    note: str | None = Field(default=None, max_length=2000, description="Free text for the audit trail.")


class MoreInfoBody(Strict):
    reasons: list[str] = Field(min_length=1, max_length=20, description="Reason codes from GET /kyc/reasons.")
    note: str | None = Field(default=None, max_length=2000)
    document_ids: list[str] = Field(default_factory=list, max_length=50)
    fields: list[str] = Field(
        default_factory=list, max_length=20, description="Declaration fields to re-submit."
    )


class SubmitBody(Strict):
    note: str | None = Field(default=None, max_length=2000)


class SecondReviewBody(Strict):
    decision: Literal["approved", "rejected", "more_info_requested"]
    reasons: list[str] = Field(default_factory=list, max_length=20)
    note: str | None = Field(default=None, max_length=2000)


class QueueItem(BaseModel):
    case_id: str
    customer_id: str
    application_id: str
    state: str
    high_risk: bool
    submission: int
    documents_total: int
    documents_pending: int
    completion_pct: int
    reviewer_id: str | None
    first_reviewer_id: str | None
    queued_at: datetime
    claimed_at: datetime | None
    age_seconds: int
    time_in_queue_seconds: int
    time_in_review_seconds: int
    overdue: bool


class QueuePage(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None
