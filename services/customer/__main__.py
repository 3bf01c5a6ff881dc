"""`python -m services.customer api|worker|all|migrate|rebuild`."""

from __future__ import annotations

import asyncio
import os
import sys

from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.service import serve

from .bootstrap import bootstrap
from .container import SERVICE
from .settings import CustomerSettings

log = get_logger("customer")
USAGE = "usage: python -m services.customer api|worker|all|migrate|rebuild"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in {"api", "worker", "all", "migrate", "rebuild"}:
        sys.stderr.write(USAGE + "\n")
        return 2
    command = argv[0]
    settings = CustomerSettings()
    level = settings.log_level if "CUSTOMER_LOG_LEVEL" in os.environ else os.environ.get("LOG_LEVEL", settings.log_level)
    configure_logging(level, service=SERVICE)
    container = bootstrap(settings, migrate=True)
    if command in ("migrate", "rebuild"):
        try:
            if command == "rebuild":
                log.info("read_model_rebuilt", events=container.rebuild_read_model())
            else:
                log.info("migrated", read_model=True, event_store=True)
        finally:
            asyncio.run(container.stop())
        return 0
    asyncio.run(serve(container, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
