"""Bulk assignment of 10,000 customers: command accepted -> every crm.assignment.customer_assigned event
published on the topic (event store and read model on PostgreSQL, real broker). And routing ingest: N
crm.customer.customer_registered through the routing consumer (one rule for everyone) until every customer's
slot is in the read model and every stored event published, as process CPU time per upstream event and as
a rate beside a raw aiokafka consume of the same records; then the rebuild of the read model from the
store (events/s).

Set-up (not timed): a team, a manager with room for everyone, N registered customers in the service's
customer read model, each already routed to the pool (as production registrations are). Timed: one
`POST /assignments/bulk` through the API (in-process ASGI), then until all N events are read back from
`crm.assignment.events` by a plain aiokafka consumer.

    python -m bench --only assignment        (part of `make bench`)
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr

from services.assignment.bootstrap import bootstrap
from services.assignment.consumers import apply_customer_events
from services.assignment.settings import AssignmentSettings
from shared.events import registry, topics
from shared.events.crm_customer import CustomerOnboarded
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer, ensure_topics, topic_partitions
from shared.runtime.service import running
from shared.runtime.settings import ONE_DATABASE_SERVICES, AuthSettings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _registered(ids: list[str]) -> list[Any]:
    return [registry.decode(registry.envelope(
        CustomerOnboarded(customer_id=c, registered_at=T0, channel="manual_import"), producer="bench"
    ).model_dump(mode="json")) for c in ids]


def _seed(svc: Any, ids: list[str]) -> None:
    for i in range(0, len(ids), 500):
        events = _registered(ids[i:i + 500])
        with svc.sessions.begin() as s:
            apply_customer_events(s, events)
        svc.app.record_processed(svc.router.apply(events), [])  # what the routing consumer does, untracked


def _settings(ctx: Any, kafka: Any, label: str, **kw: Any) -> AssignmentSettings:
    stores = {"database_url": ctx.pg_database(f"{label}_rm")}
    if "assignment" not in ONE_DATABASE_SERVICES:
        stores["eventstore_url"] = ctx.pg_database(f"{label}_es")
    return AssignmentSettings(**stores, kafka=kafka, auth=AUTH, **kw)


AUTH = AuthSettings(jwt_secret=SecretStr("bench-secret-bench-secret-bench-secret"))


async def _raw_consume(kafka: Any, topic: str, n: int) -> float:
    """Raw aiokafka consume of the topic's first `n` records (partitions assigned, no group), per second."""
    tps = await topic_partitions(kafka, [topic])
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False,
                                max_poll_records=1000, fetch_max_bytes=50 * 1024 * 1024)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        got, start = 0, time.perf_counter()
        while got < n:
            got += sum(len(v) for v in (await consumer.getmany(timeout_ms=1000, max_records=1000)).values())
        return got / (time.perf_counter() - start)
    finally:
        await consumer.stop()


def _slots(svc: Any) -> int:
    from sqlalchemy import func, select

    from services.assignment.projections import tables as t

    with svc.sessions() as s:
        return s.scalar(select(func.count(func.distinct(t.assignments.c.customer_id)))) or 0


async def bench_routing(ctx: Any) -> list[dict]:
    n = 2_000 if ctx.quick else 20_000
    kafka = ctx.kafka
    topic = kafka.topic(topics.CRM_CUSTOMER)
    svc = bootstrap(_settings(ctx, kafka, "asg_route", consumer_batch_size=1000, relay_interval_ms=20))
    await ensure_topics(kafka, svc.topics())
    admin = {"Authorization": "Bearer " + mint_token(AUTH, user_id="bench-admin", role="admin")}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.api), base_url="http://b") as http:
        await http.post("/teams", json={"team_id": "T", "name": "bench"}, headers=admin)
        await http.post("/managers", json={"manager_id": "m-bench", "name": "bench", "team_id": "T",
                                           "capacity": n + 10}, headers=admin)
        r = await http.put("/rules/everyone", json={"position": 0, "team_id": "T"},
                           headers=admin)
        if r.status_code >= 300:
            raise RuntimeError(f"rule refused: {r.status_code} {r.text[:300]}")
    producer = EventProducer(kafka, client_id="bench-routing")
    await producer.start()
    try:
        envelopes = [registry.envelope(CustomerOnboarded(customer_id=f"r-{i:06d}", registered_at=T0,
                                                         channel="organic"), producer="bench")
                     for i in range(n)]
        for i in range(0, n, 5000):
            await producer.publish_many(envelopes[i:i + 5000])
    finally:
        await producer.stop()
    raw = await _raw_consume(kafka, topic, n)
    async with running(svc):
        cpu, start = time.process_time(), time.perf_counter()

        def done() -> bool:
            last = svc.app.process_recorder.max_notification_id()
            return _slots(svc) >= n and svc.relay.position() == last

        while not await asyncio.to_thread(done):
            if time.perf_counter() - start > 900:
                raise RuntimeError(f"routing: {_slots(svc)} of {n} customers after 900 s")
            await asyncio.sleep(0.05)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    svc = bootstrap(svc.settings)  # the worker stopped: rebuild the read model from the store
    try:
        t_rebuild = time.perf_counter()
        replayed = await asyncio.to_thread(svc.rebuild_read_model)
        rebuild_s = time.perf_counter() - t_rebuild
        assert _slots(svc) >= n, "the rebuilt read model lacks customers"
    finally:
        await svc.stop()
    note = (f"{n:,} crm.customer.customer_registered -> one rule -> CustomerAssignment events, read-model slot and "
            "crm.assignment.customer_assigned published; PostgreSQL, in-process (the bench process's CPU)")
    return [
        {"benchmark": "assignment", "metric": "routing: CPU per upstream event", "value": cpu / n * 1000,
         "unit": "ms", "note": note},
        {"benchmark": "assignment", "metric": "routing: ingest rate", "value": n / wall, "unit": "events/s",
         "note": f"{n / wall / raw:.1%} of raw aiokafka consume of the same records ({raw:,.0f}/s, same run)"},
        {"benchmark": "assignment", "metric": "rebuild: stored events -> emptied read model",
         "value": replayed / rebuild_s, "unit": "events/s", "note": f"{replayed:,} events in {rebuild_s:.2f} s"},
    ]


