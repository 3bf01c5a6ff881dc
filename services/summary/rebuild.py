"""Rebuild by replay: empty the consumer-fed read models and their positions, consume the topics from the
start up to their current end; replay the service's own event store (daily reports, changelog) through the
fold its transactions run into the emptied report tables; and (with `verify`) check the answers are
identical to before."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared.runtime.logging import get_logger
from shared.runtime.projection import rebuild_from_store
from shared.runtime.replay import at_end
from shared.runtime.replay import end_offsets as topic_end_offsets

from .consumers import CONSUMER, consumed_topics
from .container import Container
from .projections import tables as t
from .projections.reports import apply_own_events

log = get_logger("summary.rebuild")

# Everything the consumer writes (raw and derived), in dependency-free order.
CONSUMER_TABLES = (t.customer_history, t.fact, t.customer_state, t.funnel, t.funnel_credit, t.follow_up, t.task,
                   t.kyc_case, t.due_item, t.node_count, t.daily_count, t.manager, t.team, t.merge_link)
# What the service's own events (daily reports, changelog) fold into, in the transaction that stores them.
OWN_TABLES = (t.daily_report, t.changelog)
FINGERPRINT_TABLES = CONSUMER_TABLES + OWN_TABLES


def fingerprint(session: Session) -> dict[str, str]:
    """A digest per read-model table over its rows in primary-key order."""
    out = {}
    for table in FINGERPRINT_TABLES:
        digest = hashlib.sha256()
        pk = list(table.primary_key.columns)
        for row in session.execute(select(table).order_by(*pk)):
            digest.update(json.dumps([_plain(v) for v in row], default=str).encode())
        out[table.name] = digest.hexdigest()
    return out


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def wipe(session: Session) -> None:
    for table in CONSUMER_TABLES:
        session.execute(delete(table))
    session.execute(delete(t.position_table).where(t.position_table.c.consumer == CONSUMER))
    session.execute(delete(t.processed_table).where(t.processed_table.c.consumer == CONSUMER))


async def end_offsets(c: Container) -> dict[tuple[str, int], int]:
    return await topic_end_offsets(c.settings.kafka, consumed_topics(c.settings))


def caught_up(c: Container, ends: dict[tuple[str, int], int], committed: dict[tuple[str, int], int]) -> bool:
    return at_end(c.handler.positions(), committed, ends)


@dataclass
class ReplayStats:
    applied: int = 0
    elapsed_s: float = 0.0  # from start (includes joining the group) to caught up
    applying_s: float = 0.0  # from the first applied batch to caught up

    @property
    def rate(self) -> float:
        return self.applied / self.applying_s if self.applying_s > 0 else 0.0


async def replay(c: Container, *, timeout_s: float = 3600.0, group_id: str | None = None) -> ReplayStats:
    """Consume from the stored positions up to the topics' current ends with the real consumer. Positions
    live in the read-model database, so the Kafka group is only a vehicle: a fresh one per run never waits
    for a previous run's members to leave."""
    group_id = group_id or f"{CONSUMER}-rebuild-{uuid.uuid4().hex[:8]}"
    ends = await end_offsets(c)
    producer = c.producer()
    await producer.start()
    consumer = c.consumer(producer, group_id=group_id)
    task = asyncio.create_task(consumer.run())
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + timeout_s
    first_at: float | None = None
    first_count = 0
    try:
        while not await asyncio.to_thread(caught_up, c, ends, consumer.committed_positions()):
            if first_at is None and consumer.applied_count:
                first_at, first_count = loop.time(), consumer.applied_count
            if task.done():
                task.result()
                raise RuntimeError("consumer stopped before catching up")
            if loop.time() > deadline:
                raise TimeoutError("replay did not catch up in time")
            await asyncio.sleep(0.2)  # polling under the deadline above
        done = loop.time()
    finally:
        await consumer.stop()
        await task
        await producer.stop()
    if first_at is None:  # everything arrived in the first polls
        first_at, first_count = started, 0
    return ReplayStats(applied=consumer.applied_count, elapsed_s=done - started,
                       applying_s=done - first_at if consumer.applied_count > first_count else 0.0)


async def rebuild(c: Container, *, verify: bool) -> int:
    c.migrate()
    before = None
    if verify:
        with c.sessions() as s:
            before = fingerprint(s)
    with c.sessions.begin() as s:
        wipe(s)
    log.info("rebuild_started", verify=verify)
    stats = await replay(c)
    own = await asyncio.to_thread(rebuild_from_store, c.app, c.sessions, list(OWN_TABLES), apply_own_events)
    with c.sessions() as s:
        after = fingerprint(s)
    differing = sorted(k for k in after if before is not None and before[k] != after[k])
    log.info("rebuild_finished", applied=stats.applied, own_events=own, seconds=round(stats.elapsed_s, 1),
             differing=differing)
    return 1 if differing else 0
