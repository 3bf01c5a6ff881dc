"""Request dependencies: the container, data scope checks, a thread hop for blocking work, several reads in one
round trip."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Path, Request
from psycopg.pq import TransactionStatus
from pydantic import StringConstraints
from sqlalchemy import Select, literal_column, select, true
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from shared.runtime.auth import Principal, Scope
from shared.runtime.lru import LRUCache

from ..projections.tables import Tables

T = TypeVar("T")
CustomerIdPath = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{1,64}$"),
                           Path(description="Brokerage customer id.")]


async def container(request: Request) -> Any:
    return request.app.state.container


def read(c: Any, fn: Callable[[Session], T]) -> T:
    """Run `fn(session)` on the read-only engine; retried once if the connection had been dropped (a
    database restart or failover), since a read can be repeated safely."""
    for attempt in (1, 2):
        try:
            with c.read_sessions() as session:
                return fn(session)
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


class _Shape:
    """A statement shape's compiled form, whether it has IN lists to expand, whether its parameters are sent as
    they are (no type of theirs processes a value before it is bound), and its rows' column names (read from
    the first result: psycopg builds a `Column` per column each time its description is read)."""

    __slots__ = ("compiled", "expanding", "plain", "names")

    def __init__(self, compiled: Any) -> None:
        self.compiled = compiled
        self.expanding = bool(compiled.literal_execute_params or compiled.post_compile_params)
        self.plain = not any(compiled._bind_processors.values())
        self.names: list[str] | None = None


_SHAPES: LRUCache[Any, _Shape] = LRUCache(512)  # statement shape (SQLAlchemy's cache key) → `_Shape`
_BUILT: dict[tuple[int, str], tuple[Any, dict[str, Select[Any]]]] = {}  # (tables, name) → (tables' ref, statements)
_FIXED: dict[int, tuple[Select[Any], Any, Any]] = {}  # id of a built statement → (it, compiled, its literals)
# (the statement itself is kept: an id names it only while it lives)


def built_once(t: Tables, name: str, build: Callable[[Tables], dict[str, Select[Any]]]) -> dict[str, Select[Any]]:
    """`build(t)`'s statements (bound to named parameters, the rest constant), made once per tables and name:
    the same objects on every call, which `fetch_all` compiles once and then sends without building them or
    working out their cache key again (per call that was most of the 360's CPU time)."""
    key = (id(t), name)
    hit = _BUILT.get(key)
    if hit is None or hit[0]() is not t:
        hit = _BUILT[key] = (weakref.ref(t), build(t))
        for stmt in hit[1].values():
            _FIXED[id(stmt)] = (stmt, None, None)
        weakref.finalize(t, _forget, key, [id(stmt) for stmt in hit[1].values()])
    return hit[1]


def _forget(key: tuple[int, str], ids: list[int]) -> None:
    """The tables are gone (a test's container): so are their statements."""
    _BUILT.pop(key, None)
    for i in ids:
        _FIXED.pop(i, None)


def _compiled(stmt: Select[Any], dialect: Any) -> tuple[_Shape, Any]:
    """(the statement's shape, its literal values) — from `_FIXED` for a `built_once` statement."""
    fixed = _FIXED.get(id(stmt))
    if fixed is not None and fixed[0] is not stmt:
        fixed = None
    if fixed is not None and fixed[1] is not None:
        return fixed[1], fixed[2]
    key = stmt._generate_cache_key()
    shape = _SHAPES.get(key.key)
    if shape is None:
        shape = _SHAPES[key.key] = _Shape(stmt.compile(dialect=dialect, cache_key=key))
    if fixed is not None:
        if shape.expanding:
            raise ValueError("built_once statements with IN lists are not supported")
        _FIXED[id(stmt)] = (stmt, shape, key.bindparams)
    return shape, key.bindparams


def fetch_all(session: Session, stmts: dict[str, Select[Any]], params: dict[str, Any], *,
              plan_once: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Several SELECTs (bound to the same `params`), each one's rows as dicts, by name. On PostgreSQL (psycopg)
    sent in one pipeline — one round trip — from SQL compiled once per statement shape, without SQLAlchemy's
    per-execution work (which was most of the 360's CPU time: 12 statements a call); the column types need no
    result processing there (JSON is parsed by the connection's loader, see `bootstrap.read_engine`).
    Elsewhere (SQLite) one by one through the session.

    `plan_once`: statements whose best plan does not depend on the values (lookups by a key) are prepared on
    the connection and run on their generic plan — planned once per connection instead of on every call (the
    reader plans every statement for its values, `bootstrap.READ_OPTIONS`; for the 360's 16 lookups planning
    took ~1.5 ms of the backend's CPU against ~0.45 ms to run them, the customer table having many indexes).
    The setting is `SET LOCAL` in a transaction of the same round trip, so it ends with it, even on an error;
    left out when the connection is already in a transaction."""
    conn = session.connection()
    if conn.dialect.driver != "psycopg":
        return {k: [dict(r._mapping) for r in conn.execute(s, params)] for k, s in stmts.items()}
    batch = []
    for stmt in stmts.values():
        shape, literals = _compiled(stmt, conn.dialect)
        if shape.expanding:
            raise ValueError("fetch_all: statements with IN lists are not supported")
        batch.append((shape, shape.compiled.construct_params(params, extracted_parameters=literals)))
    raw = conn.connection.driver_connection
    generic = plan_once and raw.info.transaction_status == TransactionStatus.IDLE  # type: ignore[union-attr]
    with raw.pipeline():  # type: ignore[union-attr]
        if generic:
            raw.execute("BEGIN READ ONLY")  # type: ignore[union-attr]
            raw.execute("SET LOCAL plan_cache_mode = force_generic_plan")  # type: ignore[union-attr]
        cursors = [raw.execute(shape.compiled.string, values, prepare=generic or None)  # type: ignore[union-attr]
                   for shape, values in batch]
        if generic:
            raw.execute("COMMIT")  # type: ignore[union-attr]
    return {name: _dicts(cur, shape) for name, cur, (shape, _) in zip(stmts, cursors, batch, strict=True)}


def fetch_rows(session: Session, stmt: Select[Any]) -> list[dict[str, Any]]:
    """One SELECT's rows as dicts (the customer list's page). On PostgreSQL (psycopg) from its SQL compiled once
    per statement shape, sent straight to the driver like `fetch_all`'s (SQLAlchemy's per-execution work was
    ~10% of a list call's instructions); a shape with IN lists (`stage=a&stage=b`) has them expanded for this
    call's values as SQLAlchemy expands them. SQLite, or a shape with a parameter a type processes, through the
    session."""
    conn = session.connection()
    if conn.dialect.driver != "psycopg":
        return [dict(r._mapping) for r in conn.execute(stmt)]
    shape, literals = _compiled(stmt, conn.dialect)
    if not shape.plain:
        return [dict(r._mapping) for r in conn.execute(stmt)]
    return _dicts(conn.connection.driver_connection.execute(*_statement(shape, literals)), shape)  # type: ignore[union-attr]


def _statement(shape: _Shape, literals: Any) -> tuple[str, Any]:
    """The SQL and parameters to send for a plain shape and this call's values (IN lists expanded)."""
    compiled = shape.compiled
    sql, params = compiled.string, compiled.construct_params(extracted_parameters=literals)
    if shape.expanding:
        expanded = compiled._process_parameters_for_postcompile(params)
        sql, params = expanded.statement, expanded.parameters
    return sql, params


async def fetch_rows_async(c: Any, stmt: Select[Any]) -> list[dict[str, Any]]:
    """`fetch_rows` awaited on the event loop: on PostgreSQL sent on the container's `async_reader` (no worker
    thread per call) from the same compiled shape; SQLite, or a shape with a parameter a type processes, in a
    worker thread through the session (`read`, `fetch_rows`)."""
    reader = c.async_reader
    if reader is not None:
        shape, literals = _compiled(stmt, c.read_sessions.kw["bind"].dialect)
        if shape.plain:
            return (await _on_reader(reader, shape, literals)).dicts()
    return await blocking(read, c, lambda s: fetch_rows(s, stmt))


async def _on_reader(reader: Any, shape: _Shape, literals: Any) -> Rows:
    """A plain shape's rows as they come, from the async reader (the shape's column names read once)."""
    names, rows = await reader.fetch(*_statement(shape, literals), names=shape.names)
    shape.names = names
    return Rows(names, rows)


@dataclass(frozen=True, slots=True)
class Rows:
    """A statement's rows as tuples with their column names, for a caller that reads each row's values by
    position (the customer list: a dict per row was ~4% of a list call's CPU)."""

    names: list[str]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.rows]

    @classmethod
    def of(cls, dicts: list[dict[str, Any]]) -> Rows:
        """Rows from rows read as dicts (every dict has the same keys in the same order)."""
        return cls(list(dicts[0]) if dicts else [], [tuple(d.values()) for d in dicts])


@dataclass(frozen=True)
class PageParts:
    """A page statement in parts (`query.page_parts`): `base` a `built_once` SELECT, then WHERE `where`, ORDER
    BY `order_by` (which `order_key` names: the same key, the same clauses) and LIMIT `limit`."""

    base: Select[Any]
    where: list[Any]
    order_by: tuple[Any, ...]
    order_key: Any
    limit: int

    def statement(self) -> Select[Any]:
        return self.base.where(*self.where).order_by(*self.order_by).limit(self.limit)


# (variable part's shape) → (the base it was compiled over, the whole statement's shape)
_PAGES: LRUCache[Any, tuple[Select[Any], _Shape]] = LRUCache(512)


def compiled_page(parts: PageParts, dialect: Any) -> tuple[_Shape, Any, Select[Any] | None]:
    """(shape, literals, the statement if it was built) of a page statement, without building it or working out
    its whole cache key when a page of the same shape was compiled before: the shape is found by the cache
    key of the variable part alone (WHERE and LIMIT; the base is constant), whose bound values are the whole
    statement's, in the same order. That order is checked when a shape is first compiled (a shape whose
    values do not line up is never looked up this way); ~8% of a list call's CPU was the whole statement's
    building and cache key."""
    probe = select(literal_column("1")).where(*parts.where).limit(parts.limit)._generate_cache_key()
    key = (id(parts.base), dialect.name, parts.order_key, probe.key)
    hit = _PAGES.get(key)
    if hit is not None and hit[0] is parts.base:
        return hit[1], probe.bindparams, None
    stmt = parts.statement()
    shape, literals = _compiled(stmt, dialect)
    if _aligned(literals, probe.bindparams):
        _PAGES[key] = (parts.base, shape)
    return shape, literals, stmt


def _aligned(whole: Any, variable: Any) -> bool:
    """Whether the variable part's bound parameters stand for the whole statement's, one for one."""
    return len(whole) == len(variable) and all(
        w is v or (type(w.type) is type(v.type) and w.effective_value == v.effective_value)
        for w, v in zip(whole, variable, strict=True))


async def fetch_page_rows(c: Any, parts: PageParts) -> Rows:
    """`fetch_rows_async` of a page statement, compiled by `compiled_page`, its rows as tuples."""
    reader, stmt = c.async_reader, None
    if reader is not None:
        shape, literals, stmt = compiled_page(parts, c.read_sessions.kw["bind"].dialect)
        if shape.plain:
            return await _on_reader(reader, shape, literals)
    whole = stmt if stmt is not None else parts.statement()
    return Rows.of(await blocking(read, c, lambda s: fetch_rows(s, whole)))


def _dicts(cur: Any, shape: _Shape) -> list[dict[str, Any]]:
    """The rows as dicts; the column names of a shape worked out once."""
    with cur:
        names = shape.names
        if names is None:
            names = shape.names = [d.name for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run sync database / event-store work in a worker thread (never on the event loop)."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def visible_ids(session: Session, t: Tables, principal: Principal, ids: Iterable[str]) -> set[str]:
    """The ids among `ids` the principal's data scope covers (existence is checked separately)."""
    wanted = list(dict.fromkeys(ids))
    if principal.scope == Scope.all:
        return set(wanted)
    a = t.assignment
    if principal.scope == Scope.own:
        cond = a.c.manager_id == principal.user_id
    else:
        if not principal.teams:
            return set()
        cond = a.c.team_id.in_(principal.teams)
    out: set[str] = set()
    for i in range(0, len(wanted), 500):
        out.update(session.scalars(select(a.c.customer_id).distinct().where(
            a.c.customer_id.in_(wanted[i:i + 500]), a.c.active == true(), cond)))
    return out


def not_found(customer_id: str) -> HTTPException:
    return HTTPException(404, detail=f"customer {customer_id!r} not found")
