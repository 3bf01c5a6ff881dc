"""`python -m services.tasks api|worker|all|migrate|rebuild`."""

from __future__ import annotations

import argparse
import asyncio

from shared.runtime.logging import configure_logging
from shared.runtime.service import serve

from .bootstrap import bootstrap
from .settings import TasksSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.tasks", description=__doc__)
    parser.add_argument("mode", choices=["api", "worker", "all", "migrate", "rebuild"])
    args = parser.parse_args(argv)
    settings = TasksSettings()
    configure_logging(settings.log_level, service="tasks")
    container = bootstrap(settings)
    container.migrate()
    if args.mode in ("migrate", "rebuild"):
        try:
            if args.mode == "rebuild":
                container.rebuild_read_model()
        finally:
            asyncio.run(container.stop())
        return
    asyncio.run(serve(container, args.mode))


if __name__ == "__main__":
    main()