async def main(ctx: Any) -> list[dict]:
    return [*await bench_routing(ctx), *await bench_bulk(ctx)]


async def bench_bulk(ctx: Any) -> list[dict]:
    n = 2_000 if ctx.quick else 10_000
    kafka = ctx.kafka
    settings = _settings(ctx, kafka, "asg", relay_interval_ms=20)
    svc = bootstrap(settings)
    ids = [f"bench-{i:06d}" for i in range(n)]
    admin = {"Authorization": "Bearer " + mint_token(settings.auth, user_id="bench-admin", role="admin")}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.api), base_url="http://b") as http:
        await http.post("/teams", json={"team_id": "T", "name": "bench"}, headers=admin)
        await http.post("/managers", json={"manager_id": "m-bench", "name": "bench", "team_id": "T",
                                           "capacity": n}, headers=admin)
        await asyncio.to_thread(_seed, svc, ids)
        await svc.ensure_topics()
        await svc.start_producer()
        # publish the set-up events first so the timed part only carries the bulk assignment
        while await svc.relay.publish_once():
            pass
        components = [svc.relay]
        tasks = [asyncio.create_task(c.run()) for c in components]
        consumer = AIOKafkaConsumer(kafka.topic(topics.CRM_ASSIGNMENT), bootstrap_servers=kafka.bootstrap_servers,
                                    group_id=None, auto_offset_reset="earliest", enable_auto_commit=False,
                                    max_poll_records=5000)
        await consumer.start()
        try:
            start = time.perf_counter()
            r = await http.post("/assignments/bulk", json={"customer_ids": ids, "manager_id": "m-bench"},
                                headers=admin, timeout=600)
            accepted = time.perf_counter()
            if r.status_code != 200 or r.json()["counts"].get("assigned") != n:
                raise RuntimeError(f"bulk command failed: {r.status_code} {r.text[:300]}")
            seen: set[str] = set()
            deadline = accepted + 600
            while len(seen) < n and time.perf_counter() < deadline:
                batch = await consumer.getmany(timeout_ms=200, max_records=5000)
                for recs in batch.values():
                    for rec in recs:
                        env = json.loads(rec.value)
                        if env["event_type"] == "crm.assignment.customer_assigned":
                            seen.add(env["payload"]["customer_id"])
            done = time.perf_counter()
            if len(seen) < n:
                raise RuntimeError(f"only {len(seen)} of {n} customer_assigned events arrived")
        finally:
            await consumer.stop()
            for c in components:
                await c.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            await svc.stop()
    total, command = done - start, accepted - start
    rate = n / total
    produce = ctx.baseline.get("produce_rate")
    rows = [
        {"benchmark": "assignment", "metric": f"bulk assign {n:,}: command accepted (200)", "value": command,
         "unit": "s", "note": f"{n / command:,.0f} customers/s, PostgreSQL event store, chunks of "
                              f"{settings.bulk_chunk_size}"},
        {"benchmark": "assignment", "metric": f"bulk assign {n:,}: all customer_assigned on topic", "value": total,
         "unit": "s", "note": "bulk request sent -> last event read back from crm.assignment.events"},
        {"benchmark": "assignment", "metric": "bulk assign end-to-end rate", "value": rate, "unit": "events/s",
         "note": f"{rate / produce:.1%} of raw aiokafka produce" if produce else "no baseline in this run"},
    ]
    return rows


if __name__ == "__main__":  # pragma: no cover - `python bench/bench_assignment.py` for a quick look
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.context import BenchContext

    ctx = BenchContext(quick="--quick" in sys.argv)
    try:
        for row in asyncio.run(main(ctx)):
            sys.stdout.write(json.dumps(row) + "\n")
    finally:
        ctx.cleanup()
