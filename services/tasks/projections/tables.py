"""Read-model tables of the tasks service (own MetaData)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

from shared.runtime.db import tracking_tables
from shared.runtime.projection import projection_position_table


class UtcDateTime(TypeDecorator):  # type: ignore[type-arg]
    """Timezone-aware UTC datetimes on PostgreSQL and SQLite alike (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()
consumer_position, processed_event = tracking_tables(metadata)
projection_position = projection_position_table(metadata)

ID = 64

# Customer card data projected from crm.customer.events, and the current assignment from
# crm.assignment.events (scope checks for customer-level resources: follow-ups, tickets).
customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(ID), primary_key=True),
    Column("name", String(200)),  # personal data: masked unless CustomerPiiRead
    Column("channel", String(200)),
    Column("campaign", String(200)),
    Column("language", String(20)),
    Column("user_region", String(2)),
    Column("active_region", String(2)),
    Column("registered_at", UtcDateTime()),
    Column("stage", String(40)),
    Column("stage_changed_at", UtcDateTime()),
    Column("account_status", String(20)),
    Column("account_status_at", UtcDateTime()),
    Column("first_deposit_at", UtcDateTime()),
    Column("first_trade_at", UtcDateTime()),
    Column("manager_id", String(ID)),
    Column("team_id", String(ID)),
    Column("assigned_at", UtcDateTime()),
    Index("ix_customers_manager", "manager_id"),
    Index("ix_customers_team", "team_id"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("task_id", String(36), primary_key=True),
    Column("customer_id", String(ID), nullable=False),
    Column("node", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("assignee_id", String(ID)),
    Column("team_id", String(ID)),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("closed_at", UtcDateTime()),
    Column("closed_by", String(ID)),
    Column("closed_cause", String(64)),
    Column("cause_event_id", String(64)),
    Column("campaign_id", String(ID)),  # campaign follow-ups only
    Column("event_key", String(200)),  # wealth_event tasks only: the calendar event (`<kind>:<source id>`)
    Index("ix_tasks_node_status_due", "node", "status", "due_at", "task_id"),
    Index("ix_tasks_assignee", "assignee_id", "status", "due_at"),
    Index("ix_tasks_team", "team_id", "status", "due_at"),
    Index("ix_tasks_customer", "customer_id"),
    Index("ix_tasks_campaign", "campaign_id", "status"),
)

follow_ups = Table(
    "follow_ups",
    metadata,
    Column("follow_up_id", String(36), primary_key=True),
    Column("customer_id", String(ID), nullable=False),
    Column("manager_id", String(ID), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("task_id", String(36)),
    Column("intent", String(200)),
    Column("tier", String(200)),
    Column("contact_methods", JSON, nullable=False),
    Column("next_follow_up_at", UtcDateTime()),
    Column("tags", JSON, nullable=False),
    Column("remarks", Text),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("source", String(10)),  # call / sms: captured (domain/capture.py); null: recorded by hand
    Column("duration_s", Integer),
    Index("ix_follow_ups_customer", "customer_id", "recorded_at", "follow_up_id"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("ticket_id", String(36), primary_key=True),
    Column("customer_id", String(ID), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text),
    Column("category", String(60), nullable=False),
    Column("priority", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("assignee_id", String(ID)),
    Column("created_by", String(ID), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False),
    Index("ix_tickets_created", "created_at", "ticket_id"),
    Index("ix_tickets_customer", "customer_id"),
    Index("ix_tickets_assignee", "assignee_id", "status"),
)

# The ticket's timeline: every change and every comment, in order.
ticket_timeline = Table(
    "ticket_timeline",
    metadata,
    Column("ticket_id", String(36), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("actor_id", String(ID)),
    Column("at", UtcDateTime(), nullable=False),
    Column("comment_id", String(36)),
    Column("body", Text),  # comment text (null once deleted)
    Column("detail", JSON),
    Column("deleted", Boolean, nullable=False, default=False),
    Index("ix_timeline_comment", "comment_id"),
)

# The names of the campaigns (crm.campaigns.events created/updated, kept as `CampaignName` in the store),
# shown beside the campaign_id of a campaign's follow-up tasks.
campaign_names = Table(
    "campaign_names",
    metadata,
    Column("campaign_id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
)

# Captured calls and SMS (`domain/capture.py`): matched or not (customer_id null, with the reason); the
# end-of-day reconciliation lists the unmatched ones of a day. Never the phone number.
captures = Table(
    "captures",
    metadata,
    Column("capture_key", String(36), primary_key=True),  # the Capture aggregate's id
    Column("kind", String(10), nullable=False),  # call / sms
    Column("capture_id", String(ID), nullable=False),
    Column("staff_id", String(ID), nullable=False),
    Column("customer_id", String(ID)),
    Column("reason", String(40)),
    Column("at", UtcDateTime(), nullable=False),
    Column("direction", String(10)),
    Column("duration_s", Integer),
    Column("outcome", String(20), nullable=False),
    Column("recording_ref", String(200)),
    Column("follow_up_id", String(36)),
    Index("ix_captures_unmatched_at", "reason", "at"),
)

# The phone map: keyed hashes of the customers' phone numbers (crm.customer.customer_registered.phone_hash),
# fed with the cards; a captured number is matched through it.
phone_map = Table(
    "phone_map",
    metadata,
    Column("phone_hash", String(64), primary_key=True),
    Column("customer_id", String(ID), primary_key=True),
)

# Folded from the service's own events in the transaction that stores them (`readmodel.apply_stored_events`),
# and rebuilt from the store through the same fold. The customer cards come from crm.* topics instead.
STORE_TABLES = (tasks, follow_ups, tickets, ticket_timeline, campaign_names, captures)
