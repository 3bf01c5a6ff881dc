"""`python -m services.tasks api|worker|all|migrate|rebuild`."""

from __future__ import annotations

import argparse
import asyncio

from shared.events import topics
from shared.runtime.kafka import ensure_topics
from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.service import run_components

from .bootstrap import bootstrap
from .settings import TasksSettings

log = get_logger("tasks")


async def _main(mode: str) -> None:
    settings = TasksSettings()
    configure_logging(settings.log_level, service="tasks")
    container = bootstrap(settings)
    container.migrate()
    if mode == "migrate":
        await container.close()
        return
    if mode == "rebuild":
        try:
            await asyncio.to_thread(container.rebuild_read_model)
        finally:
            await container.close()
        return
    components: list = []
    if mode in ("worker", "all"):
        # Development convenience (production declares topics as KafkaTopic resources): our own output
        # and dead-letter topics, and the input topics so the engine can join before upstream publishes.
        kafka = settings.kafka
        await ensure_topics(kafka, [kafka.topic(topics.CRM_TASKS), kafka.topic(topics.dead_letter_topic("tasks")),
                                    *container.input_topics])
        components += container.worker_components()
    if mode in ("api", "all"):
        components += container.api_components()
    log.info("tasks_starting", mode=mode)
    try:
        await run_components(components)
    finally:
        await container.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.tasks", description=__doc__)
    parser.add_argument("mode", choices=["api", "worker", "all", "migrate", "rebuild"])
    args = parser.parse_args(argv)
    asyncio.run(_main(args.mode))


if __name__ == "__main__":
    main()
