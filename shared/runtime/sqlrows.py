"""Batch writes of read-model rows with a fixed number of statements, on PostgreSQL and SQLite alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

CHUNK = 1000


def dialect_insert(session: Session, table: Table):  # type: ignore[no-untyped-def]
    return postgresql.insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(table)


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str]) -> None:
    """Insert the rows; rows whose key exists already are left as they are (idempotent appends)."""
    if not rows:
        return
    stmt = dialect_insert(session, table).on_conflict_do_nothing(index_elements=keys)
    for i in range(0, len(rows), CHUNK):
        session.execute(stmt, list(rows[i:i + CHUNK]))


def upsert(session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str], *,
           newer: str | None = None) -> None:
    """Insert the rows, or overwrite the non-key columns they carry when the key exists (with `newer`, a
    version column: only where the row's value is greater than the stored one, so a late or repeated row
    changes nothing). The rows must have distinct keys."""
    if not rows:
        return
    stmt = dialect_insert(session, table)
    cols = [c for c in rows[0] if c not in keys]
    where = table.c[newer] < stmt.excluded[newer] if newer else None
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in cols}, where=where)
    for i in range(0, len(rows), CHUNK):
        session.execute(stmt, list(rows[i:i + CHUNK]))
