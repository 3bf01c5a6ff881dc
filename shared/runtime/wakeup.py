"""Wake-ups for the components that follow an event store (outbox relays, projections) instead of polling.

- In the process that records: `TrackingApplication` calls its wake-up callbacks after every recording
  that stored events (any thread; the callback hops onto the component's event loop).
- Across processes (the API and the worker are separate Deployments) on PostgreSQL: the eventsourcing
  recorder sends `NOTIFY <events table>` in the transaction of every insert; `listen()` holds one
  `LISTEN` connection and wakes the component on each notification.

A component still polls, but slowly (`Waker.idle_s`), as a safety net: a notification lost while the
listening connection was being re-established costs at most one idle interval, never an event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from .logging import get_logger

log = get_logger("wakeup")

IDLE_POLL_S = 1.0  # the safety-net poll of a component that gets wake-ups
FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.25, 10.0  # retry delays of a failing step


def backoff_s(failures: int) -> float:
    """Delay before the next attempt after `failures` consecutive failures (1, 2, …): doubling, bounded."""
    return min(FIRST_BACKOFF_S * 2 ** max(failures - 1, 0), MAX_BACKOFF_S)


class Waker:
    """An asyncio.Event that can be set from any thread."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self) -> None:
        self._loop = asyncio.get_running_loop()

    def set(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            self.event.set()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.event.set()
        else:
            loop.call_soon_threadsafe(self.event.set)

    def clear(self) -> None:
        self.event.clear()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout=timeout)


def postgres_channel(app: Any) -> tuple[dict[str, Any], str] | None:
    """(connection keywords, channel) of an application whose events are in PostgreSQL, else None."""
    from eventsourcing.postgres import PostgresApplicationRecorder

    rec = app.recorder
    if not isinstance(rec, PostgresApplicationRecorder):
        return None
    kwargs = {k: v for k, v in rec.datastore.pool.kwargs.items() if k in ("dbname", "host", "port", "user", "password")}
    return kwargs, rec.channel_name


async def listen(app: Any, wake: Waker, stopping: asyncio.Event) -> None:
    """LISTEN on the application's PostgreSQL channel and wake on every notification, reconnecting after
    errors, until `stopping`. Returns at once for other stores (their writers wake in-process)."""
    found = postgres_channel(app)
    if found is None:
        return
    connect, channel = found
    import psycopg
    from psycopg import sql

    delay = 0.5
    while not stopping.is_set():
        try:
            conn = await psycopg.AsyncConnection.connect(**connect, autocommit=True, connect_timeout=5)
            async with conn:
                await conn.execute(sql.SQL("LISTEN {0}").format(sql.Identifier(channel)))
                wake.set()  # anything recorded while not listening
                delay = 0.5
                while not stopping.is_set():
                    # bounded waits (no cancellation of a generator holding the connection's lock)
                    async for _ in conn.notifies(timeout=0.5):
                        wake.set()
        except Exception as exc:  # noqa: BLE001 - keep listening; the safety-net poll covers the gap
            log.warning("store_listen_failed", channel=channel, error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=delay)
            delay = min(delay * 2, 10.0)


async def follow(app: Any, wake: Waker, stopping: asyncio.Event, step: Callable[[], Awaitable[int]], *,
                 interval_s: float, on_error: Callable[[Exception], None]) -> None:
    """Run `step()` (returns how much it did) until `stopping`: again at once after work, else after a
    wake-up or the idle poll. An error is reported and retried after a back-off that doubles up to
    `MAX_BACKOFF_S` (wake-ups do not shorten it), never skipped."""
    wake.bind()
    listener = asyncio.create_task(listen(app, wake, stopping))
    idle_s = max(interval_s, IDLE_POLL_S) if postgres_channel(app) else interval_s
    failures = 0
    try:
        while not stopping.is_set():
            wake.clear()  # before reading: a wake-up during the step is kept for the next round
            try:
                n = await step()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - reported by the caller; retried
                on_error(exc)
                failures += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=backoff_s(failures))
                continue
            if n == 0:
                await wake.wait(idle_s)
    finally:
        if not stopping.is_set():
            listener.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(listener, timeout=5)  # it notices `stopping` within half a second
