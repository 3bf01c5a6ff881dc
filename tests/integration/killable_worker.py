"""A customer worker that kills itself (SIGKILL, no clean-up of any kind) at a chosen point between the
commit of its events in the database and the recording of their publication, for
`test_runtime_onepass_faults.py`:

- `before_send`: the events are committed, nothing of the relay's batch has reached Kafka;
- `in_transaction`: the batch was sent and acknowledged, its Kafka transaction is still open;
- `after_commit`: the Kafka transaction is committed, the relay's position is not recorded.

It dies at the relay's `--batch`-th publish. Run: `python -m tests.integration.killable_worker URL PREFIX POINT`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import Any

from services.customer.bootstrap import bootstrap
from services.customer.settings import CustomerSettings
from shared.runtime.logging import configure_logging
from shared.runtime.service import running
from shared.runtime.settings import KafkaSettings

POINTS = ("before_send", "in_transaction", "after_commit")
OUTSIDE = "outside"  # no point of its own: killed by the test from outside, wherever it is


def settings(url: str, kafka: KafkaSettings) -> CustomerSettings:
    """The same for the killed worker and the one restarted after it (small batches: several of each)."""
    return CustomerSettings(database_url=url, kafka=kafka, consumer_batch_size=50, relay_batch_size=40)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(relay: Any, point: str, batch: int) -> None:
    """Make the relay's `batch`-th publish kill the process at `point`."""
    producer = relay.producer
    calls = {"publish": 0, "end": 0}
    publish_many, end_transaction = producer.publish_many, producer._end_transaction

    async def publishing(*args: Any, **kwargs: Any) -> None:
        calls["publish"] += 1
        if point == "before_send" and calls["publish"] == batch:
            die()
        await publish_many(*args, **kwargs)

    async def ending(kafka_producer: Any, error: BaseException | None) -> BaseException | None:
        calls["end"] += 1
        if point == "in_transaction" and calls["end"] == batch and error is None:
            die()
        result = await end_transaction(kafka_producer, error)
        if point == "after_commit" and calls["end"] == batch and result is None:
            die()
        return result

    producer.publish_many = publishing
    producer._end_transaction = ending


async def serve(url: str, kafka: KafkaSettings, point: str, batch: int) -> None:
    container = bootstrap(settings(url, kafka))
    container.build_worker()
    if point != OUTSIDE:
        arm(container.relay, point, batch)
    async with running(container):
        await asyncio.Event().wait()  # until killed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("topic_prefix")
    parser.add_argument("point", choices=(*POINTS, OUTSIDE))
    parser.add_argument("--batch", type=int, default=3)
    args = parser.parse_args()
    configure_logging("WARNING")
    kafka = KafkaSettings(bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"], topic_prefix=args.topic_prefix,
                          linger_ms=1, fetch_max_wait_ms=50)
    asyncio.run(serve(args.url, kafka, args.point, args.batch))


if __name__ == "__main__":
    main()
