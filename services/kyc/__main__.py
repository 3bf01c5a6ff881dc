"""python -m services.kyc api|worker|all|migrate|rebuild"""

from __future__ import annotations

import argparse
import asyncio

from shared.runtime.api import create_app
from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.service import HttpServer, run_components

from .bootstrap import Container, bootstrap
from .settings import KycSettings

log = get_logger("kyc")


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
                health = create_app(service="kyc-worker", auth=s.auth, readiness=container.readiness())
                components.append(HttpServer(health, s.api_host, s.worker_health_port))
        if mode in ("api", "all"):
            components.append(HttpServer(container.api, s.api_host, s.api_port))
        log.info("kyc_started", mode=mode)
        await run_components(components)
    finally:
        await container.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.kyc")
    parser.add_argument("mode", choices=["api", "worker", "all", "migrate", "rebuild"])
    args = parser.parse_args(argv)
    settings = KycSettings()
    configure_logging(settings.log_level, service="kyc")
    container = bootstrap(settings)
    if args.mode == "migrate":
        log.info("kyc_migrated", database=settings.database_url.split(":", 1)[0])
        container.app.close()
        return 0
    if args.mode == "rebuild":
        n = container.rebuild_read_model()
        log.info("kyc_read_model_rebuilt", events=n)
        container.app.close()
        return 0
    asyncio.run(_serve(container, args.mode))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
