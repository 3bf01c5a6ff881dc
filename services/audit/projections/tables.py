"""The audit store's tables: `audit_record` (one row per record, with its sequence number and chain hash),
`audit_chain` (one row: the head — last sequence number and hash — and the anchor — the last pruned record's),
and the consumer's positions and processed ids."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    true,
)

from shared.runtime.db import tracking_tables

metadata = MetaData()

Seq = BigInteger().with_variant(Integer, "sqlite")

record = Table(
    "audit_record", metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    Column("record_id", String(36), nullable=False, unique=True),
    Column("staff_id", String(64)),
    Column("roles", Text, nullable=False),  # canonical JSON list
    Column("action", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("service", String(64), nullable=False),
    Column("method", String(7), nullable=False),
    Column("route", String(200), nullable=False),
    Column("customer_id", String(64)),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("client_ip", String(200)),
    Column("correlation_id", String(200)),
    Column("status", SmallInteger, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("answered", Boolean, nullable=False, server_default=true()),  # the contract's `answered`
    Column("extra", Text, nullable=False),  # canonical JSON of fields a newer producer added ("{}" if none)
    Column("hash", String(64), nullable=False),
    Index("ix_audit_record_staff", "staff_id", "seq"),
    Index("ix_audit_record_customer", "customer_id", "seq"),
    Index("ix_audit_record_action", "action", "seq"),
    Index("ix_audit_record_at", "at"),
)

chain = Table(
    "audit_chain", metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),  # always 1
    Column("head_seq", Seq, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("anchor_seq", Seq, nullable=False),
    Column("anchor_hash", String(64), nullable=False),
)

consumer_position, processed_event = tracking_tables(metadata)

STORE_TABLES = (record, chain)
