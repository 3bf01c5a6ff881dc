"""python -m services.summary api|worker|all|migrate|rebuild [--verify]"""

from __future__ import annotations

import argparse
import asyncio
import sys

from shared.runtime.logging import configure_logging
from shared.runtime.service import serve

from .bootstrap import bootstrap
from .settings import SummarySettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.summary", description=__doc__)
    parser.add_argument("mode", choices=["api", "worker", "all", "migrate", "rebuild"])
    parser.add_argument("--verify", action="store_true", help="rebuild: fail unless the answers are identical")
    args = parser.parse_args(argv)
    settings = SummarySettings()
    configure_logging(settings.log_level, service="summary")
    c = bootstrap(settings)
    c.migrate()
    if args.mode == "migrate":
        c.dispose()
        return 0
    if args.mode == "rebuild":
        from .rebuild import rebuild

        try:
            return asyncio.run(rebuild(c, verify=args.verify))
        finally:
            c.dispose()
    asyncio.run(serve(c, args.mode))
    return 0


if __name__ == "__main__":
    sys.exit(main())
