"""Request and response models of the tasks API (requests are strict: unknown fields are 422)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from ..domain.ticket import TicketStatus

CustomerId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
UserId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:]+$")]
Short = Annotated[str, Field(min_length=1, max_length=200)]
Tag = Annotated[str, Field(min_length=1, max_length=50)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
MAX_SCHEDULE_AHEAD = timedelta(days=366)


class ContactMethod(StrEnum):
    phone = "phone"
    sms = "sms"
    email = "email"
    wechat = "wechat"
    whatsapp = "whatsapp"
    line = "line"
    telegram = "telegram"
    video = "video"
    in_person = "in_person"
    other = "other"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FollowUpIn(Strict):
    """A follow-up record. `task_id` (optional) is the task it completes."""

    task_id: uuid.UUID | None = Field(default=None, description="Task this follow-up completes.")
    intent: Short | None = Field(default=None, description="Customer intent, e.g. `interested`.")
    tier: Short | None = Field(default=None, description="Customer tier, e.g. `A`.")
    contact_methods: list[ContactMethod] = Field(default_factory=list, max_length=10)
    next_follow_up_at: AwareDatetime | None = Field(default=None, description="Schedules a follow-up task.")
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    remarks: Text | None = None

    @field_validator("next_follow_up_at")
    @classmethod
    def _future(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        now = datetime.now(UTC)
        if value <= now:
            raise ValueError("must be in the future")
        if value > now + MAX_SCHEDULE_AHEAD:
            raise ValueError("must be within a year")
        return value.astimezone(UTC)

    @field_validator("contact_methods", "tags")
    @classmethod
    def _unique(cls, value: list[Any]) -> list[Any]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _not_empty(self) -> FollowUpIn:
        if not (self.intent or self.tier or self.contact_methods or self.next_follow_up_at or self.tags
                or self.remarks):
            raise ValueError("a follow-up needs at least one of intent, tier, contact_methods, "
                             "next_follow_up_at, tags, remarks")
        return self


class BatchRemarksIn(Strict):
    customer_ids: list[CustomerId] = Field(min_length=1, max_length=200)
    remarks: Text

    @field_validator("customer_ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class FollowUpOut(BaseModel):
    follow_up_id: str
    customer_id: str
    manager_id: str
    kind: str
    task_id: str | None
    intent: str | None
    tier: str | None
    contact_methods: list[str]
    next_follow_up_at: datetime | None
    tags: list[str]
    remarks: str | None
    recorded_at: datetime
    source: str | None = Field(default=None, description="call / sms: captured from the telephony or SMS system; "
                                                         "None: recorded by hand.")
    duration_s: int | None = Field(default=None, description="A captured call's talk time in seconds.")


class RecordedOut(BaseModel):
    follow_up_id: str
    customer_id: str
    completed_task_id: str | None
    scheduled_task_id: str | None
    recorded_at: datetime


class TaskOut(BaseModel):
    task_id: str
    customer_id: str
    node: str
    status: str
    assignee_id: str | None
    team_id: str | None
    due_at: datetime
    overdue: bool
    created_at: datetime
    closed_at: datetime | None
    cause_event_id: str | None
    campaign_id: str | None = Field(default=None, description="The campaign of a campaign_followup task.")
    campaign_name: str | None = Field(
        default=None, description="That campaign's name (from crm.campaigns.events); null until it is known.")
    event_key: str | None = Field(default=None, description="The wealth calendar event of a wealth_event task "
                                                            "(`<kind>:<source id>`, as `GET /customers/{id}/calendar`).")


class CardOut(BaseModel):
    customer_id: str
    name: str | None = Field(description="Masked unless the caller has CustomerPiiRead.")
    stage: str | None
    account_status: str | None
    channel: str | None
    campaign: str | None
    language: str | None
    user_region: str | None
    active_region: str | None
    registered_at: datetime | None
    first_deposit_at: datetime | None
    first_trade_at: datetime | None
    manager_id: str | None
    team_id: str | None


class TaskDetailOut(TaskOut):
    customer: CardOut | None


class Page(BaseModel):
    items: list[Any]
    next_cursor: str | None


class NodeCount(BaseModel):
    node: str
    open: int
    overdue: int


class TicketCategory(StrEnum):
    account_security = "account_security"
    account_change = "account_change"
    funding = "funding"
    trading = "trading"
    kyc = "kyc"
    complaint = "complaint"
    other = "other"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class TicketIn(Strict):
    customer_id: CustomerId
    title: Short
    description: Text | None = None
    category: TicketCategory = TicketCategory.other
    priority: Priority = Priority.normal
    assignee_id: UserId | None = Field(default=None, description="Defaults to the creator.")


class TicketEditIn(Strict):
    title: Short | None = None
    description: Text | None = None
    category: TicketCategory | None = None
    priority: Priority | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> TicketEditIn:
        if not self.model_fields_set:
            raise ValueError("nothing to change")
        for name in ("title", "category", "priority"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class AssigneeIn(Strict):
    assignee_id: UserId


class StatusIn(Strict):
    status: TicketStatus


class CommentIn(Strict):
    body: Text


class TicketOut(BaseModel):
    ticket_id: str
    customer_id: str
    title: str
    description: str | None
    category: str
    priority: str
    status: str
    assignee_id: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime | None = None
    version: int


class TimelineOut(BaseModel):
    version: int
    kind: str
    actor_id: str | None
    at: datetime
    comment_id: str | None
    body: str | None
    detail: dict[str, Any] | None
    deleted: bool
