"""Running a service process: API server, worker components (consumers, relay, projections), or both.

Every component has `async run()` and `async stop()`. SIGTERM/SIGINT stop them all gracefully: consumers
finish and commit the batch in hand, the relay finishes its publish, uvicorn drains requests.

Every service has one composition root of the same shape (`ServiceContainer`: `services/<name>/container.py`,
built by `services/<name>/bootstrap.py`), which `serve` runs as `api`, `worker` or `all`.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, text

from . import gc_tuning
from .api import create_app
from .cursor import missing_cursor_secret
from .eventstore import TrackingApplication
from .kafka import EventProducer, broker_reachable
from .logging import configure_logging, get_logger
from .settings import KafkaSettings, ServiceSettings

log = get_logger("service")


class Component(Protocol):
    async def run(self) -> None: ...

    async def stop(self) -> None: ...


Check = Callable[[], Awaitable[None]]  # a readiness check: raises when not ready


class ServiceContainer(Protocol):
    """The shape of every service's composition root. Nothing connects when it is built; `start` connects
    what this process runs, `stop` closes everything it opened."""

    settings: ServiceSettings

    @property
    def api(self) -> FastAPI: ...

    def migrate(self) -> None:
        """Create the read-model and event-store tables."""
        ...

    def readiness(self, *, worker: bool = False) -> list[Check]:
        """Readiness checks of the API (`worker=False`) or of the worker (its broker too)."""
        ...

    async def start(self, *, worker: bool) -> list[Component]:
        """Connect (producer, topics) and return the worker's components (none without `worker`)."""
        ...

    async def stop(self) -> None:
        """Close clients, engines and the event store."""
        ...


class Rebuildable(ServiceContainer, Protocol):
    def rebuild_read_model(self) -> int | Awaitable[int]:
        """Empty the read models built from the service's own event store and replay it into them."""
        ...


