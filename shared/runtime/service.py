"""Running a service process: API server, worker components (consumers, relay, projections), or both.

Every component has `async run()` and `async stop()`. SIGTERM/SIGINT stop them all gracefully: consumers
finish and commit the batch in hand, the relay finishes its publish, uvicorn drains requests.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from typing import Any, Protocol

import uvicorn
from fastapi import FastAPI

from .logging import get_logger

log = get_logger("service")


class Component(Protocol):
    async def run(self) -> None: ...

    async def stop(self) -> None: ...


class HttpServer:
    """uvicorn as a component (no signal handlers of its own: the process runner owns them)."""

    def __init__(self, app: FastAPI, host: str, port: int):
        self.server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
        )
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]

    async def run(self) -> None:
        await self.server.serve()

    async def stop(self) -> None:
        self.server.should_exit = True


async def run_components(components: Sequence[Any], *, install_signals: bool = True) -> None:
    """Run until a signal or until any component ends (a crash stops the others, then re-raises)."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    async def stop_all() -> None:
        stopping.set()
        await asyncio.gather(*(c.stop() for c in components), return_exceptions=True)

    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, lambda: asyncio.ensure_future(stop_all()))
            except (NotImplementedError, RuntimeError):  # pragma: no cover - non-main thread
                pass
    tasks = [asyncio.create_task(c.run(), name=type(c).__name__) for c in components]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    failed = [t for t in done if not t.cancelled() and t.exception() is not None]
    for t in failed:
        log.error("component_failed", component=t.get_name(), error=type(t.exception()).__name__,
                  exc_info=t.exception())
    if not stopping.is_set():
        await stop_all()
    try:
        await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), timeout=30)
    except TimeoutError:
        for t in pending:
            t.cancel()
    if failed:
        raise failed[0].exception()  # type: ignore[misc]
