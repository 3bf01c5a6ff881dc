"""python -m services.usercrm api|worker|all|migrate|rebuild"""

from __future__ import annotations

import argparse
import asyncio

from shared.runtime.api import create_app
from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.service import HttpServer, run_components

from .bootstrap import Container, bootstrap
from .settings import UsercrmSettings

log = get_logger("usercrm")


async def _serve(container: Container, mode: str) -> None:
    s = container.settings
    components: list = []
    try:
        if mode in ("worker", "all"):
            await container.ensure_topics()
            await container.start_producer()
            await asyncio.to_thread(container.projection.catch_up)
            components += container.worker_components()
            if mode == "worker":
                async def database() -> None:
                    await asyncio.to_thread(container.check_database)

                health = create_app(service="usercrm-worker", auth=s.auth,
                                    readiness=[database, container.check_broker])
                components.append(HttpServer(health, s.api_host, s.worker_health_port))
        if mode in ("api", "all"):
            components.append(HttpServer(container.api, s.api_host, s.api_port))
        log.info("usercrm_started", mode=mode)
        await run_components(components)
    finally:
        await container.close()


async def _rebuild(container: Container) -> int:
    try:
        return await container.rebuild_read_model()
    finally:
        await container.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.usercrm")
    parser.add_argument("mode", choices=["api", "worker", "all", "migrate", "rebuild"])
    args = parser.parse_args(argv)
    settings = UsercrmSettings()
    configure_logging(settings.log_level, service="usercrm")
    container = bootstrap(settings)
    if args.mode == "migrate":
        log.info("usercrm_migrated", database=settings.database_url.split(":", 1)[0])
        container.app.close()
        return 0
    if args.mode == "rebuild":
        n = asyncio.run(_rebuild(container))
        log.info("usercrm_read_model_rebuilt", events=n)
        return 0
    asyncio.run(_serve(container, args.mode))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
