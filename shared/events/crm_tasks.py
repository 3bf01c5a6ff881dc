"""`crm.tasks.events`: what the tasks service publishes."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from . import topics
from .registry import Payload, registry
from .types import CustomerId, EntityId, LongText, ShortText


@registry.contract("crm.tasks.follow_up_recorded", version=1, topic=topics.CRM_TASKS)
class FollowUpRecorded(Payload):
    """An account manager recorded a follow-up with a customer (resets the protection period)."""

    follow_up_id: EntityId
    customer_id: CustomerId
    manager_id: EntityId
    task_id: EntityId | None = None
    intent: ShortText | None = None
    tier: ShortText | None = None
    contact_methods: list[ShortText] = Field(default_factory=list)
    next_follow_up_at: AwareDatetime | None = None
    tags: list[ShortText] = Field(default_factory=list)
    remarks: LongText | None = None
    recorded_at: AwareDatetime


@registry.contract("crm.tasks.task_created", version=1, topic=topics.CRM_TASKS)
class TaskCreated(Payload):
    """A follow-up task was created for a customer."""

    task_id: EntityId
    customer_id: CustomerId
    node: ShortText
    assignee_id: EntityId | None = None
    team_id: EntityId | None = None
    due_at: AwareDatetime
    created_at: AwareDatetime
    cause_event_id: str | None = None


@registry.contract("crm.tasks.task_closed", version=1, topic=topics.CRM_TASKS)
class TaskClosed(Payload):
    """A follow-up task closed: completed by a follow-up, converted (customer moved on) or cancelled."""

    task_id: EntityId
    customer_id: CustomerId
    node: ShortText
    outcome: str = Field(pattern=r"^(completed|converted|cancelled)$")
    assignee_id: EntityId | None = None
    closed_at: AwareDatetime
