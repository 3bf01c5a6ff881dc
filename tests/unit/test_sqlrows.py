"""`shared.runtime.sqlrows.insert_rows`: the same rows as one executemany, on PostgreSQL (one array parameter per
column, `unnest`) and SQLite, whatever the number of rows (more than one chunk), NULLs and aware datetimes included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.tasks.projections.tables import metadata, tasks
from shared.runtime import sqlrows
from shared.runtime.db import make_engine, session_factory
from shared.runtime.sqlrows import insert_rows

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _rows(n: int) -> list[dict]:
    return [{c.name: None for c in tasks.columns} | {
        "task_id": f"t-{i:05d}", "customer_id": f"C{i}", "node": "campaign_followup", "status": "open",
        "assignee_id": f"M-{i % 3}" if i % 4 else None, "team_id": "T-1", "due_at": T0 + timedelta(days=1),
        "created_at": T0 + timedelta(seconds=i), "campaign_id": "camp-1" if i % 2 else None,
        "cause_event_id": f"e-{i}"} for i in range(n)]


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_insert_rows_writes_what_an_executemany_writes(backend, pg_database, sqlite_url, monkeypatch):
    monkeypatch.setattr(sqlrows, "CHUNK", 7)  # several chunks
    engine = make_engine(pg_database("sqlrows") if backend == "postgresql" else sqlite_url("sqlrows"))
    metadata.create_all(engine)
    sessions = session_factory(engine)
    rows = _rows(23)
    with sessions.begin() as s:
        insert_rows(s, tasks, rows)
        insert_rows(s, tasks, [])
    with sessions() as s:
        stored = [dict(r) for r in s.execute(select(tasks).order_by(tasks.c.task_id)).mappings()]
    assert stored == rows
    # with `ignore`: the rows whose key exists are left as they are, the others inserted; columns left out
    # take their defaults
    again = [r | {"status": "completed"} for r in rows[20:]] + [r | {"task_id": f"t-new-{i}"} for i, r in enumerate(rows[:9])]
    with sessions.begin() as s:
        insert_rows(s, tasks, again, ignore=["task_id"])
        insert_rows(s, tasks, [{"task_id": "t-few", "customer_id": "C", "node": "n", "status": "open",
                                "due_at": T0, "created_at": T0}], ignore=["task_id"])
    with sessions() as s:
        stored = [dict(r) for r in s.execute(select(tasks).order_by(tasks.c.task_id)).mappings()]
    fresh = sorted(again[3:], key=lambda r: r["task_id"])
    few = {c.name: None for c in tasks.columns} | {"task_id": "t-few", "customer_id": "C", "node": "n",
                                                    "status": "open", "due_at": T0, "created_at": T0}
    assert stored == sorted(rows + fresh + [few], key=lambda r: r["task_id"])
    engine.dispose()
