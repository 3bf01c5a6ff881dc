"""`python -m services.customer api|worker|all|migrate|rebuild`."""

from __future__ import annotations

import asyncio
import os
import sys

from shared.runtime.api import create_app
from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.service import HttpServer, run_components

from .bootstrap import SERVICE, Container, bootstrap
from .settings import CustomerSettings

log = get_logger("customer")
USAGE = "usage: python -m services.customer api|worker|all|migrate|rebuild"


async def _serve(container: Container, *, api: bool, worker: bool) -> None:
    s = container.settings
    components: list = []
    try:
        if worker:
            components += await container.start_worker()
            if not api:
                health = create_app(service=f"{SERVICE}-worker", auth=s.auth,
                                    readiness=container.readiness(broker=True))
                components.append(HttpServer(health, s.api_host, s.worker_health_port))
        if api:
            assert container.api is not None
            components.append(HttpServer(container.api, s.api_host, s.api_port))
        log.info("service_starting", api=api, worker=worker)
        await run_components(components)
    finally:
        await container.close()


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in {"api", "worker", "all", "migrate", "rebuild"}:
        sys.stderr.write(USAGE + "\n")
        return 2
    command = argv[0]
    settings = CustomerSettings()
    level = settings.log_level if "CUSTOMER_LOG_LEVEL" in os.environ else os.environ.get("LOG_LEVEL", settings.log_level)
    configure_logging(level, service=SERVICE)
    container = bootstrap(settings, migrate=True)
    if command == "migrate":
        log.info("migrated", read_model=True, event_store=True)
        container.app.close()
        return 0
    if command == "rebuild":
        n = container.rebuild_read_model()
        log.info("read_model_rebuilt", events=n)
        container.app.close()
        return 0
    asyncio.run(_serve(container, api=command in ("api", "all"), worker=command in ("worker", "all")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
