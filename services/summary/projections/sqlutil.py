"""Dialect helpers shared by the projections (PostgreSQL and SQLite both support ON CONFLICT); inserts and
idempotent appends are the kit's (`shared.runtime.sqlrows`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, and_, or_
from sqlalchemy.orm import Session

from shared.runtime.sqlrows import dialect_insert

CHUNK = 500


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def upsert_newer(session: Session, table: Table, key: str, rows: list[dict[str, Any]],
                 at: str = "changed_at") -> None:
    """Last writer wins by (`at`, event_id): an older event arriving late changes nothing."""
    for part in chunks(rows):
        stmt = dialect_insert(session, table)
        newer = or_(stmt.excluded[at] > table.c[at],
                    and_(stmt.excluded[at] == table.c[at], stmt.excluded.event_id > table.c.event_id))
        cols = {c: stmt.excluded[c] for c in part[0] if c != key}
        session.execute(stmt.on_conflict_do_update(index_elements=[key], set_=cols, where=newer), list(part))


def newest(rows: Iterable[dict[str, Any]], key: str, at: str = "changed_at") -> list[dict[str, Any]]:
    """Keep, per key, the row with the greatest (at, event_id) — one row per key per statement."""
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        cur = best.get(row[key])
        if cur is None or (row[at], row["event_id"]) > (cur[at], cur["event_id"]):
            best[row[key]] = row
    return list(best.values())
