"""`shared.runtime.sqlrows.insert_rows`: the same rows as one executemany, on PostgreSQL (the rows as one JSON
parameter, `json_to_recordset`) and SQLite, whatever the number of rows (more than one chunk), NULLs and aware
datetimes included, TypeDecorator columns bound by their type; `upsert_rows` writes what `upsert` writes;
`insert_ignore` ignores conflicts and keeps rows of different columns whole."""

from __future__ import annotations

import enum
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, select

from services.tasks.projections.tables import metadata, tasks
from shared.runtime import sqlrows
from shared.runtime.db import make_engine, session_factory
from shared.runtime.sqlrows import insert_ignore, insert_rows

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


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_upsert_rows_writes_what_upsert_writes(backend, pg_database, sqlite_url, monkeypatch):
    """JSON (an empty object, a list, None: JSON null), dates, decimals, uuids and booleans round-trip as `upsert`
    writes them; a row whose key exists has the columns it carries overwritten, whatever the chunking."""
    from decimal import Decimal

    from services.customer.projections.tables import build_tables

    monkeypatch.setattr(sqlrows, "CHUNK", 3)
    t = build_tables()
    engine = make_engine(pg_database("upsertrows") if backend == "postgresql" else sqlite_url("upsertrows"))
    t.metadata.create_all(engine)
    sessions = session_factory(engine)

    def segment(i: int, filt: object) -> dict:
        return {"segment_id": f"s{i}", "name": f"Segment \"{i}\", {{x}}", "kind": "dynamic", "filter": filt,
                "owner_id": "o", "created_at": T0 + timedelta(minutes=i), "updated_at": T0, "deleted": i % 2 == 0,
                "size": i}

    def day(i: int) -> dict:
        return {"customer_id": f"C{i}", "account_id": "A", "day": (T0 + timedelta(days=i)).date(), "currency": "HKD",
                "total": Decimal(f"{i}.12345678"), "as_of": T0, "fact_id": f"00000000-0000-4000-8000-{i:012d}"}

    filters = [{}, None, [], {"stage": ["registered"], "q": "a,b"}, "text", 3]
    first = [segment(i, f) for i, f in enumerate(filters)]
    second = [segment(i, {"changed": i}) | {"name": "again"} for i in range(3, 8)]
    stored = {}
    for how, write in (("upsert", sqlrows.upsert), ("upsert_rows", sqlrows.upsert_rows)):
        with sessions.begin() as s:
            s.execute(t.segment.delete())
            s.execute(t.account_day.delete())
            write(s, t.segment, first, ["segment_id"])
            write(s, t.segment, second, ["segment_id"])
            write(s, t.account_day, [day(i) for i in range(7)], ["customer_id", "account_id", "day"])
            write(s, t.account_day, [], ["customer_id", "account_id", "day"])
        with sessions() as s:
            stored[how] = ([dict(r) for r in s.execute(select(t.segment).order_by(t.segment.c.segment_id)).mappings()],
                           [dict(r) for r in s.execute(select(t.account_day).order_by(t.account_day.c.customer_id))
                            .mappings()])
    assert stored["upsert_rows"] == stored["upsert"]
    segments, days = stored["upsert_rows"]
    assert [r["filter"] for r in segments] == [{}, None, [], {"changed": 3}, {"changed": 4}, {"changed": 5},
                                               {"changed": 6}, {"changed": 7}]
    assert [r["total"] for r in days] == [Decimal(f"{i}.12345678") for i in range(7)]
    engine.dispose()


docs = MetaData()
doc = Table("sqlrows_doc", docs, Column("doc_id", String(16), primary_key=True), Column("body", JSON),
            Column("note", String(16)))
counted = Table("sqlrows_counted", docs, Column("item_id", String(16), primary_key=True), Column("note", String(16)),
                Column("n", Integer, default=7))  # a Python-side default: SQLAlchemy fills it, not the database


@pytest.fixture(params=["postgresql", "sqlite"])
def db(request, pg_database, sqlite_url, monkeypatch):
    monkeypatch.setattr(sqlrows, "CHUNK", 7)  # several chunks
    engine = make_engine(pg_database("sqlrows") if request.param == "postgresql" else sqlite_url("sqlrows"))
    metadata.create_all(engine)
    docs.create_all(engine)
    yield session_factory(engine)
    engine.dispose()


def _stored(sessions, table, key: str) -> list[dict]:
    with sessions() as s:
        return [dict(r) for r in s.execute(select(table).order_by(table.c[key])).mappings()]


