"""SQL read models. Every timestamp is stored as naive UTC.

Raw inputs (append-only, keyed by event id or entity id, so re-delivery is a no-op):
- `customer_history`: per-customer stage changes, assignments and milestone facts.
- `follow_up`, `task`, `kyc_case`, `manager`, `team`.
Derived per customer from its history (recomputed whenever one of its events arrives, in any order):
- `fact`: one row per milestone (registered, applied, opened, funded, traded) and rejection, with the
  manager/team in force when it happened and the opening durations;
- `customer_state`: current stage and owner; `funnel`: milestone times and acquisition owner; `funnel_credit`:
  who is credited each conversion, by attribution share;
- `due_item`: what needs following up (open tasks, next follow-up reminders);
- `node_count`: customers per stage, KYC cases per state, open tasks per node, per manager/team;
- `daily_count`: Today's Summary metrics per local day and manager/team (see domain/daily.py).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

from shared.runtime.db import tracking_tables
from shared.runtime.projection import projection_position_table

metadata = MetaData()
position_table, processed_table = tracking_tables(metadata)
projection_positions = projection_position_table(metadata)

ID = 64

customer_history = Table(
    "sm_customer_history", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("customer_id", String(ID), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("a", String(200)),
    Column("b", String(200)),
    Column("c", String(200)),
    Column("d", String(40)),  # assign: the attribution share (decimal text)
    Index("ix_sm_history_customer", "customer_id"),
)

fact = Table(
    "sm_fact", metadata,
    Column("customer_id", String(ID), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("ref", String(ID), primary_key=True, default=""),
    Column("at", DateTime, nullable=False),
    Column("manager_id", String(ID)),
    Column("team_id", String(ID)),
    Column("secs_since_applied", BigInteger),
    Column("secs_since_registered", BigInteger),
    # conversions by attribution share: `manager_id` is credited `share`, `co_manager_id` the rest (1 − share)
    Column("share", Numeric(5, 4)),  # null (rows from before shares) = whole
    Column("co_manager_id", String(ID)),
    Column("co_team_id", String(ID)),
    # covering (index-only scans): every summary/dashboard query reads kind, time and attribution only
    Index("ix_sm_fact_kind_at", "kind", "at", "manager_id", "team_id"),
    Index("ix_sm_fact_manager", "manager_id", "kind", "at"),
    Index("ix_sm_fact_team", "team_id", "kind", "at", "manager_id"),
)

# a merged customer -> its survivor, while merged (derived from the merge marks): finds the merged customers
# whose KYC cases count under a survivor's owner when the survivor is touched
merge_link = Table(
    "sm_merge_link", metadata,
    Column("customer_id", String(ID), primary_key=True),
    Column("survivor_id", String(ID), nullable=False),
    Index("ix_sm_merge_link_survivor", "survivor_id"),
)

customer_state = Table(
    "sm_customer_state", metadata,
    Column("customer_id", String(ID), primary_key=True),
    Column("stage", String(40)),
    Column("stage_at", DateTime),
    Column("manager_id", String(ID)),
    Column("team_id", String(ID)),
)

funnel = Table(
    "sm_funnel", metadata,
    Column("customer_id", String(ID), primary_key=True),
    Column("registered_at", DateTime, nullable=False),
    Column("cohort_week", Date, nullable=False),
    Column("applied_at", DateTime),
    Column("opened_at", DateTime),
    Column("funded_at", DateTime),
    Column("traded_at", DateTime),
    Column("manager_id", String(ID)),
    Column("team_id", String(ID)),
    Index("ix_sm_funnel_registered", "registered_at"),
    Index("ix_sm_funnel_manager", "manager_id", "registered_at"),
    Index("ix_sm_funnel_team", "team_id", "registered_at"),
)

# the funnel's conversions credited by attribution share: per customer and conversion reached (a later one implies
# the earlier, credited like the first recorded one after it), the owner (`part` 0) and the co-owner (`part` 1)
funnel_credit = Table(
    "sm_funnel_credit", metadata,
    Column("customer_id", String(ID), primary_key=True),
    Column("milestone", String(16), primary_key=True),  # opened | funded | traded
    Column("part", Integer, primary_key=True),
    Column("manager_id", String(ID)),
    Column("team_id", String(ID)),
    Column("share", Numeric(5, 4), nullable=False),
    Index("ix_sm_funnel_credit_manager", "manager_id", "milestone"),
    Index("ix_sm_funnel_credit_team", "team_id", "milestone"),
)

follow_up = Table(
    "sm_follow_up", metadata,
    Column("follow_up_id", String(ID), primary_key=True),
    Column("customer_id", String(ID), nullable=False),
    Column("manager_id", String(ID), nullable=False),
    Column("team_id", String(ID)),  # the customer's assigned team when it was recorded
    Column("stage", String(40)),  # the customer's stage when it was recorded
    Column("recorded_at", DateTime, nullable=False),
    Column("next_follow_up_at", DateTime),
    Column("intent", String(200)),
    Column("tier", String(200)),
    Column("tags", Text, nullable=False, default="|"),  # "|a|b|" for LIKE '%|a|%'
    Column("task_id", String(ID)),
    Index("ix_sm_follow_up_customer", "customer_id", "recorded_at"),
    Index("ix_sm_follow_up_manager", "manager_id", "recorded_at", "stage", "customer_id"),
    Index("ix_sm_follow_up_team", "team_id", "recorded_at", "stage", "manager_id", "customer_id"),
    Index("ix_sm_follow_up_at", "recorded_at", "stage", "manager_id", "customer_id"),
)

task = Table(
    "sm_task", metadata,
    Column("task_id", String(ID), primary_key=True),
    Column("customer_id", String(ID), nullable=False),
    Column("node", String(200)),
    Column("assignee_id", String(ID)),
    Column("team_id", String(ID)),
    Column("due_at", DateTime),
    Column("created_at", DateTime),
    Column("closed_at", DateTime),
    Column("outcome", String(16)),
    Index("ix_sm_task_customer", "customer_id"),
)

kyc_case = Table(
    "sm_kyc_case", metadata,
    Column("case_id", String(ID), primary_key=True),
    Column("customer_id", String(ID), nullable=False),
    Column("state", String(40), nullable=False),
    Column("changed_at", DateTime, nullable=False),
    Column("event_id", String(64), nullable=False),
    Index("ix_sm_kyc_customer", "customer_id"),
)

due_item = Table(
    "sm_due_item", metadata,
    Column("item_id", String(140), primary_key=True),  # "task:<id>" or "next:<customer>"
    Column("customer_id", String(ID), nullable=False),
    Column("source", String(16), nullable=False),
    Column("node", String(200)),
    Column("stage", String(40)),
    Column("due_at", DateTime, nullable=False),
    Column("manager_id", String(ID)),
    Column("team_id", String(ID)),
    Column("intent", String(200)),
    Column("tags", Text, nullable=False, default="|"),
    Column("last_follow_up_at", DateTime),
    Index("ix_sm_due_customer", "customer_id"),
    Index("ix_sm_due_manager", "manager_id", "due_at", "item_id"),
    Index("ix_sm_due_team", "team_id", "due_at", "item_id"),
    Index("ix_sm_due_at", "due_at", "item_id"),
)

node_count = Table(
    "sm_node_count", metadata,
    Column("dimension", String(16), primary_key=True),  # stage | kyc | task
    Column("node", String(200), primary_key=True),
    Column("manager_id", String(ID), primary_key=True),  # "" = unassigned
    Column("team_id", String(ID), primary_key=True),  # "" = no team
    Column("n", BigInteger, nullable=False),
)

daily_count = Table(
    "sm_daily_count", metadata,
    Column("day", Date, primary_key=True),  # local date in the brokerage's time zone
    Column("metric", String(40), primary_key=True),
    Column("manager_id", String(ID), primary_key=True),  # "" unassigned, "*" the team / everyone aggregate
    Column("team_id", String(ID), primary_key=True),  # "" no team, "*" everyone
    Column("n", Numeric(20, 4), nullable=False),  # conversions are credited by attribution share: fractional
    # who first: one manager's rows, a team's aggregate rows or the everyone row, then metric and day range
    Index("ix_sm_daily_who", "manager_id", "team_id", "metric", "day"),
)

manager = Table(
    "sm_manager", metadata,
    Column("manager_id", String(ID), primary_key=True),
    Column("team_id", String(ID)),
    Column("status", String(16), nullable=False),
    Column("changed_at", DateTime, nullable=False),
    Column("event_id", String(64), nullable=False),
    Index("ix_sm_manager_team", "team_id"),
)

team = Table(
    "sm_team", metadata,
    Column("team_id", String(ID), primary_key=True),
    Column("leader_id", String(ID)),
    Column("changed_at", DateTime, nullable=False),
    Column("event_id", String(64), nullable=False),
)

# ---- projected from the summary's own event store (daily reports, changelog) ------------------------
daily_report = Table(
    "sm_daily_report", metadata,
    Column("report_id", String(36), primary_key=True),
    Column("manager_id", String(ID), nullable=False),
    Column("team_id", String(ID)),
    Column("report_date", Date, nullable=False),
    Column("summary", Text, nullable=False),
    Column("next_plan", Text),
    Column("issues", Text),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", String(ID), nullable=False),
    Index("ix_sm_report_date_manager", "report_date", "manager_id"),
    Index("ix_sm_report_team_date", "team_id", "report_date"),
)

changelog = Table(
    "sm_changelog", metadata,
    Column("entry_id", String(36), primary_key=True),
    Column("posted_at", DateTime, nullable=False),
    Column("posted_by", String(ID), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("version_label", String(60)),
    Column("withdrawn", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False),
    Index("ix_sm_changelog_posted", "posted_at", "entry_id"),
)
