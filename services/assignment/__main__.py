"""python -m services.assignment api|worker|all|migrate|rebuild"""

from __future__ import annotations

import argparse
import asyncio
import sys

from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.service import serve

from .bootstrap import bootstrap
from .settings import AssignmentSettings

log = get_logger("assignment")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.assignment", description=__doc__)
    parser.add_argument("mode", choices=["api", "worker", "all", "migrate", "rebuild"])
    args = parser.parse_args(argv)
    settings = AssignmentSettings()
    configure_logging(settings.log_level, service="assignment")
    container = bootstrap(settings)
    if args.mode in ("migrate", "rebuild"):
        try:
            if args.mode == "rebuild":
                log.info("read_model_rebuilt", events=container.rebuild_read_model())
            else:
                log.info("migrated")
        finally:
            asyncio.run(container.stop())
        return 0
    asyncio.run(serve(container, args.mode))
    return 0


if __name__ == "__main__":
    sys.exit(main())
