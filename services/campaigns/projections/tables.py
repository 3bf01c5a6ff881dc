"""Read-model tables (own MetaData).

Folded in the events' transaction from the service's own events (`fold.py`): `cp_campaign` (one row per
campaign, the list and the scheduler's due queries) and `cp_target` (the frozen audience). Fed by the
`crm.customer.*` and `crm.assignment.*` topics (`audience.py`, SqlBatchHandler with the kit's positions and
processed ids): `cp_customer`, `cp_customer_tag`, `cp_segment_member`, `cp_owner`, `cp_manager` — what audiences are resolved from.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
)

from shared.runtime.db import tracking_tables
from shared.runtime.journal import journal_table

metadata = MetaData()
TS = DateTime(timezone=True)

# ---------------------------------------------------------------------------------- from the event store
campaign = Table(
    "cp_campaign", metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("distribution", String(32), nullable=False),
    Column("team_id", String(64), nullable=True),
    Column("start_at", TS, nullable=False),
    Column("end_at", TS, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("scope_kind", String(8), nullable=False),  # the creator's data scope: own, team, all
    Column("scope_user", String(200), nullable=False),
    Column("creator_team", String(64), nullable=True),  # who besides the creator sees it: their team
    Column("reviewed_by", String(200), nullable=True),
    Column("audience_size", Integer, nullable=True),
    Column("plan", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("started_at", TS, nullable=True),
    Column("closed_at", TS, nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_cp_campaign_list", "updated_at", "campaign_id"),
    Index("ix_cp_campaign_due", "status", "start_at", "end_at"),
)

target = Table(
    "cp_target", metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("customer_id", String(64), primary_key=True),
    Column("follow_up_id", String(36), nullable=False),
    Column("manager_id", String(64), nullable=True),
    Column("team_id", String(64), nullable=True),
)

holdout = Table(  # a campaign's hold-out control group (Campaign.ControlFrozen): not targeted, compared with
    "cp_control", metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("customer_id", String(64), primary_key=True),
)

cost = Table(  # the latest cost entered for a campaign (Campaign.CostRecorded)
    "cp_campaign_cost", metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("amount", Numeric(24, 8), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("note", String(200), nullable=True),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", TS, nullable=False),
)

# ---------------------------------------------------------------------------------- execution tracking
# Rows inserted by the fold (a target's status row when the audience is frozen, an outreach row per request),
# their tracking columns written by the consumer (`tracking.py`) from the delivery results, the follow-ups and
# the customers' stage changes. Every column is a register that any delivery order fills the same way: the
# earliest (business time|event id) of a fact, or the latest for a response.
TARGET_STATUSES = ("targeted", "contacted", "reached", "interested", "declined", "converted")
target_status = Table(
    "cp_target_status", metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("customer_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),  # one of TARGET_STATUSES, derived from the registers below
    Column("contacted_key", String(80), nullable=True),  # a message delivered or a follow-up recorded
    Column("reached_key", String(80), nullable=True),  # a message opened or a call that reached the customer
    Column("response", String(16), nullable=True),  # interested / declined: the latest follow-up's intent
    Column("response_key", String(80), nullable=True),
    Column("converted_key", String(80), nullable=True),  # the first conversion in the attribution window
    Column("conversion", String(32), nullable=True),  # its metric: account_opened, funded, first_trade
    Index("ix_cp_target_status", "campaign_id", "status"),
)

outreach = Table(
    "cp_outreach", metadata,
    Column("request_id", String(36), primary_key=True),
    Column("campaign_id", String(36), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("requested_at", TS, nullable=False),
    Column("status", String(16), nullable=False),  # requested, sent, failed, delivered, opened (furthest)
    Column("sent_key", String(80), nullable=True),
    Column("delivered_key", String(80), nullable=True),
    Column("opened_key", String(80), nullable=True),
    Column("failed_key", String(80), nullable=True),
    Column("reason_code", String(64), nullable=True),
    Index("ix_cp_outreach_target", "campaign_id", "customer_id", "channel"),
)

target_log = Table(  # one row per fact about a target (audit log): outreach requests and results, follow-ups, conversions
    "cp_target_log", metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("key", String(80), primary_key=True),  # business time|event id
    Column("customer_id", String(64), primary_key=True),
    Column("action", String(40), primary_key=True),
    Column("at", TS, nullable=False),
    Column("detail", String(64), nullable=True),  # channel, metric, outcome — never free text
    Index("ix_cp_target_log", "campaign_id", "at"),
)

# ---------------------------------------------------------------------------------- from the crm topics
customer = Table(
    "cp_customer", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("channel", String(200), nullable=True),
    Column("language", String(200), nullable=True),
    Column("user_region", String(2), nullable=True),
    Column("active_region", String(2), nullable=True),
    Column("regions_key", String(80), nullable=True),  # (business time, event id) of the regions: last writer wins
    Column("stage", String(32), nullable=True),
    Column("stage_rank", Integer, nullable=False, default=-1),  # stages only move forward
    Column("tags_key", String(80), nullable=True),  # of the tag set
    Index("ix_cp_customer_stage", "stage", "customer_id"),
)

customer_tag = Table(  # one row per tag of a customer (crm.customer.tags_changed carries the whole set)
    "cp_customer_tag", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("tag", String(200), primary_key=True),
    Index("ix_cp_customer_tag", "tag", "customer_id"),
)

segment_member = Table(  # crm.customer.segment_membership_changed: last writer wins per (segment, customer)
    "cp_segment_member", metadata,
    Column("segment_id", String(64), primary_key=True),
    Column("customer_id", String(64), primary_key=True),
    Column("member", Boolean, nullable=False),
    Column("key", String(80), nullable=False),  # (as_of, event id) of the winning fact
    Index("ix_cp_segment_member", "segment_id", "member", "customer_id"),
)

owner = Table(  # who follows each customer up now: the latest assignment, unless its manager left it later
    "cp_owner", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("manager_id", String(64), nullable=True),
    Column("team_id", String(64), nullable=True),
    Column("assigned_manager", String(64), nullable=True),
    Column("assigned_team", String(64), nullable=True),
    Column("assigned_key", String(80), nullable=True),
    Column("left_manager", String(64), nullable=True),
    Column("left_key", String(80), nullable=True),
    Index("ix_cp_owner_manager", "manager_id"),
    Index("ix_cp_owner_team", "team_id", "customer_id"),
)

manager = Table(
    "cp_manager", metadata,
    Column("manager_id", String(64), primary_key=True),
    Column("team_id", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("key", String(80), nullable=False),
)

# ------------------------------------------------------------- evaluation facts (`facts.py`), from the same topics
milestone = Table(  # when a customer first reached a conversion stage: the earliest fact wins (any order)
    "cp_milestone", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),  # account_opened, funded, first_trade
    Column("at", TS, nullable=False),
    Index("ix_cp_milestone_kind", "kind", "at"),
)

funds = Table(  # every deposit (+) and withdrawal (-), by transaction: the net deposits of a window
    "cp_funds", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("transaction_id", String(64), primary_key=True),
    Column("amount", Numeric(24, 8), nullable=False),  # signed
    Column("currency", String(3), nullable=False),
    Column("occurred_at", TS, nullable=False),
)

asset = Table(  # asset snapshots (brokerage.trading): the incremental assets of a window
    "cp_asset", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("account_id", String(64), primary_key=True),
    Column("as_of", TS, primary_key=True),
    Column("total_assets", Numeric(24, 8), nullable=False),
    Column("currency", String(3), nullable=False),
)

# --------------------------------------------------------------- computed indicators (`evaluation.py`), not replayed
indicator = Table(  # one row per (campaign, dimension, key): dimension "campaign" (key ""), manager, team, segment
    "cp_indicator", metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("targeted", Integer, nullable=False),
    Column("account_opened", Integer, nullable=False),
    Column("funded", Integer, nullable=False),
    Column("first_trade", Integer, nullable=False),
    Column("converted", Integer, nullable=False),
    Column("net_deposits", Numeric(24, 8), nullable=False),
    Column("incremental_assets", Numeric(24, 8), nullable=False),
    Column("figures", JSON, nullable=False),  # the rest: window, control group, tracking, cost, ratio
    Column("computed_at", TS, nullable=False),
    Index("ix_cp_indicator_dimension", "dimension", "key"),
)

# The platform events the consumer applied (the outreach results): `brokerage.*` topics keep 30 days, so the
# rebuild replays this journal after the topics (shared.runtime.journal; applying twice changes nothing).
intake_journal = journal_table(metadata, "cp_journal")

# ------------------------------------------------------------- imported audience lists (`lists.py`), not replayed
audience_list = Table(  # one upload of customer ids: its id is the content's hash and the uploader's
    "cp_list", metadata,
    Column("list_id", String(40), primary_key=True),
    Column("filename", String(200), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("scope", JSON, nullable=False),  # the uploader's data scope: rows beyond it are rejected
    Column("state", String(16), nullable=False),  # queued, running, done, failed
    Column("rows_estimate", BigInteger, nullable=False),
    Column("rows_read", BigInteger, nullable=False),  # the checkpoint
    Column("accepted", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    Column("error", String(200), nullable=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("finished_at", TS, nullable=True),
)

list_chunk = Table(  # the uploaded file, in chunks of 1 MiB (read back as one stream: no shared volume)
    "cp_list_chunk", metadata,
    Column("list_id", String(40), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

list_member = Table(
    "cp_list_member", metadata,
    Column("list_id", String(40), primary_key=True),
    Column("customer_id", String(64), primary_key=True),
)

list_reject = Table(  # row, field, reason: never a value of the file
    "cp_list_reject", metadata,
    Column("list_id", String(40), primary_key=True),
    Column("row_no", BigInteger, primary_key=True),
    Column("field", String(40), nullable=False),
    Column("reason", String(40), nullable=False),
)

position_table, processed_table = tracking_tables(metadata)

OWN_TABLES = (campaign, target, holdout, cost, target_status, outreach, target_log)
CONSUMER_TABLES = (customer, customer_tag, segment_member, owner, manager, milestone, funds, asset)