def test_insert_ignore_stores_the_rows_and_ignores_conflicts(db):
    rows = _rows(23)
    with db.begin() as s:
        insert_ignore(s, tasks, rows[:10], ["task_id"])
    # the first ten again (changed: left as they are), the rest new, one of them twice in the batch
    again = [r | {"status": "completed"} for r in rows[:10]] + rows[10:] + [rows[15] | {"status": "completed"}]
    with db.begin() as s:
        insert_ignore(s, tasks, again)  # the key: the primary key
    assert _stored(db, tasks, "task_id") == rows


def test_insert_ignore_stores_rows_of_different_columns_whole(db):
    """An executemany takes its columns from its first row: rows with other columns are written in runs of
    their own, in order (they were stored without the columns the first row lacked)."""
    mixed = [{"task_id": f"m-{i}", "customer_id": "C", "node": "n", "status": "open", "due_at": T0, "created_at": T0}
             | ({"team_id": "T-1"} if i % 2 else {}) for i in range(6)]
    with db.begin() as s:
        insert_ignore(s, tasks, mixed, ["task_id"])
        insert_ignore(s, doc, [{"doc_id": f"d{i}", "body": {"k": [i]}, "note": None} for i in range(6)])  # JSON
        insert_ignore(s, counted, [{"item_id": f"i{i}", "note": "x"} for i in range(6)])  # a default left out
    assert [(r["task_id"], r["team_id"]) for r in _stored(db, tasks, "task_id")] == \
        [(f"m-{i}", "T-1" if i % 2 else None) for i in range(6)]
    assert [r["body"] for r in _stored(db, doc, "doc_id")] == [{"k": [i]} for i in range(6)]
    assert [(r["item_id"], r["n"]) for r in _stored(db, counted, "item_id")] == [(f"i{i}", 7) for i in range(6)]


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_insert_rows_binds_a_type_decorator_column_as_sqlalchemy_does(backend, pg_database, sqlite_url):
    """The tasks tables' `UtcDateTime`: another offset is stored as its UTC instant, a naive time is refused —
    on PostgreSQL too, where the rows travel as one JSON parameter."""
    engine = make_engine(pg_database("sqlrows_td") if backend == "postgresql" else sqlite_url("sqlrows_td"))
    metadata.create_all(engine)
    sessions = session_factory(engine)
    row = _rows(1)[0] | {"due_at": datetime(2026, 11, 2, 17, 0, tzinfo=timezone(timedelta(hours=8)))}
    with sessions.begin() as s:
        insert_rows(s, tasks, [row])
    with sessions() as s:
        assert s.execute(select(tasks.c.due_at)).scalar_one() == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with pytest.raises(Exception, match="naive datetime"), sessions.begin() as s:
        insert_rows(s, tasks, [_rows(2)[1] | {"due_at": datetime(2026, 11, 2, 9, 0)}])


def test_rows_and_json_columns_are_written_as_json_would_write_them():
    """orjson writes them; what it refuses or would write otherwise goes through json, and what json refuses
    is still refused."""
    class Kind(enum.StrEnum):
        a = "a"

    values = [{"n": 1, "none": None, "at": T0, "naive": datetime(2026, 1, 1, 1, 2, 3, 5), "day": date(2026, 1, 2),
               "plus8": datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8))), "t": time(1, 2, 3),
               "money": Decimal("1.50"), "id": uuid.UUID(int=7), "raw": b"\x01", "kind": Kind.a, "text": "ü\u2028",
               "big": 2**70, "nested": {"k": [1, 2.5, "x"]}}]
    assert json.loads(sqlrows._json(values, sqlrows._plain)) == json.loads(json.dumps(values, default=sqlrows._plain))
    for refused_by_orjson in ({"big": 2**70}, {1: "int key"}, "\ud800"):
        assert sqlrows._column_json(refused_by_orjson) == json.dumps(refused_by_orjson)
    assert json.loads(sqlrows._column_json({"a": [1, "ü"], "k": Kind.a})) == {"a": [1, "ü"], "k": "a"}
    for refused_by_json in ({"at": T0}, {"d": Decimal(1)}):
        with pytest.raises(TypeError):
            sqlrows._column_json(refused_by_json)


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_json_columns_round_trip(backend, pg_database, sqlite_url):
    engine = make_engine(pg_database("sqlrows_json") if backend == "postgresql" else sqlite_url("sqlrows_json"))
    md = MetaData()
    t = Table("docs", md, Column("id", Integer, primary_key=True), Column("doc", JSON, nullable=True))
    md.create_all(engine)
    docs = [{"k": "ü\u2028", "n": [1, 2**70, 2.5], "m": {"x": None}}, [], {}, None, "plain", 2**70]
    with session_factory(engine).begin() as s:
        insert_rows(s, t, [{"id": i, "doc": d} for i, d in enumerate(docs)])
    with session_factory(engine)() as s:
        assert [r.doc for r in s.execute(select(t).order_by(t.c.id))] == docs
    engine.dispose()
