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
    source: str | None = Field(default=None, pattern=r"^(call|sms)$",
                               description="call / sms: captured from the telephony or SMS system (no one typed it); "
                                           "None: recorded by the manager.")
    duration_s: int | None = Field(default=None, ge=0, description="A captured call's talk time in seconds.")


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


@registry.contract("crm.tasks.task_reassigned", version=1, topic=topics.CRM_TASKS)
class TaskReassigned(Payload):
    """An open task moved to another assignee: the customer was (re)assigned, or went back to a queue."""

    task_id: EntityId = Field(description="The task.")
    customer_id: CustomerId = Field(description="The customer the task is about.")
    node: ShortText = Field(description="Task node, e.g. `pending_funding`.")
    assignee_id: EntityId | None = Field(
        default=None, description="New assignee (manager id); None when the task waits in a queue."
    )
    team_id: EntityId | None = Field(
        default=None, description="Team whose queue holds the task when unassigned; None = the pool queue."
    )
    previous_assignee_id: EntityId | None = Field(default=None, description="Assignee before the move.")
    reason: ShortText = Field(description="assigned, reassigned, or the unassignment reason (e.g. reclaimed).")
    reassigned_at: AwareDatetime = Field(description="When the assignment change happened.")


@registry.contract("crm.tasks.ticket_opened", version=1, topic=topics.CRM_TASKS)
class TicketOpened(Payload):
    """A ticket about a customer was opened (after account opening). Free text is not published."""

    ticket_id: EntityId = Field(description="The ticket.")
    customer_id: CustomerId = Field(description="The customer the ticket is about.")
    category: ShortText = Field(description="Ticket category, e.g. `account_security`.")
    priority: str = Field(pattern=r"^(low|normal|high|urgent)$", description="Ticket priority.")
    assignee_id: EntityId | None = Field(default=None, description="CRM user the ticket is assigned to.")
    created_by: EntityId = Field(description="CRM user who opened the ticket.")
    opened_at: AwareDatetime = Field(description="When the ticket was opened.")


@registry.contract("crm.tasks.ticket_changed", version=1, topic=topics.CRM_TASKS)
class TicketChanged(Payload):
    """A ticket changed: edited, assigned, status changed, commented, comment deleted, or deleted."""

    ticket_id: EntityId = Field(description="The ticket.")
    customer_id: CustomerId = Field(description="The customer the ticket is about.")
    change: str = Field(
        pattern=r"^(edited|assigned|status_changed|comment_added|comment_deleted|deleted)$",
        description="What changed.",
    )
    status: str | None = Field(
        default=None, pattern=r"^(open|in_progress|on_hold|resolved|closed)$",
        description="Status after the change (status changes only).",
    )
    previous_status: str | None = Field(default=None, description="Status before (status changes only).")
    assignee_id: EntityId | None = Field(default=None, description="Assignee after the change (assignments).")
    comment_id: EntityId | None = Field(default=None, description="The comment (comment changes only).")
    fields: list[ShortText] = Field(default_factory=list, description="Names of the edited fields (edits only).")
    changed_by: EntityId = Field(description="CRM user who made the change.")
    changed_at: AwareDatetime = Field(description="When the change was made.")
