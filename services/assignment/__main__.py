"""python -m services.assignment api|worker|all|migrate|rebuild"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.service import HttpServer, run_components

from .bootstrap import Container, bootstrap
from .settings import AssignmentSettings

log = get_logger("assignment")


class Worker:
    """Consumers, outbox relay, projection and scheduler, sharing one started producer."""

    def __init__(self, c: Container):
        self.c = c
        self.components: list[Any] = []
        self._stopping = False

    async def run(self) -> None:
        await self.c.ensure_topics()
        await self.c.start_producer()
        try:
            if self._stopping:  # asked to stop while starting up
                return
            self.components = self.c.worker_components()
            await asyncio.gather(*(comp.run() for comp in self.components))
        finally:
            await self.c.producer.stop()

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.gather(*(comp.stop() for comp in self.components), return_exceptions=True)


def components(c: Container, mode: str) -> list[Any]:
    s = c.settings
    if mode == "api":
        return [HttpServer(c.api, s.api_host, s.api_port)]
    worker = Worker(c)
    if mode == "worker":
        from shared.runtime.api import create_app

        async def database() -> None:
            await asyncio.to_thread(c.check_database)

        health = create_app(service="assignment-worker", auth=s.auth, readiness=[database, c.check_broker])
        return [worker, HttpServer(health, s.api_host, s.worker_health_port)]
    return [worker, HttpServer(c.api, s.api_host, s.api_port)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.assignment", description=__doc__)
    parser.add_argument("mode", choices=["api", "worker", "all", "migrate", "rebuild"])
    args = parser.parse_args(argv)
    settings = AssignmentSettings()
    configure_logging(settings.log_level, service="assignment")
    c = bootstrap(settings)
    try:
        if args.mode == "migrate":
            log.info("migrated", notifications=c.app.process_recorder.max_notification_id() or 0)
            return 0
        if args.mode == "rebuild":
            log.info("read_model_rebuilt", applied=c.rebuild_read_model())
            return 0
        asyncio.run(run_components(components(c, args.mode)))
        return 0
    finally:
        c.engine.dispose()
        c.app.close()


if __name__ == "__main__":
    sys.exit(main())
