"""Read-model tables. Rebuilt from the event store (projection) and from crm.customer.events (customers)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)

from shared.runtime.db import tracking_tables
from shared.runtime.projection import projection_position_table

metadata = MetaData()
consumer_position, processed_event = tracking_tables(metadata)
projection_position = projection_position_table(metadata)

teams = Table(
    "asg_team", metadata,
    Column("team_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("leader_id", String(64)),
    Column("protection_days", Integer, nullable=False),
    Column("reclaim_policy", String(16)),  # pool | reroute; null = the service's default
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("pool_sla_minutes", Integer),  # None: ASSIGNMENT_POOL_SLA_MINUTES
)

managers = Table(
    "asg_manager", metadata,
    Column("manager_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("position", String(200)),
    Column("team_id", String(64), index=True),
    Column("regions", JSON, nullable=False),
    Column("languages", JSON, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("load", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),
    Column("referral_code", String(200), index=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

rules = Table(
    "asg_rule", metadata,
    Column("rule_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(200)),
)

rule_versions = Table(
    "asg_rule_version", metadata,
    Column("rule_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(200)),
)

assignments = Table(
    "asg_assignment", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("stage", String(64), primary_key=True),  # "*" = every stage
    Column("manager_id", String(64), nullable=False),
    Column("team_id", String(64)),
    Column("share", Numeric(9, 8), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("rule_id", String(64)),
    Column("rule_version", Integer),
    Column("inputs", JSON, nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Column("assigned_by", String(200)),
    Column("protection_expires_at", DateTime(timezone=True), nullable=False),
    Column("last_follow_up_at", DateTime(timezone=True)),
    Index("ix_asg_assignment_manager", "manager_id", "customer_id"),
    Index("ix_asg_assignment_team", "team_id", "customer_id"),
    Index("ix_asg_assignment_expiry", "protection_expires_at"),
)

history = Table(
    "asg_history", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),  # version of the customer's assignment aggregate
    Column("action", String(32), nullable=False),  # assigned | unassigned | followed_up | left_in_pool
    Column("stage", String(64)),
    Column("manager_id", String(64)),
    Column("team_id", String(64)),
    Column("previous_manager_id", String(64)),
    Column("share", Numeric(9, 8)),
    Column("reason", String(200)),
    Column("rule_id", String(64)),
    Column("rule_version", Integer),
    Column("inputs", JSON),
    Column("actor", String(200)),
    Column("at", DateTime(timezone=True), nullable=False),
)

customers = Table(
    "asg_customer", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("channel", String(64)),
    Column("user_region", String(2)),
    Column("active_region", String(2)),
    Column("language", String(35)),
    Column("stage", String(64)),
    Column("registered_at", DateTime(timezone=True)),
    Column("stage_changed_at", DateTime(timezone=True)),
)

# the customers' saved segments (crm.customer.segment_membership_changed): the latest `as_of` per (customer,
# segment), a left segment kept as member=false so that an older "entered" delivered later changes nothing.
# Re-routing a reclaimed customer matches the rules' segments against these, not those of its registration.
customer_segments = Table(
    "asg_customer_segment", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("segment_id", String(64), primary_key=True),
    Column("member", Boolean, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
)

# customers queued in a team's pool (a rule with `allocation: team_pool`), until an assignment or a merge
team_pool = Table(
    "asg_team_pool", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("team_id", String(64), nullable=False),
    Column("rule_id", String(64)),
    Column("rule_version", Integer),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("sla_due_at", DateTime(timezone=True), nullable=False),
    Column("breached_at", DateTime(timezone=True)),
    Index("ix_asg_team_pool_queue", "team_id", "queued_at", "customer_id"),
    Index("ix_asg_team_pool_due", "sla_due_at"),
)
