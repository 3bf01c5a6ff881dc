"""Read-model tables (own MetaData). The queue is served from `kyc_case` with keyset pagination."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table

from shared.runtime.projection import projection_position_table

metadata = MetaData()

kyc_case = Table(
    "kyc_case",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("application_id", String(64), nullable=False),
    Column("account_type", String(20), nullable=True),
    Column("state", String(32), nullable=False),
    Column("high_risk", Boolean, nullable=False, default=False),
    Column("submission", Integer, nullable=False, default=1),
    Column("documents_total", Integer, nullable=False, default=0),
    Column("documents_pending", Integer, nullable=False, default=0),
    Column("completion_pct", Integer, nullable=False, default=0),
    Column("reviewer_id", String(200), nullable=True),
    Column("first_reviewer_id", String(200), nullable=True),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("queued_at", DateTime(timezone=True), nullable=False),  # start of the current round's wait
    Column(
        "waiting_since", DateTime(timezone=True), nullable=False
    ),  # start of the current wait in the queue
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("second_requested_at", DateTime(timezone=True), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("second_reviewer_id", String(200), nullable=True),
    Column("queue_seconds_total", BigInteger, nullable=False, default=0),
    Column("review_seconds_total", BigInteger, nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),  # aggregate version last applied (idempotency bookkeeping)
    Index("ix_kyc_case_state_age", "state", "queued_at", "case_id"),
    Index("ix_kyc_case_age", "queued_at", "case_id"),
    Index("ix_kyc_case_customer", "customer_id"),
    Index("ix_kyc_case_reviewer", "reviewer_id", "queued_at", "case_id"),
)
# High-risk cases are a small share: a partial index keeps the "high-risk only" queue view a short walk.
Index(
    "ix_kyc_case_high_risk_age",
    kyc_case.c.queued_at,
    kyc_case.c.case_id,
    postgresql_where=kyc_case.c.high_risk.is_(True),
    sqlite_where=kyc_case.c.high_risk.is_(True),
)

kyc_customer = Table(
    "kyc_customer",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("latest_case_id", String(36), nullable=True),
    Column("latest_state", String(32), nullable=True),
    Column("completion_pct", Integer, nullable=False, default=0),
    Column("cases", Integer, nullable=False, default=0),
    Column("identity_verified_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

projection_position = projection_position_table(metadata)

READ_MODEL_TABLES = (kyc_case, kyc_customer)
