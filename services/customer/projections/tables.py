"""Read-model tables: one denormalised row per customer, shaped for the list at 1,000,000 customers.

Every list filter that narrows the set has a composite index ending in the keyset sort columns
(`sort_registered_at, customer_id` by default), so a filtered page is an index range scan that stops
after `limit` rows; search uses lower-cased prefix columns with `text_pattern_ops` B-trees (LIKE 'abc%');
counts per stage for the `all` scope are a maintained table, never COUNT(*) over the table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
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
    Uuid,
    any_,
    bindparam,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.runtime.db import tracking_tables
from shared.runtime.projection import projection_position_table
from shared.runtime.sametx import in_event_transaction
from shared.runtime.sqlrows import insert_rows, upsert_rows

from .activity import ActivityTables, activity_tables
from .wealth import WealthTables, wealth_tables

TS = DateTime(timezone=True)
MONEY = Numeric(28, 8)


def _customer(md: MetaData) -> Table:
    reg = ("sort_registered_at", "customer_id")
    t = Table(
        "customer", md,
        Column("customer_id", String(64), primary_key=True),
        Column("registered", Boolean, nullable=False),
        Column("registered_at", TS),
        Column("sort_registered_at", TS, nullable=False, doc="registered_at, else first fact time (keyset)"),
        Column("channel", String(32)), Column("campaign", String(200)), Column("referral_code", String(200)),
        Column("referrer_customer_id", String(64)), Column("language", String(20)),
        Column("name", String(200)), Column("phone_dialing_code", String(8)), Column("phone_number", String(20)),
        Column("email", String(200)),
        Column("search_name", String(200)), Column("search_email", String(200)),
        Column("search_phone", String(24), doc="dialing code digits + national number"),
        Column("residence_country", String(2)), Column("registration_ip_country", String(2)),
        Column("id_issuing_country", String(2)), Column("user_region", String(2)), Column("active_region", String(2)),
        Column("stage", String(32), nullable=False), Column("stage_rank", Integer, nullable=False),
        Column("stage_changed_at", TS), Column("stage_entered_at", JSON, nullable=False),
        Column("account_status", String(16), nullable=False),
        Column("verification_status", String(16), nullable=False),
        Column("deposits", JSON, nullable=False), Column("withdrawals", JSON, nullable=False),
        Column("first_deposit_at", TS), Column("first_trade_at", TS), Column("trades_count", Integer, nullable=False),
        Column("total_assets", MONEY), Column("assets_sort", MONEY, nullable=False),
        Column("assets_currency", String(3)), Column("assets_as_of", TS),
        Column("tags", JSON, nullable=False),
        Column("last_activity_at", TS, nullable=False),
        Column("date_of_birth", Date, doc="from the platform's identity verification (personal data)"),
        Column("institution_id", String(64), doc="the institution the customer came through (source)"),
        Column("risk_rating", String(32), doc="the latest suitability assessment's rating (suitability.risk_assessed)"),
        # average daily assets (domain/daily.py), kept by the asset-series fold, not by the row upsert
        Column("ada_currency", String(3)), Column("ada_as_of", Date, doc="the last day of the series (None: none)"),
        Column("ada30", MONEY, nullable=False, server_default="0", doc="0 without a series (filter, sort)"),
        Column("ada30_prev", MONEY), Column("ada90", MONEY), Column("ada90_prev", MONEY),
        Column("ada365", MONEY), Column("ada365_prev", MONEY),
        Column("merged_into", String(64), doc="the survivor this customer was merged into (hidden from lists)"),
    )
    Index("ix_customer_reg", *[t.c[c] for c in reg])
    for col in ("stage", "user_region", "active_region", "channel", "verification_status", "account_status",
                "institution_id"):
        Index(f"ix_customer_{col}_reg", t.c[col], *[t.c[c] for c in reg])
    Index("ix_customer_assets", t.c.assets_sort, t.c.customer_id)
    Index("ix_customer_stage_assets", t.c.stage, t.c.assets_sort, t.c.customer_id)
    Index("ix_customer_ada30", t.c.ada30, t.c.customer_id)
    Index("ix_customer_stage_ada30", t.c.stage, t.c.ada30, t.c.customer_id)
    Index("ix_customer_dob", t.c.date_of_birth, t.c.customer_id)
    Index("ix_customer_risk_reg", t.c.risk_rating, *[t.c[c] for c in reg])
    Index("ix_customer_activity", t.c.last_activity_at, t.c.customer_id)
    Index("ix_customer_stage_activity", t.c.stage, t.c.last_activity_at, t.c.customer_id)
    Index("ix_customer_referrer", t.c.referrer_customer_id)
    for col in ("customer_id", "search_name", "search_email", "search_phone", "phone_number"):
        Index(f"ix_customer_{col}_prefix", t.c[col], postgresql_ops={col: "text_pattern_ops"})
    return t


@dataclass
class Tables:
    metadata: MetaData
    customer: Table
    funding: Table
    tag: Table
    remark: Table
    note: Table
    assignment: Table
    stage_count: Table
    account_day: Table
    customer_day: Table
    asset_account: Table
    match_key: Table
    match_review: Table
    projection_position: Table
    consumer_position: Table
    processed_event: Table
    activity: ActivityTables  # the service history of the 360, from other services' events (activity.py)
    import_job: Table
    import_reject: Table
    institution: Table
    segment: Table  # saved segments (domain/segments.py), folded from the event store
    segment_member: Table
    membership: Table  # who is in which segment now (the customers' `crm.segments_changed` facts)
    segment_eval: Table  # the segment evaluator's position (segment_eval.py): not a read model
    wealth: WealthTables  # the wealth calendar's facts (wealth.py: from brokerage.wealth, journaled)

    @property
    def read_model(self) -> list[Table]:
        """Tables rebuilt from the event store (the assignment and activity tables come from Kafka, the wealth
        facts from their journal)."""
        return [self.customer, self.funding, self.tag, self.remark, self.note, self.stage_count,
                self.account_day, self.customer_day, self.asset_account, self.match_key, self.match_review,
                self.import_job, self.import_reject, self.institution, self.segment, self.segment_member,
                self.membership, self.wealth.reminder]


def build_tables() -> Tables:
    md = MetaData()
    customer = _customer(md)
    funding = Table(
        "customer_funding", md,
        Column("customer_id", String(64), primary_key=True), Column("currency", String(3), primary_key=True),
        Column("deposits", MONEY, nullable=False), Column("withdrawals", MONEY, nullable=False),
    )
    Index("ix_funding_currency_deposits", funding.c.currency, funding.c.deposits, funding.c.customer_id)
    tag = Table("customer_tag", md, Column("customer_id", String(64), primary_key=True),
                Column("tag", String(40), primary_key=True))
    Index("ix_tag_tag", tag.c.tag, tag.c.customer_id)
    remark = Table(
        "customer_remark", md,
        Column("remark_id", String(36), primary_key=True), Column("customer_id", String(64), nullable=False),
        Column("author", String(200), nullable=False), Column("text", Text, nullable=False),
        Column("batch_id", String(36)), Column("created_at", TS, nullable=False),
    )
    Index("ix_remark_customer", remark.c.customer_id, remark.c.created_at)
    note = Table(
        "customer_note", md,
        Column("note_id", String(36), primary_key=True), Column("customer_id", String(64), nullable=False),
        Column("author", String(200), nullable=False), Column("text", Text, nullable=False),
        Column("created_at", TS, nullable=False),
    )
    Index("ix_note_customer_author", note.c.customer_id, note.c.author, note.c.created_at)
    assignment = Table(
        "customer_assignment", md,
        Column("customer_id", String(64), primary_key=True), Column("manager_id", String(64), primary_key=True),
        Column("stage_key", String(64), primary_key=True, doc="lifecycle stage of the assignment, '*' = all"),
        Column("team_id", String(64)), Column("share", Numeric(5, 4)), Column("active", Boolean, nullable=False),
        Column("reason", String(200)), Column("assigned_at", TS), Column("changed_at", TS, nullable=False),
        Column("event_id", String(36), nullable=False),
    )
    Index("ix_assignment_manager", assignment.c.manager_id, assignment.c.active, assignment.c.customer_id)
    Index("ix_assignment_team", assignment.c.team_id, assignment.c.active, assignment.c.customer_id)
    stage_count = Table("customer_stage_count", md, Column("stage", String(32), primary_key=True),
                        Column("n", BigInteger, nullable=False))
    # Daily asset series (domain/daily.py): an account's end-of-day value only on days with a snapshot, the
    # customer's only on days its value changes (carried forward when read).
    account_day = Table(
        "customer_account_asset_day", md,
        Column("customer_id", String(64), primary_key=True), Column("account_id", String(64), primary_key=True),
        Column("day", Date, primary_key=True, doc="local day in BROKERAGE_TIMEZONE"),
        Column("currency", String(3), nullable=False), Column("total", MONEY, nullable=False),
        Column("as_of", TS, nullable=False), Column("fact_id", Uuid(as_uuid=False), nullable=False),
    )
    customer_day = Table(
        "customer_asset_day", md,
        Column("customer_id", String(64), primary_key=True),
        Column("day", Date, primary_key=True, doc="first local day of this value"),
        Column("currency", String(3), nullable=False), Column("total", MONEY, nullable=False),
        Column("cum", Numeric(32, 8), nullable=False, doc="sum of the daily totals up to and including day"),
    )
    asset_account = Table(  # the accounts with a series: which rows a customer's carried values are in
        "customer_asset_account", md,
        Column("customer_id", String(64), primary_key=True), Column("account_id", String(64), primary_key=True),
    )
    match_key, match_review = _matching(md)
    position = projection_position_table(md)
    consumer_position, processed = tracking_tables(md)
    import_job, import_reject, institution = _import_tables(md)
    return Tables(md, customer, funding, tag, remark, note, assignment, stage_count, account_day, customer_day,
                  asset_account, match_key, match_review, position, consumer_position, processed, activity_tables(md),
                  import_job, import_reject, institution, *_segment_tables(md), wealth_tables(md))


def _matching(md: MetaData) -> tuple[Table, Table]:
    """The match index (keyed hashes only: domain/matching.py) of the customers not merged, and the review
    queue of suspected pairs with their status."""
    match_key = Table(
        "customer_match_key", md,
        Column("customer_id", String(64), primary_key=True),
        Column("kind", String(32), primary_key=True, doc="id_number, customer_number, verified_phone, name_dob"),
        Column("digest", String(64), nullable=False, doc="HMAC-SHA256 of the normalised value (hex)"),
    )
    Index("ix_match_key_digest", match_key.c.kind, match_key.c.digest)
    review = Table(
        "customer_match_review", md,
        Column("customer_id", String(64), primary_key=True, doc="the newer customer"),
        Column("candidate_id", String(64), primary_key=True, doc="the existing customer it probably is"),
        Column("reason", String(64)), Column("status", String(16), nullable=False),
        Column("suggested_at", TS, nullable=False), Column("decided_at", TS, nullable=False),
        Column("decided_by", String(200)), Column("comment", Text),
    )
    Index("ix_match_review_status", review.c.status, review.c.suggested_at, review.c.customer_id,
          review.c.candidate_id)
    return match_key, review


def _import_tables(md: MetaData) -> tuple[Table, Table, Table]:
    """Manual imports (one row per uploaded file, its progress; the rejected rows: number, field, reason,
    never a value) and the institutions customers come through. Folded from ImportJob / Institution events."""
    job = Table(
        "customer_import_job", md,
        Column("job_id", String(40), primary_key=True), Column("filename", String(200), nullable=False),
        Column("file_format", String(8), nullable=False), Column("sha256", String(64), nullable=False),
        Column("size", BigInteger, nullable=False), Column("created_by", String(200), nullable=False),
        Column("created_at", TS, nullable=False), Column("state", String(16), nullable=False),
        Column("rows_read", BigInteger, nullable=False), Column("rows_estimate", BigInteger),
        Column("accepted", BigInteger, nullable=False),
        Column("rejected", BigInteger, nullable=False), Column("updated_at", TS, nullable=False),
        Column("finished_at", TS), Column("error", String(200)),
    )
    Index("ix_import_job_created", job.c.created_at, job.c.job_id)
    reject = Table(
        "customer_import_reject", md,
        Column("job_id", String(40), primary_key=True), Column("row_no", BigInteger, primary_key=True),
        Column("field", String(40), nullable=False), Column("reason", String(40), nullable=False),
    )
    institution = Table(
        "customer_institution", md,
        Column("institution_id", String(64), primary_key=True), Column("name", String(200), nullable=False),
        Column("manager_id", String(64)), Column("team_id", String(64)),
        Column("created_at", TS, nullable=False), Column("updated_at", TS, nullable=False),
    )
    Index("ix_institution_name", institution.c.name, institution.c.institution_id)
    return job, reject, institution


def _segment_tables(md: MetaData) -> tuple[Table, Table, Table, Table]:
    segment = Table(
        "customer_segment", md,
        Column("segment_id", String(64), primary_key=True), Column("name", String(200), nullable=False),
        Column("kind", String(10), nullable=False, doc="static (a list of ids) or dynamic (a saved filter)"),
        Column("filter", JSON, doc="dynamic: the customer list's filters (query parameters)"),
        Column("owner_id", String(200), nullable=False), Column("created_at", TS, nullable=False),
        Column("updated_at", TS, nullable=False), Column("deleted", Boolean, nullable=False),
        Column("size", Integer, nullable=False, doc="static: how many ids the list holds"),
    )
    member = Table(
        "customer_segment_member", md,
        Column("segment_id", String(64), primary_key=True), Column("customer_id", String(64), primary_key=True),
    )
    membership = Table(
        "customer_segment_membership", md,
        Column("segment_id", String(64), primary_key=True), Column("customer_id", String(64), primary_key=True),
        Column("since", TS, nullable=False, doc="the evaluation that put the customer in"),
    )
    Index("ix_segment_membership_customer", membership.c.customer_id, membership.c.segment_id)
    evaluator = Table(
        "customer_segment_eval", md, Column("name", String(40), primary_key=True),
        Column("position", Integer, nullable=False, doc="the last notification evaluated"),
        Column("day", Date, nullable=False, doc="the local day of the last sweep of every dynamic segment"),
    )
    return segment, member, membership, evaluator


def insert_for(session: Session, table: Table) -> Any:
    return (postgresql.insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(table))


COPY_THRESHOLD = 20


def upsert(session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str]) -> None:
    """Insert or update rows by primary key. On PostgreSQL, batches go through COPY into a temporary table
    and one INSERT … SELECT … ON CONFLICT (an order of magnitude faster than row-by-row parameters); in an
    event-store transaction (pipeline mode, no COPY) one INSERT … SELECT … FROM json_to_recordset(…) ON
    CONFLICT per 1,000 rows (`sqlrows.upsert_rows`: the rows as one JSON parameter); elsewhere one multi-row
    INSERT."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        if in_event_transaction(session):
            upsert_rows(session, table, rows, keys)
            return
        if len(rows) >= COPY_THRESHOLD:
            _pg_copy_upsert(session, table, rows, keys)
            return
    stmt = insert_for(session, table)
    cols = [c for c in rows[0] if c not in keys]
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in cols})
    session.execute(stmt, list(rows))