def main(argv: Sequence[str] | None, *, service: str, settings: Callable[[], ServiceSettings],
         bootstrap: Callable[[Any], Rebuildable]) -> int:
    """`python -m services.<service> api|worker|all|migrate|rebuild`."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{service}")
    parser.add_argument("mode", choices=["api", "worker", "all", "migrate", "rebuild"])
    mode = parser.parse_args(argv).mode
    s = settings()
    # the service's own <NAME>_LOG_LEVEL, else the shared LOG_LEVEL, else the settings' default
    own = f"{service.upper()}_LOG_LEVEL" in os.environ
    configure_logging(s.log_level if own else os.environ.get("LOG_LEVEL", s.log_level), service=service)
    container = bootstrap(s)
    container.migrate()
    if mode in ("migrate", "rebuild"):
        asyncio.run(_once(container, service, rebuild=mode == "rebuild"))
        return 0
    asyncio.run(serve(container, mode))
    return 0


async def _once(container: Rebuildable, service: str, *, rebuild: bool) -> None:
    """`migrate` or `rebuild` in one event loop (a rebuild that replays topics may be a coroutine)."""
    try:
        if rebuild:
            events = container.rebuild_read_model()
            if inspect.isawaitable(events):
                events = await events
            log.info("read_model_rebuilt", service=service, events=events)
            await rebuild_directory(container, service)
        else:
            log.info("migrated", service=service)
    finally:
        await container.stop()


async def rebuild_directory(container: Any, service: str) -> None:
    """The service's access directory replayed from crm.access.events into its emptied tables (a consumer-fed
    read model like the others: `ops rebuild <service> --verify` compares it too)."""
    directory = getattr(container, "access_directory", None)
    if directory is None or not directory.consumes:
        return
    producer = EventProducer(container.settings.kafka, client_id=f"{service}-access-rebuild")
    await producer.start()
    try:
        await directory.rebuild(producer)
    finally:
        await producer.stop()


def store_checks(engine: Engine, app: TrackingApplication, kafka: KafkaSettings) -> list[Check]:
    """Readiness: the read-model database and the event store answer; the broker accepts a connection."""

    def ping() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        app.process_recorder.max_notification_id()

    async def database() -> None:
        await asyncio.to_thread(ping)

    async def broker() -> None:
        await broker_reachable(kafka)

    return [database, broker]


async def serve(container: ServiceContainer, mode: str) -> None:
    """`python -m services.<name> api|worker|all`: the API, the worker (with a small health app), or both."""
    s = container.settings
    components: list[Any] = []
    try:
        if mode in ("api", "all") and (variable := missing_cursor_secret(s)):
            log.error("cursor_secret_missing", service=s.service_name, variable=variable,
                      hint="every API replica needs the same cursor key; set it from the service's Secret")
            raise SystemExit(2)
        components += await container.start(worker=mode in ("worker", "all"))
        if mode == "worker":
            health = create_app(service=f"{s.service_name}-worker", auth=s.auth,
                                readiness=container.readiness(worker=True))
            components.append(HttpServer(health, s.api_host, s.worker_health_port))
        if mode in ("api", "all"):
            components.append(HttpServer(container.api, s.api_host, s.api_port))
        gc_tuning.tune(s.gc_gen0_threshold, freeze=s.gc_freeze)  # (what start-up built: frozen)
        log.info("service_starting", service=s.service_name, mode=mode)
        await run_components(components)
    finally:
        await container.stop()


@asynccontextmanager
async def running(container: ServiceContainer, *, worker: bool = True) -> AsyncIterator[ServiceContainer]:
    """The worker components in the background (tests, benchmarks, demos); everything closed afterwards.

    Leaving the block asks `run_components` to stop them (a stop on purpose: nothing logged at ERROR); a component
    that ended unasked meanwhile was logged as `component_ended` and its `ComponentEnded` is raised here. The
    API, if it was built, was called without its lifespan (an ASGI transport, no server): its audit emitter is
    stopped here as the lifespan would (its producer was otherwise left open: `Unclosed AIOKafkaProducer` at
    ERROR when the process ended)."""
    container.migrate()
    components = await container.start(worker=worker)
    stop = asyncio.Event()
    task = asyncio.create_task(run_components(components, install_signals=False, stop=stop)) if components else None
    try:
        yield container
    finally:
        stop.set()
        try:
            if task is not None:  # (longer than run_components' own bound: it cancels what did not stop, and says so)
                await asyncio.wait_for(task, timeout=STOP_TIMEOUT_S + 15)
        finally:
            try:
                built = getattr(container, "__dict__", {}).get("api")  # (a cached_property: only if it was built)
                audit = getattr(getattr(built, "state", None), "audit", None)
                if audit is not None:
                    await audit.stop()
            finally:
                await container.stop()


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


STOP_TIMEOUT_S = 30  # how long the components may take to stop before they are cancelled


async def run_components(components: Sequence[Any], *, install_signals: bool = True,
                         stop: asyncio.Event | None = None) -> None:
    """Run until a signal, until `stop` is set, or until any component ends (a crash stops the others, then
    re-raises). Only the first two are stops on purpose: whoever stops the components must go through them."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    async def stop_all() -> None:
        stopping.set()
        await asyncio.gather(*(c.stop() for c in components), return_exceptions=True)

    async def stop_when_asked(asked: asyncio.Event) -> None:
        await asked.wait()
        await stop_all()

    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, lambda: asyncio.ensure_future(stop_all()))
            except (NotImplementedError, RuntimeError):  # pragma: no cover - non-main thread
                pass
    watcher = asyncio.create_task(stop_when_asked(stop)) if stop is not None else None
    tasks = [asyncio.create_task(c.run(), name=type(c).__name__) for c in components]
    try:
        await _run_until_one_ends(tasks, stopping, stop_all)
    finally:
        if watcher is not None:
            if stop is not None and stop.is_set():
                await watcher  # its stop_all (the components' stop calls) runs to its end
            else:
                watcher.cancel()


async def _run_until_one_ends(tasks: list[asyncio.Task[Any]], stopping: asyncio.Event,
                              stop_all: Callable[[], Awaitable[None]]) -> None:
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    failed = [t for t in done if not t.cancelled() and t.exception() is not None]
    for t in failed:
        log.error("component_failed", component=t.get_name(), error=type(t.exception()).__name__,
                  exc_info=t.exception())
    # A component that ends by itself, unasked (returned, or cancelled from inside), is as much a failure as
    # one that raised: the process must not go on without it, nor end as if stopped on purpose (exit 0,
    # nothing logged: a KYC worker ended like that during the fault suite's broker outage). A stop on purpose
    # (a signal, or run_components' `stop`, e.g. leaving `running()`) sets `stopping` before any component
    # is asked to stop, so the components it ends are never taken for ones that ended unasked.
    ended = [] if stopping.is_set() else [t for t in done if t not in failed]
    for t in ended:
        log.error("component_ended", component=t.get_name(), cancelled=t.cancelled())
    if not stopping.is_set():
        await stop_all()
    try:
        await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), timeout=STOP_TIMEOUT_S)
    except TimeoutError:  # (wait_for cancelled them): said once, by name, so a stop that hangs is not silent
        log.error("components_not_stopped", components=[t.get_name() for t in pending if not t.done()
                                                         or t.cancelled()], timeout_s=STOP_TIMEOUT_S)
        for t in pending:
            t.cancel()
    if failed:
        raise failed[0].exception()  # type: ignore[misc]
    if ended:
        raise ComponentEnded(ended[0].get_name())


class ComponentEnded(RuntimeError):
    """A component of the process ended although nothing asked it to stop."""
