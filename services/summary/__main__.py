"""python -m services.summary api|worker|all|migrate|rebuild [--verify]"""

from __future__ import annotations

import argparse
import asyncio
import sys

from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.service import HttpServer, run_components

from .bootstrap import Container, bootstrap
from .consumers import consumed_topics, dead_letter_topic
from .settings import SummarySettings

log = get_logger("summary")


class Worker:
    """The Kafka consumer and the report projection, with the dead-letter producer they need."""

    def __init__(self, c: Container):
        self.c = c
        self.producer = c.producer()
        self.consumer = c.consumer(self.producer)
        self.projection = c.report_projection

    async def run(self) -> None:
        from shared.runtime.kafka import ensure_topics

        if self.c.settings.ensure_topics:
            await ensure_topics(self.c.settings.kafka, [*consumed_topics(self.c.settings),
                                                        dead_letter_topic(self.c.settings)])
        await self.producer.start()
        try:
            await asyncio.gather(self.consumer.run(), self.projection.run())
        finally:
            await self.producer.stop()

    async def stop(self) -> None:
        await self.consumer.stop()
        await self.projection.stop()


async def _serve(c: Container, mode: str) -> None:
    """Components are built inside the running loop (aiokafka clients need one)."""
    await run_components(_components(c, mode))


def _components(c: Container, mode: str) -> list[object]:
    s = c.settings
    api = c.api()
    if mode == "api":
        return [HttpServer(api, s.api_host, s.api_port)]
    worker = Worker(c)
    if mode == "worker":
        from shared.runtime.api import create_app

        health = create_app(service="summary-worker", auth=s.auth, readiness=[c.check_db, c.check_broker])
        return [worker, HttpServer(health, s.api_host, s.worker_health_port)]
    return [worker, HttpServer(api, s.api_host, s.api_port)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.summary", description=__doc__)
    parser.add_argument("mode", choices=["api", "worker", "all", "migrate", "rebuild"])
    parser.add_argument("--verify", action="store_true", help="rebuild: fail unless the answers are identical")
    args = parser.parse_args(argv)
    settings = SummarySettings()
    configure_logging(settings.log_level, service="summary")
    c = bootstrap(settings)
    try:
        c.migrate()
        if args.mode == "migrate":
            log.info("migrated")
            return 0
        if args.mode == "rebuild":
            from .rebuild import rebuild

            return asyncio.run(rebuild(c, verify=args.verify))
        asyncio.run(_serve(c, args.mode))
        return 0
    finally:
        c.dispose()


if __name__ == "__main__":
    sys.exit(main())