def _pg_copy_upsert(session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str]) -> None:
    cols = list(rows[0])
    json_cols = {c for c in cols if isinstance(table.c[c].type, JSON)}
    tmp = f"tmp_upsert_{table.name}"
    collist = ", ".join(f'"{c}"' for c in cols)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in cols if c not in keys)
    dbapi = session.connection().connection.driver_connection
    with dbapi.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{tmp}" (LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS')
        with cur.copy(f'COPY "{tmp}" ({collist}) FROM STDIN') as cp:
            for r in rows:
                cp.write_row([json.dumps(r[c]) if c in json_cols else r[c] for c in cols])
        cur.execute(f'INSERT INTO "{table.name}" ({collist}) SELECT {collist} FROM "{tmp}" '
                    f'ON CONFLICT ({", ".join(keys)}) DO UPDATE SET {updates}')
        cur.execute(f'TRUNCATE "{tmp}"')


def copy_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Plain bulk insert: COPY on PostgreSQL, `sqlrows.insert_rows` (one JSON parameter) in an event-store transaction (its
    pipeline mode has no COPY), executemany elsewhere."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(table.insert(), list(rows))
        return
    if in_event_transaction(session):
        insert_rows(session, table, rows)
        return
    cols = list(rows[0])
    json_cols = {c for c in cols if isinstance(table.c[c].type, JSON)}
    dbapi = session.connection().connection.driver_connection
    with dbapi.cursor() as cur, cur.copy(  # type: ignore[union-attr]
            f'COPY "{table.name}" ({", ".join(cols)}) FROM STDIN') as cp:
        for r in rows:
            cp.write_row([json.dumps(r[c]) if c in json_cols else r[c] for c in cols])


def id_in(session: Session, column: Any, ids: Sequence[str]) -> Any:
    """`column IN ids`: one array parameter on PostgreSQL (`= ANY(%s)`), an expanding IN elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(String)))
    return column.in_(list(ids))
