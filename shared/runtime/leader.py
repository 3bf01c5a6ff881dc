"""Only one outbox relay per service publishes at a time: a PostgreSQL advisory lock held by the active one.

The lock is session-level, on a connection of its own to the service's event store: a replica that does
not hold it waits (trying again every `retry_s`), and takes over within moments when the holder stops or
its connection dies (PostgreSQL releases the lock with the session). The holder checks its connection every
`check_s` and stops publishing as soon as it cannot be sure it still holds the lock. On other stores
(SQLite: one process) there is nothing to elect. The transactional producer fences a zombie on top of it:
a new leader's producer (the same transactional id) aborts whatever the old one left open.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from typing import Any

from .logging import get_logger
from .wakeup import postgres_channel

log = get_logger("leader")


def lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for `name`."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class Leadership:
    def __init__(self, app: Any, name: str, *, retry_s: float = 1.0, check_s: float = 2.0):
        self.app, self.name, self.key = app, name, lock_key(f"whale-leader:{name}")
        self.retry_s, self.check_s = retry_s, check_s
        self.lost = asyncio.Event()
        self._conn: Any = None
        self._watch: asyncio.Task[None] | None = None

    async def acquire(self, stopping: asyncio.Event) -> bool:
        """Wait until this process holds the lock (True) or `stopping` is set (False)."""
        found = postgres_channel(self.app)
        self.lost.clear()
        if found is None:
            return not stopping.is_set()
        import psycopg

        connect, _ = found
        waiting_logged = False
        while not stopping.is_set():
            try:
                conn = await psycopg.AsyncConnection.connect(**connect, autocommit=True, connect_timeout=5)
                got = (await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))).fetchone())[0]
                if got:
                    self._conn = conn
                    self._watch = asyncio.create_task(self._check())
                    log.info("leader_acquired", name=self.name)
                    return True
                await conn.close()
                if not waiting_logged:
                    log.info("leader_waiting", name=self.name)
                    waiting_logged = True
            except Exception as exc:  # noqa: BLE001 - the store may be down: try again
                log.warning("leader_acquire_failed", name=self.name, error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self.retry_s)
        return False

    async def _check(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.check_s)
                await asyncio.wait_for(self._conn.execute("SELECT 1"), timeout=self.check_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the session (and so the lock) may be gone
            log.warning("leader_lost", name=self.name, error=type(exc).__name__)
            self.lost.set()

    async def release(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(BaseException):
                await self._watch
            self._watch = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()  # ends the session: the lock is released
            self._conn = None


class LeaderScheduler:
    """Worker component: while this replica holds the leadership `name` (the others wait), call `run_once()`
    every `interval_s` in a worker thread. A failing run is logged and retried at the next tick; a lost
    leadership stops the runs until the lock is held again."""

    def __init__(self, app: Any, name: str, run_once: Callable[[], Any], *, interval_s: float = 30.0):
        self.run_once, self.interval_s = run_once, interval_s
        self.leadership = Leadership(app, name)
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        log.info("scheduler_started", name=self.leadership.name, interval_s=self.interval_s)
        try:
            while await self.leadership.acquire(self._stopping):
                await self._lead()
        finally:
            await self.leadership.release()
            log.info("scheduler_stopped", name=self.leadership.name)

    async def _lead(self) -> None:
        while not self._stopping.is_set() and not self.leadership.lost.is_set():
            try:
                await asyncio.to_thread(self.run_once)
            except Exception as exc:  # noqa: BLE001 - keep scheduling after transient failures
                log.warning("scheduler_failed", name=self.leadership.name, error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval_s)
        await self.leadership.release()

    async def stop(self) -> None:
        self._stopping.set()
