"""Read-model tables (own MetaData); the consumer positions and processed ids are the kit's
(`shared.runtime.db.tracking_tables`), the projection position too (`projection_position_table`).

From the event store (ProjectionRunner): `uc_request` (each request's state) and `uc_audit` (one row per
step of each request). From Kafka (SqlBatchHandler): the intake journal (`uc_journal`, what a rebuild
replays), who owns each customer (`uc_owner`), the managers, the profile facts the tabs are folded from
(`uc_fact`), the login log, accounts, allocations, funds and the statement.
"""

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
from shared.runtime.journal import journal_table
from shared.runtime.projection import projection_position_table

metadata = MetaData()
MONEY = Numeric(24, 8)
TS = DateTime(timezone=True)

# ---------------------------------------------------------------------------------- from the event store
request = Table(
    "uc_request", metadata,
    Column("request_id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("requested_role", String(64)),
    Column("requested_at", TS, nullable=False),
    Column("reason", String(200)),
    Column("needs_approval", Boolean, nullable=False),
    Column("approved_by", String(200)),
    Column("decided_at", TS),
    Column("amount", MONEY),
    Column("currency", String(3)),
    Column("summary", JSON, nullable=False),  # what was asked, without personal data
    Column("result", JSON, nullable=False),
    Column("failure_code", String(64)),
    Column("failure_reason", String(200)),
    Column("done_at", TS),
    Column("correlation_id", String(200)),
    Column("updated_at", TS, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_uc_request_customer", "customer_id", "requested_at", "request_id"),
    Index("ix_uc_request_state", "state", "requested_at", "request_id"),
)

audit = Table(
    "uc_audit", metadata,
    Column("request_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),  # aggregate version of the step
    Column("at", TS, nullable=False),
    Column("step", String(32), nullable=False),  # requested, approved, declined, accepted, completed, failed
    Column("actor_id", String(200)),  # None: the platform
    Column("actor_role", String(64)),
    Column("action", String(32), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("correlation_id", String(200)),
    Column("outcome", String(32), nullable=False),  # the request's state after the step
    Index("ix_uc_audit_at", "at", "request_id", "seq"),
    Index("ix_uc_audit_customer", "customer_id", "at"),
)

# ------------------------------------------------------------------------------------------- from Kafka
journal = journal_table(metadata, "uc_journal")  # every consumed event the User CRM used: what the rebuild replays

customer = Table(
    "uc_customer", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("registered_at", TS),
)

owner = Table(
    "uc_owner", metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("manager_id", String(64), primary_key=True),
    Column("team_id", String(64)),
    Column("active", Boolean, nullable=False),
    Column("changed_at", TS, nullable=False),
    Column("event_id", String(36), nullable=False),
    Index("ix_uc_owner_manager", "manager_id", "active", "customer_id"),
    Index("ix_uc_owner_team", "team_id", "active", "customer_id"),
)

manager = Table(  # CRM account managers (the owners a client or lead may be given), last-writer-wins
    "uc_manager", metadata,
    Column("manager_id", String(64), primary_key=True),
    Column("team_id", String(64)),
    Column("status", String(16), nullable=False),
    Column("changed_at", TS, nullable=False),
    Column("event_id", String(36), nullable=False),
)

fact = Table(  # a profile section update, folded in (at, event_id) order when read
    "uc_fact", metadata,
    Column("event_id", String(36), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("section", String(32), nullable=False),  # general, personal, …, banking, kyc
    Column("item_id", String(64)),  # banking: the bank account; kyc: the case
    Column("at", TS, nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_uc_fact_customer", "customer_id", "section", "at"),
)

login = Table(
    "uc_login", metadata,
    Column("login_id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("at", TS, nullable=False),
    Column("ip", String(45), nullable=False),
    Column("country", String(2)),
    Column("source", String(8), nullable=False),
    Column("success", Boolean, nullable=False),
    Index("ix_uc_login_customer", "customer_id", "at", "login_id"),
)

account = Table(
    "uc_account", metadata,
    Column("account_id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("account_type", String(16)),
    Column("opened_at", TS),
    Column("closed_at", TS),
    Column("currency", String(3)),
    Column("balance", MONEY),
    Column("cash", MONEY),
    Column("balance_as_of", TS),
    Index("ix_uc_account_customer", "customer_id", "account_id"),
)

allocation = Table(
    "uc_allocation", metadata,
    Column("allocation_id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("account_id", String(64)),
    Column("fund_id", String(64)),
    Column("fund_name", String(200)),
    Column("initial_amount", MONEY),
    Column("currency", String(3)),
    Column("started_at", TS),
    Column("stopped_at", TS),
    Column("value", MONEY),
    Column("performance_pct", MONEY),
    Column("valued_at", TS),
    Index("ix_uc_allocation_customer", "customer_id", "account_id"),
    Index("ix_uc_allocation_fund", "fund_id", "allocation_id"),
)

allocation_deposit = Table(  # additional deposits, summed when read (order-independent)
    "uc_allocation_deposit", metadata,
    Column("transaction_id", String(64), primary_key=True),
    Column("allocation_id", String(64), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("at", TS, nullable=False),
    Index("ix_uc_allocation_deposit", "allocation_id"),
)

fund = Table(
    "uc_fund", metadata,
    Column("fund_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("strategy", String(200)),
    Column("manager_name", String(200)),
    Column("currency", String(3), nullable=False),
    Column("performance_pct", MONEY, nullable=False),
    Column("aum", MONEY),
    Column("as_of", TS, nullable=False),
)

statement = Table(
    "uc_statement", metadata,
    Column("entry_id", String(80), primary_key=True),  # "<kind>:<upstream id>"
    Column("customer_id", String(64), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("kind", String(24), nullable=False),  # trade, deposit, withdrawal, charge, allocation
    Column("at", TS, nullable=False),
    Column("amount", MONEY, nullable=False),  # signed cash effect on the account
    Column("currency", String(3), nullable=False),
    Column("symbol", String(32)),
    Column("side", String(8)),
    Column("quantity", MONEY),
    Column("price", MONEY),
    Column("reference", String(64), nullable=False),  # upstream id (trade, transaction, charge, allocation)
    Column("description", String(200)),
    Index("ix_uc_statement_customer", "customer_id", "at", "entry_id"),
    Index("ix_uc_statement_account", "customer_id", "account_id", "at", "entry_id"),
)

consumer_position, processed_event = tracking_tables(metadata)
projection_position = projection_position_table(metadata)

PROJECTION_TABLES = (request, audit)
CONSUMER_TABLES = (customer, owner, manager, fact, login, account, allocation, allocation_deposit, fund, statement)
