"""Bulk assignment of 10,000 customers: command accepted -> every crm.assignment.customer_assigned event
published on the topic (event store and read model on PostgreSQL, real broker).

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
from shared.runtime.settings import AuthSettings

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
    svc.projection.catch_up()


async def main(ctx: Any) -> list[dict]:
    n = 2_000 if ctx.quick else 10_000
    kafka = ctx.kafka
    settings = AssignmentSettings(
        database_url=ctx.pg_database("asg_rm"), eventstore_url=ctx.pg_database("asg_es"), kafka=kafka,
        auth=AuthSettings(jwt_secret=SecretStr("bench-secret-bench-secret-bench-secret")), relay_interval_ms=20)
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
        components = [svc.relay, svc.projection]
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
