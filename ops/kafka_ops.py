"""Kafka-side operator actions: consumer lag, dead-letter inspection and re-drive."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.events import topics
from shared.runtime.kafka import EventProducer
from shared.runtime.settings import KafkaSettings


@dataclass(frozen=True)
class LagRow:
    group: str
    topic: str
    partition: int
    committed: int | None
    end: int
    only_markers: bool = False  # between committed and end there are transaction markers, no records

    @property
    def lag(self) -> int:
        return 0 if self.only_markers else self.end - (self.committed or 0)


MARKER_CHECK_MAX = 16  # offsets behind: at most this many may be only transaction markers worth a look


async def _only_markers(settings: KafkaSettings, rows: list[LagRow], timeout_s: float = 3.0) -> set[tuple[str, int]]:
    """The (topic, partition)s of `rows` (a few offsets behind) where a read_committed consumer starting at
    the committed offset reaches the end without a record: what is left are the control records that end
    the outbox relays' transactions, which consumers skip and some (faust) never commit past."""
    starts = {TopicPartition(r.topic, r.partition): (r.committed or 0, r.end) for r in rows}
    if not starts:
        return set()
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    try:
        consumer.assign(list(starts))
        for tp, (start, _) in starts.items():
            consumer.seek(tp, start)
        undecided, with_records = set(starts), set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while undecided and loop.time() < deadline:
            for tp, records in (await consumer.getmany(*undecided, timeout_ms=200)).items():
                if records:
                    with_records.add(tp)
            for tp in list(undecided):
                if tp in with_records or await consumer.position(tp) >= starts[tp][1]:
                    undecided.discard(tp)
        return {(tp.topic, tp.partition) for tp in starts if tp not in with_records and tp not in undecided}
    finally:
        await consumer.stop()


async def consumer_lag(settings: KafkaSettings, group_prefix: str = "whale-", topic_prefix: str = "") -> list[LagRow]:
    """Lag per consumer group / topic / partition for every group whose id starts with `group_prefix`, on
    the topics that start with `topic_prefix`. Offsets a group still holds for a deleted topic are left
    out (asking the broker for the end of a topic that does not exist waits for the request timeout)."""
    admin = AIOKafkaAdminClient(**settings.client_kwargs())
    await admin.start()
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False)
    await consumer.start()
    rows: list[LagRow] = []
    try:
        groups = sorted(g[0] for g in await admin.list_consumer_groups() if g[0].startswith(group_prefix))
        existing = set(await admin.list_topics())
        for group in groups:
            offsets = await admin.list_consumer_group_offsets(group)
            tps = [tp for tp in offsets if tp.topic in existing and tp.topic.startswith(topic_prefix)]
            if not tps:
                continue
            ends = await consumer.end_offsets(tps)
            for tp in sorted(tps, key=lambda t: (t.topic, t.partition)):
                meta = offsets[tp]
                committed = meta.offset if meta.offset >= 0 else None
                rows.append(LagRow(group, tp.topic, tp.partition, committed, ends.get(tp, 0)))
    finally:
        await consumer.stop()
        await admin.close()
    # a few offsets behind: maybe only transaction markers (one look per distinct committed offset)
    near = {(r.topic, r.partition, r.committed or 0): r for r in rows if 0 < r.lag <= MARKER_CHECK_MAX}
    markers: set[tuple[str, int, int]] = set()
    while near:
        batch = list({(t, p): r for (t, p, _), r in near.items()}.values())  # each partition once
        found = await _only_markers(settings, batch)
        markers |= {(r.topic, r.partition, r.committed or 0) for r in batch if (r.topic, r.partition) in found}
        for r in batch:
            near.pop((r.topic, r.partition, r.committed or 0))
    return [LagRow(r.group, r.topic, r.partition, r.committed, r.end, only_markers=True)
            if (r.topic, r.partition, r.committed or 0) in markers else r for r in rows]


@dataclass(frozen=True)
class DeadLetter:
    dlq_topic: str
    dlq_partition: int
    dlq_offset: int
    record: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.dlq_topic}:{self.dlq_partition}:{self.dlq_offset}"

    def summary(self) -> dict[str, Any]:
        """What an operator may see on a terminal: coordinates and the error, never the payload."""
        r = self.record
        return {
            "ref": self.ref,
            "original": f"{r['original']['topic']}:{r['original']['partition']}:{r['original']['offset']}",
            "service": r.get("service"),
            "failed_at": r.get("failed_at"),
            "stage": r["error"].get("stage"),
            "error": r["error"].get("type"),
            "field": r["error"].get("field"),
            "reason": r["error"].get("reason"),
        }


async def read_topic(settings: KafkaSettings, topic: str, *, limit: int | None = None) -> list[ConsumerRecord]:
    """The records of a topic from the beginning to its end offsets when called (at most `limit`), in
    (partition, offset) order, as a read_committed consumer sees them (no aborted transactional
    writes); nothing when the topic does not exist."""
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_poll_records=5000,
                                isolation_level="read_committed")
    await consumer.start()
    out: list[ConsumerRecord] = []
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - fresh metadata for a new topic
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining and (limit is None or len(out) < limit):
            batch = await consumer.getmany(timeout_ms=1000)
            if not batch:
                break
            for tp, recs in batch.items():
                out += [r for r in recs if r.offset < ends[tp]]
                if recs and recs[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    out.sort(key=lambda r: (r.partition, r.offset))
    return out[:limit]


async def read_dead_letters(settings: KafkaSettings, service: str, *, limit: int = 1000) -> list[DeadLetter]:
    records = await read_topic(settings, settings.topic(topics.dead_letter_topic(service)), limit=limit)
    return [DeadLetter(r.topic, r.partition, r.offset, json.loads(r.value)) for r in records]


async def original_value(settings: KafkaSettings, original: dict[str, Any]) -> bytes | None:
    """The value of a dead letter's original record, read at its coordinates (None once the topic's retention
    has removed it): for dead letters too big to carry their value."""
    tp = TopicPartition(original["topic"], original["partition"])
    consumer = AIOKafkaConsumer(**settings.client_kwargs(), group_id=None, enable_auto_commit=False,
                                isolation_level="read_committed", max_partition_fetch_bytes=2 * 1024 * 1024)
    await consumer.start()
    try:
        consumer.assign([tp])
        consumer.seek(tp, original["offset"])
        records = (await consumer.getmany(tp, timeout_ms=5000, max_records=1)).get(tp, [])
        return records[0].value if records and records[0].offset == original["offset"] else None
    finally:
        await consumer.stop()


async def redrive(settings: KafkaSettings, letters: list[DeadLetter]) -> int:
    """Publish each dead-lettered record's original bytes back to its original topic with its key (read from
    the original coordinates when the dead letter does not carry them). The consumer applies it if the cause
    is fixed (it was never marked processed) or dead-letters it again. Returns how many were re-driven (a
    letter whose original is gone from its topic is skipped)."""
    producer = EventProducer(settings, client_id="ops-redrive")
    await producer.start()
    sent = 0
    try:
        for d in letters:
            o = d.record["original"]
            inline = d.record.get("value_b64")
            value = base64.b64decode(inline) if inline is not None else await original_value(settings, o)
            if value is None:
                continue
            await producer.send_raw(
                o["topic"], value, key=o["key"].encode() if o.get("key") else None,
                headers=[("redriven_from", d.ref.encode())],
            )
            sent += 1
    finally:
        await producer.stop()
    return sent
