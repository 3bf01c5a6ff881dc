"""Read-only PostgreSQL queries awaited on the event loop, for an API's hottest reads (the customer list).

The services' reads run on SQLAlchemy's synchronous engine in a worker thread (`asyncio.to_thread`). For a
read that is one statement sent straight to the driver, that thread hop is most of what the call waits for
beyond the query: two GIL hand-overs and a wake-up of the loop per call, which showed as the list's tail
(p99 0.4 ms above the same call run on the loop, 1,000,000 customers). Here the statement is sent on one of
psycopg's async connections instead, while the loop serves other requests.

A small pool of its own (psycopg_pool's would add a scheduler and worker tasks per pool): connections are
opened on demand, at most `size` at once (more callers wait for one), reused last-in first-out, retired after
`recycle_s` (a new backend re-plans; the sync reader keeps its connections as long), and closed on any error
— a connection whose statement failed or was cancelled (the client went away mid-query) is never reused.
A read that meets a dropped connection (a database restart or failover) is retried once on a new one, as
`read()` does on the sync engine; a database that is away raises psycopg's OperationalError, which the API
answers 503. One pool per event loop: a reader used from another loop (tests) starts over there."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from .logging import get_logger

log = get_logger("runtime.async_reader")


def conninfo_of(url: URL) -> str:
    """libpq's URI for a SQLAlchemy PostgreSQL URL (its query options, e.g. sslmode, kept)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class AsyncReader:
    def __init__(self, conninfo: str, *, options: str = "", size: int = 10, recycle_s: float = 3600.0,
                 configure: Callable[[psycopg.AsyncConnection[Any]], None] | None = None,
                 connect_timeout_s: int = 10):
        self._conninfo, self._options, self._configure = conninfo, options, configure
        self._size, self._recycle_s, self._connect_timeout_s = size, recycle_s, connect_timeout_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[tuple[psycopg.AsyncConnection[Any], float]] = []
        self._slots: asyncio.Semaphore | None = None
        self._closed = False
        self.retried = 0  # reads run again after a dropped connection

    async def fetch(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None, *,
                    names: list[str] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """(column names, rows) of one statement. `names`: the statement's column names when the caller knows
        them (psycopg builds a `Column` per column each time a cursor's description is read)."""
        if self._closed:
            raise psycopg.InterfaceError("the reader is closed")
        slots = self._bind()
        async with slots:
            for attempt in (1, 2):
                conn, opened = await self._take()
                try:
                    cur = await conn.execute(sql, params)
                    rows = await cur.fetchall()
                    if names is None:
                        names = [d.name for d in cur.description or ()]
                    await cur.close()
                except psycopg.OperationalError:
                    self._drop(conn)
                    if attempt == 2 or not conn.broken:
                        raise
                    self.retried += 1
                    log.info("async_reader_retry", reason="connection dropped")
                    continue
                except BaseException:
                    self._drop(conn)
                    raise
                self._give_back(conn, opened)
                return names, rows
        raise AssertionError("unreachable")

    def _bind(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop is not self._loop or self._slots is None:
            for conn, _ in self._idle:  # (another loop's connections: closed without awaiting)
                self._drop(conn)
            self._idle, self._loop, self._slots = [], loop, asyncio.Semaphore(self._size)
        return self._slots

    async def _take(self) -> tuple[psycopg.AsyncConnection[Any], float]:
        now = time.monotonic()
        while self._idle:
            conn, opened = self._idle.pop()
            if conn.closed or conn.broken or now - opened > self._recycle_s:
                self._drop(conn)
                continue
            return conn, opened
        conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True, options=self._options,
                                                     connect_timeout=self._connect_timeout_s)
        if self._configure is not None:
            self._configure(conn)
        return conn, now

    def _give_back(self, conn: psycopg.AsyncConnection[Any], opened: float) -> None:
        if self._closed or conn.closed or conn.broken or asyncio.get_running_loop() is not self._loop:
            self._drop(conn)
        else:
            self._idle.append((conn, opened))

    @staticmethod
    def _drop(conn: psycopg.AsyncConnection[Any]) -> None:
        """Close a connection without awaiting (libpq's finish: the socket is closed, the backend ends)."""
        if not conn.closed:
            conn.pgconn.finish()

    def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            self._drop(conn)

    @property
    def idle(self) -> int:
        return len(self._idle)
