"""SQLAlchemy helpers for read-model databases: engines for SQLite/PostgreSQL and consumer tracking tables.

Tracking is written in the same transaction as the effect it guards:
- `consumer_position`: next Kafka offset per (consumer, topic, partition); the database, not Kafka's
  committed offsets, is the source of truth for where a consumer resumes;
- `processed_event`: event ids already applied per consumer, so an event re-published at another offset
  (an upstream retry) has one effect; kept for a bounded age (`retention.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TextClause,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from .retention import Pruner, RetentionSettings


def normalise_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    # insertmanyvalues also for INSERTs without RETURNING: psycopg would otherwise send one statement per row
    engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def tracking_tables(metadata: MetaData) -> tuple[Table, Table]:
    position = Table(
        "consumer_position",
        metadata,
        Column("consumer", String(120), primary_key=True),
        Column("topic", String(200), primary_key=True),
        Column("partition", Integer, primary_key=True),
        Column("next_offset", BigInteger, nullable=False),
    )
    processed = Table(
        "processed_event",
        metadata,
        Column("consumer", String(120), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_processed_event_age", "consumer", "processed_at"),
    )
    return position, processed


def _insert(session: Session, table: Table):  # type: ignore[no-untyped-def]
    return (postgresql.insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(table))


class Tracker:
    """Reads and writes one consumer's positions and processed event ids inside the caller's transaction."""

    def __init__(self, position: Table, processed: Table, consumer: str, *, retention: RetentionSettings | None = None):
        self.position, self.processed, self.consumer = position, processed, consumer
        self.pruner = Pruner(processed, consumer, retention)
        # PostgreSQL: a batch's ids as one array parameter
        self._pg_first_time: TextClause = text(
            f'INSERT INTO "{processed.name}" (consumer, event_id) SELECT :consumer, unnest(:ids) '  # noqa: S608 - our table
            "ON CONFLICT DO NOTHING RETURNING event_id").bindparams(bindparam("ids", type_=ARRAY(String)))

    def positions(self, session: Session) -> dict[tuple[str, int], int]:
        rows = session.execute(
            select(self.position.c.topic, self.position.c.partition, self.position.c.next_offset).where(
                self.position.c.consumer == self.consumer
            )
        )
        return {(t, p): o for t, p, o in rows}

    def advance(self, session: Session, topic: str, partition: int, next_offset: int) -> None:
        stmt = _insert(session, self.position).values(
            consumer=self.consumer, topic=topic, partition=partition, next_offset=next_offset
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["consumer", "topic", "partition"], set_={"next_offset": next_offset}
        )
        session.execute(stmt)

    def first_time(self, session: Session, event_ids: Iterable[str]) -> set[str]:
        """Marks the ids processed; returns those not processed before (all in the caller's transaction).

        `INSERT … ON CONFLICT DO NOTHING RETURNING`: the ids it returns were new. On PostgreSQL the ids go
        as one array parameter (`unnest`), elsewhere as one executemany; never a statement compiled per
        batch with a bind parameter per id."""
        self.pruner.maybe_prune(session)  # expired ids, at most once a minute (bounded)
        ids = list(dict.fromkeys(str(e) for e in event_ids))
        if not ids:
            return set()
        if session.get_bind().dialect.name == "postgresql":
            return set(session.scalars(self._pg_first_time, {"consumer": self.consumer, "ids": ids}))
        stmt = _insert(session, self.processed).on_conflict_do_nothing().returning(self.processed.c.event_id)
        return set(session.scalars(stmt, [{"consumer": self.consumer, "event_id": e} for e in ids]))


def add_missing_columns(engine: Engine, table: Table) -> None:
    """Columns added to an existing table since it was created (nullable or with a server default), and its
    indexes: `create_all` only creates missing tables. A new column's values come with the rows' next facts,
    or all at once with `ops rebuild <service>`."""
    have = {c["name"] for c in inspect(engine).get_columns(table.name)}
    missing = [c for c in table.columns if c.name not in have]
    if not missing:
        return
    with engine.begin() as conn:
        for col in missing:
            ddl = f'ALTER TABLE "{table.name}" ADD COLUMN "{col.name}" {col.type.compile(engine.dialect)}'
            if col.server_default is not None:
                ddl += f" DEFAULT {col.server_default.arg}"  # type: ignore[attr-defined]
            if not col.nullable:
                ddl += " NOT NULL"
            conn.execute(text(ddl))
    for index in table.indexes:
        index.create(engine, checkfirst=True)
