"""python -m services.kyc api|worker|all|migrate|rebuild"""

from __future__ import annotations

import argparse
import asyncio
import sys

from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.service import serve

from .bootstrap import bootstrap
from .settings import KycSettings

log = get_logger("kyc")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.kyc", description=__doc__)
    parser.add_argument("mode", choices=["api", "worker", "all", "migrate", "rebuild"])
    args = parser.parse_args(argv)
    settings = KycSettings()
    configure_logging(settings.log_level, service="kyc")
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
