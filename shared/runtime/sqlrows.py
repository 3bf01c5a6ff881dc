"""Batch writes of read-model rows with a fixed number of statements, on PostgreSQL and SQLite alike."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import JSON, Table, TextClause, TypeDecorator, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

CHUNK = 1000


def dialect_insert(session: Session, table: Table):  # type: ignore[no-untyped-def]
    return postgresql.insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(table)


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]], *,
                ignore: list[str] | None = None) -> None:
    """Insert the rows (all with the same keys: scalar columns; the others take their defaults); with
    `ignore` (a unique key), rows whose key exists already are left as they are. On PostgreSQL one statement
    per `CHUNK` rows whatever their number, with the rows as ONE JSON parameter (`INSERT … SELECT … FROM
    json_to_recordset(…)`, see `_recordset`): the statement's text stays short, so neither SQLAlchemy nor
    psycopg builds and parses a query of one placeholder per value (a multi-row VALUES list cost ~0.1 ms of
    CPU per row in the tasks engine). Elsewhere one executemany."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        stmt = dialect_insert(session, table)
        session.execute(stmt.on_conflict_do_nothing(index_elements=ignore) if ignore else stmt, list(rows))
        return
    quote = dialect.identifier_preparer.quote
    _recordset(session, table, rows, f" ON CONFLICT ({', '.join(quote(k) for k in ignore)}) DO NOTHING" if ignore else "")


def upsert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]], keys: list[str]) -> None:
    """Insert the rows, or overwrite the non-key columns they carry where the key exists (`upsert` without
    `newer`), with `insert_rows`' statements on PostgreSQL: one `INSERT … SELECT … FROM json_to_recordset(…) ON
    CONFLICT … DO UPDATE` per `CHUNK` rows (the import of 10,000 customers: 746 → 655 µs of service CPU and
    235 → 190 µs of PostgreSQL CPU per row against a multi-row VALUES upsert of the 45-column row). The rows
    must have distinct keys (scalar columns, JSON included)."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        upsert(session, table, rows, keys)
        return
    quote = dialect.identifier_preparer.quote
    cols = [c for c in rows[0] if c not in keys]
    action = (f"UPDATE SET {', '.join(f'{quote(c)} = EXCLUDED.{quote(c)}' for c in cols)}" if cols
              else "NOTHING")
    _recordset(session, table, rows, f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO {action}")


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]],
                  keys: list[str] | None = None) -> None:
    """Insert the rows; rows whose key (`keys`, default the primary key) exists already, or comes earlier in
    `rows`, are left as they are (idempotent appends). One executemany per run of consecutive rows with the
    same columns (an executemany takes its columns from its first row: the others' would be dropped)."""
    keys = keys or [c.name for c in table.primary_key]
    stmt = None
    for run in _same_columns(rows):
        stmt = stmt if stmt is not None else dialect_insert(session, table).on_conflict_do_nothing(index_elements=keys)
        for i in range(0, len(run), CHUNK):
            session.execute(stmt, list(run[i:i + CHUNK]))


def _same_columns(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    """The runs of consecutive rows with the same keys, in order."""
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i].keys() != rows[start].keys():
            yield rows[start:i]
            start = i


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


def _plain(value: Any) -> Any:
    """JSON for the values `json.dumps` does not know: their text, which PostgreSQL's input functions read."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    raise TypeError(f"cannot write {type(value).__name__} as a row value")


def _json(value: Any, default: Callable[[Any], Any] | None = None, option: int = 0) -> str:
    """`json.dumps(value, default=default)` as PostgreSQL reads it back, written by orjson (~4x faster: encoding
    an import's read-model rows was ~5% of its CPU); `json.dumps` where orjson refuses (an int beyond 64 bits,
    a key that is not a string, a lone surrogate, a time with a zone, a type `option` passes through). The text
    may differ from json's in spacing and escapes, never in the value it stands for; a float NaN or infinity
    (no read model holds one) is written null, where json wrote a token PostgreSQL refuses."""
    try:
        return orjson.dumps(value, default=default, option=option).decode()
    except TypeError:  # (orjson.JSONEncodeError is one)
        return json.dumps(value, default=default)


def _column_json(value: Any) -> str:
    """A JSON column's text, as SQLAlchemy's JSON type writes it (`json.dumps`: a datetime or a dataclass in it
    is refused, as it is on SQLite)."""
    return _json(value, option=_STRICT)


_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _recordset(session: Session, table: Table, rows: Sequence[dict[str, Any]], conflict: str) -> None:
    """`INSERT INTO table (columns of the first row) SELECT … FROM json_to_recordset(the rows as one JSON array)`
    + `conflict`, one statement and ONE parameter per `CHUNK` rows (PostgreSQL). The rows are encoded by orjson
    (`_json`) and decoded by PostgreSQL's input functions (`json_to_recordset` declares each column's
    type); an array parameter per column cost psycopg ~1 µs of Python per value to quote. A JSON column's value
    travels as its own text (`_column_json`, as SQLAlchemy writes it: None is JSON null) and is cast back. A
    column of a `TypeDecorator` type has its values bound by it first, as SQLAlchemy binds them (e.g. the tasks
    tables' `UtcDateTime`, which refuses a naive time)."""
    dialect = session.get_bind().dialect
    stmt, convert = _recordset_statement(dialect, table, tuple(rows[0]), conflict)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        if convert:
            chunk = [{k: convert[k](v) if k in convert else v for k, v in r.items()} for r in chunk]
        session.execute(stmt, {"rows": _json(chunk, _plain)})


@functools.lru_cache(maxsize=256)
def _recordset_statement(dialect: Dialect, table: Table, names: tuple[str, ...],
                         conflict: str) -> tuple[TextClause, dict[str, Callable[[Any], Any]]]:
    """`_recordset`'s statement for these columns, and the converter of each column whose value is not written
    as it is (a JSON column's `_column_json`, a `TypeDecorator`'s bind processor): built once per shape."""
    columns = [table.c[name] for name in names]
    json_cols = {c.name for c in columns if isinstance(c.type, JSON)}
    convert: dict[str, Callable[[Any], Any]] = dict.fromkeys(json_cols, _column_json)
    convert.update((c.name, proc) for c in columns if isinstance(c.type, TypeDecorator) and c.name not in json_cols
                   and (proc := c.type.bind_processor(dialect)) is not None)
    quote = dialect.identifier_preparer.quote
    quoted = [quote(c.name) for c in columns]
    declared = ", ".join(f"{n} {'TEXT' if c.name in json_cols else c.type.compile(dialect=dialect)}"
                         for n, c in zip(quoted, columns, strict=True))
    picked = ", ".join(f"CAST({n} AS {c.type.compile(dialect=dialect)})" if c.name in json_cols else n
                       for n, c in zip(quoted, columns, strict=True))
    stmt = text(f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({', '.join(quoted)}) "  # noqa: S608
                f"SELECT {picked} FROM json_to_recordset(CAST(:rows AS JSON)) AS r({declared}){conflict}")
    return stmt, convert
