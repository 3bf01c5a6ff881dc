"""Read-model rows written in the event store's own transaction: one pass per event.

A service's read model and event store live in one database. When an application records new domain
events, its recorder calls `write(session, events)` (the service's read-model fold, given the new domain
events in memory) inside the very transaction that inserts those events and the tracking records: the
rows, the events and the positions commit together or not at all, and nothing is read back from the
store to build them.

eventsourcing's documented way to write other tables in the events' transaction is a recorder that extends
its insert-events hook and receives extra keyword arguments passed through `Application.save(*objs,
**kwargs)` → `recorder.insert_events(stored_events, **kwargs)` (the library's searchable-content example).
The kit's recorders (`eventstore.py`) take the keyword `READ_MODEL` and hand the DB-API connection of
that transaction to `write_in_transaction`, which lends it to SQLAlchemy: a `Session` over a connection
whose commit, rollback and close belong to the recorder. Read-model code stays ordinary SQLAlchemy.

- PostgreSQL: the recorder runs its transaction in psycopg pipeline mode; every statement is synced at
  once so SQLAlchemy sees its results. COPY is not available there: `in_event_transaction(session)` tells
  bulk helpers to use `sqlrows.insert_rows` / `upsert_rows` (one JSON parameter per chunk) or executemany instead.
- SQLite: the statements run on the recorder's connection after its BEGIN.

A request can add a write of its own to every event-store transaction it makes (`ride_along`): the audit
emitter's write-ahead record of a write request (`shared.runtime.audit`), committed with what the request
changed or not at all. `TrackingApplication.save` runs it with the application's database URL (the writer
checks it is its own database).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextvars import ContextVar, Token
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

READ_MODEL = "read_model"  # keyword of `insert_events`: `write(session)`, run in the events' transaction
IN_EVENT_TRANSACTION = "in_event_transaction"  # `Session.info` key set on sessions lent by the recorder

ReadModelFold = Callable[[Session, Sequence[Any]], None]  # (session, new domain events) -> rows written
SessionWrite = Callable[[Session], None]
AlongWrite = Callable[[Session, str], None]  # (session, the application's database URL) -> rows written

_along: ContextVar[AlongWrite | None] = ContextVar("sametx_along", default=None)


def ride_along(write: AlongWrite | None) -> Token[AlongWrite | None]:
    """Run `write` in every event-store transaction this context makes from now (`reset_along(token)` ends it)."""
    return _along.set(write)


def reset_along(token: Token[AlongWrite | None]) -> None:
    _along.reset(token)


def along() -> AlongWrite | None:
    return _along.get()


class _SyncedCursor:
    """A psycopg cursor in pipeline mode whose results are fetched right after each statement: one sync of
    the pipeline `write_in_transaction` holds open (one round trip per statement)."""

    def __init__(self, pipeline: Any, cursor: Any):
        self._pipeline, self._cursor = pipeline, cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Any:
        return iter(self._cursor)

    def execute(self, *args: Any, **kwargs: Any) -> _SyncedCursor:
        self._cursor.execute(*args, **kwargs)
        self._pipeline.sync()
        return self

    def executemany(self, *args: Any, **kwargs: Any) -> _SyncedCursor:
        self._cursor.executemany(*args, **kwargs)
        self._pipeline.sync()
        return self


class _Lent:
    """The recorder's DB-API connection, lent for its transaction: commit, rollback and close are no-ops
    here (the recorder commits or rolls back the whole transaction). `pipeline`: the psycopg pipeline the
    cursors sync (PostgreSQL), None on SQLite."""

    def __init__(self, conn: Any, pipeline: Any | None):
        self._conn, self._pipeline = conn, pipeline

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        if self._pipeline is None:
            return self._conn.cursor(*args, **kwargs)
        from psycopg.rows import tuple_row  # the recorder's connections return dicts; SQLAlchemy wants tuples

        return _SyncedCursor(self._pipeline, self._conn.cursor(*args, row_factory=tuple_row, **kwargs))

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


_lending = threading.local()
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _lent_connection() -> _Lent:
    lent = getattr(_lending, "conn", None)
    if lent is None:
        raise RuntimeError("no connection lent by an event-store transaction on this thread")
    return lent  # type: ignore[no-any-return]


def _engine(dialect: str) -> Engine:
    """One engine per dialect whose every connection is the connection lent on the calling thread."""
    with _engines_lock:
        engine = _engines.get(dialect)
        if engine is None:
            if dialect == "postgresql":
                engine = create_engine("postgresql+psycopg://", creator=_lent_connection, poolclass=NullPool,
                                       use_native_hstore=False)
                engine.dialect.use_insertmanyvalues_wo_returning = True  # as `db.make_engine`
            else:
                engine = create_engine("sqlite://", creator=_lent_connection, poolclass=NullPool)
            _engines[dialect] = engine
        return engine


def write_in_transaction(dbapi_connection: Any, dialect: str, write: SessionWrite) -> None:
    """Run `write(session)` on the recorder's connection, inside its open transaction. `dialect` is
    "postgresql" (psycopg, pipeline mode) or "sqlite". Any exception propagates: the recorder rolls the
    whole transaction back (events, tracking and rows).

    On PostgreSQL a pipeline nested in the recorder's is held open for the write (entering it syncs the
    recorder's statements queued so far), and each statement syncs it once: entering and leaving a nested
    pipeline around every statement cost three round trips per statement."""
    if dialect != "postgresql":
        _lend(_Lent(dbapi_connection, None), dialect, write)
        return
    with dbapi_connection.pipeline() as pipeline:
        _lend(_Lent(dbapi_connection, pipeline), dialect, write)


def _lend(lent: _Lent, dialect: str, write: SessionWrite) -> None:
    _lending.conn = lent
    try:
        with _engine(dialect).connect() as conn:
            session = Session(bind=conn, info={IN_EVENT_TRANSACTION: True}, autoflush=False)
            try:
                write(session)
                session.commit()  # flushes; the DB-API commit is the recorder's
            finally:
                session.close()
    finally:
        _lending.conn = None


def in_event_transaction(session: Session) -> bool:
    """Whether `session` was lent by an event-store transaction (no COPY there: `sqlrows` or executemany)."""
    return bool(session.info.get(IN_EVENT_TRANSACTION))
