"""The audit chain anchored outside its database. The hash chain shows a changed, removed or inserted record,
but not a chain rewritten from some record on with every later hash recomputed, or truncated with its head:
whoever can write the database can do either. So the worker publishes the chain's head (`seq`, `hash`) to
`crm.audit.anchors` (`crm.audit.chain_anchored`, kept forever, written only by the audit service) every
`AUDIT_ANCHOR_INTERVAL_S` when it moved, and a verification (`GET /audit/verify`, `python -m ops audit verify`)
compares every anchor with the stored chain: a stored hash that differs from an anchor's, or a head below an
anchored one, fails it. Evidence of what the chain was, not a lock: an anchor only covers what it was published
after, and the topic is as trustworthy as its ACLs (mirror it to write-once storage for more).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from sqlalchemy.orm import Session, sessionmaker

from shared.events import registry, topics
from shared.events.crm_audit import ChainAnchored
from shared.events.errors import ContractError
from shared.runtime.health import ComponentHealth, Stuck
from shared.runtime.kafka import EventProducer, topic_partitions
from shared.runtime.logging import get_logger
from shared.runtime.outbox import producer_name
from shared.runtime.settings import KafkaSettings

from .projections.store import head

log = get_logger("audit.anchors")
PRODUCER = producer_name("audit")  # the envelopes' producer of what the audit worker publishes


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    anchored_at: datetime


async def read_anchors(settings: KafkaSettings, timeout_s: float = 20.0) -> list[Anchor]:
    """Every anchor on the topic, oldest first (none: the topic does not exist yet). A record that is not a
    valid anchor is skipped with a warning. Raises `TimeoutError` when the topic cannot be read to its end in
    `timeout_s` (a broker that does not answer included)."""
    return await asyncio.wait_for(_read_anchors(settings), timeout_s)


async def _read_anchors(settings: KafkaSettings) -> list[Anchor]:
    tps = await topic_partitions(settings, [settings.topic(topics.CRM_AUDIT_ANCHORS)])
    if not tps:
        return []
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    out: list[Anchor] = []
    try:
        consumer.assign(tps)
        begins, ends = await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, begins[tp])
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    try:
                        p = registry.decode(r.value).payload
                    except ContractError:
                        p = None
                    if not isinstance(p, ChainAnchored):
                        log.warning("audit_anchor_unreadable", offset=r.offset)
                        continue
                    out.append(Anchor(p.seq, p.hash, p.anchored_at))
    finally:
        await consumer.stop()
    return out


class ChainAnchorPublisher:
    """A worker component (`run` / `stop`): every `interval_s`, the chain's head published if it moved since the
    last anchor this process published (after a restart the head is published again: an anchor repeated is
    harmless). A failure is retried every `retry_s`; a run of them makes the worker unready and is logged once at
    ERROR (`component_stalled`)."""

    def __init__(self, sessions: sessionmaker[Session], producer: EventProducer, settings: KafkaSettings,
                 interval_s: float, *, retry_s: float = 10.0):
        self.sessions, self.producer, self.settings = sessions, producer, settings
        self.interval_s, self.retry_s = interval_s, min(retry_s, interval_s)
        self.published_seq = 0
        self.health = ComponentHealth("audit", "chain-anchor")
        self._stop = asyncio.Event()

    def _head(self) -> tuple[int, str]:
        with self.sessions() as s:
            return head(s)

    async def publish_once(self) -> bool:
        """Publish the head if it moved; True if an anchor was published."""
        seq, hash_ = await asyncio.to_thread(self._head)
        if seq == 0 or seq == self.published_seq:
            return False
        anchored = ChainAnchored(seq=seq, hash=hash_, anchored_at=datetime.now(UTC))
        await self.producer.publish(registry.envelope(anchored, producer=PRODUCER),
                                    topic=self.settings.topic(topics.CRM_AUDIT_ANCHORS))
        self.published_seq = seq
        log.info("audit_chain_anchored", seq=seq, hash=hash_)
        return True

    async def run(self) -> None:
        with self.health:
            while not self._stop.is_set():
                wait = self.interval_s
                try:
                    await self.publish_once()
                    self.health.progressed(position=self.published_seq)
                except Exception as exc:  # noqa: BLE001 - the database or the broker may be away: retried
                    self.health.failed(Stuck("audit-chain-anchor", self.published_seq), exc)
                    wait = self.retry_s
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=wait)
                except TimeoutError:
                    pass

    async def stop(self) -> None:
        self._stop.set()
