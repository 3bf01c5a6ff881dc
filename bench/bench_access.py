"""Access benchmark (`python -m bench --only access`): how soon a staff exit is refused, and what an answer
of the access directory costs.

The access service (PostgreSQL, its outbox relay running) and a consuming service's `AccessDirectory` (its own
PostgreSQL database, its consumer running, the default `refresh_s` of 1 s) on the real broker. 200 staff
members (20 with --quick) hold a role; then members exit one at a time through the API while the consuming
process keeps asking about them (its cache warm, as under traffic). Per exit: the time until the directory's
row says `exited` (relay + broker + consumer), until `access()` refuses in the consuming process (its batches
empty its cache) and in another process reading the same tables (an API pod: its cache ages out). Then the CPU
time (time.process_time) of one answer from the tables (cache emptied) and from the cache.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from services.access.bootstrap import bootstrap
from services.access.settings import AccessSettings
from shared.runtime.access_directory import AccessDirectory
from shared.runtime.auth import mint_token
from shared.runtime.db import make_engine, session_factory
from shared.runtime.kafka import EventProducer
from shared.runtime.settings import AuthSettings

from .stats import percentile

AUTH = AuthSettings(jwt_secret=SecretStr("bench-secret-bench-secret-bench-secret"))
ADMIN = {"Authorization": f"Bearer {mint_token(AUTH, user_id='admin-1', role='admin')}"}


async def main(ctx: Any) -> list[dict]:
    staff_n, exits = (20, 10) if ctx.quick else (200, 40)
    kafka = ctx.kafka
    svc = bootstrap(AccessSettings(database_url=ctx.pg_database("access"), kafka=kafka, auth=AUTH,
                                   relay_interval_ms=100))
    await svc.ensure_topics()
    await svc.start_producer()
    relay = asyncio.create_task(svc.relay.run())
    engine = make_engine(ctx.pg_database("access_dir"))
    directory = AccessDirectory(service="kyc", kafka=kafka, engine=engine, sessions=session_factory(engine))
    directory.migrate()
    # an API process of the same service: the same tables, no consumer of its own to empty its cache
    api_process = AccessDirectory(service="kyc", kafka=kafka, engine=engine, sessions=session_factory(engine))
    producer = EventProducer(kafka, client_id="bench-dir")
    await producer.start()
    consumer = directory.consumer(producer)
    consuming = asyncio.create_task(consumer.run())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.api), base_url="http://access", headers=ADMIN)
    staff_table = directory.tables.staff
    try:
        for node_id, kind, parent in [("whale", "company", None), ("R-1", "region", "whale"),
                                      ("B-1", "branch", "R-1"), ("T-1", "team", "B-1")]:
            await client.post("/access/org/nodes", json={"node_id": node_id, "kind": kind, "parent_id": parent,
                                                         "name": node_id})
        await client.post("/access/roles", json={"role_id": "rm", "name": "RM", "scope": "node",
                                                 "permissions": ["ClientProfileReadOnly", "CustomerWrite"]})
        for i in range(staff_n):
            await client.post("/access/staff", json={"staff_id": f"S-{i}", "display_name": f"n{i}",
                                                     "node_id": "T-1"})
            await client.post(f"/access/staff/S-{i}/roles", json={"role_id": "rm"})
        deadline = time.monotonic() + 120
        while not all(directory.access(f"S-{i}").permissions for i in (0, staff_n - 1)):
            if time.monotonic() > deadline:
                raise TimeoutError("the directory did not fill")
            await asyncio.sleep(0.05)  # waiting for the directory, under a deadline

        def row_status(staff_id: str) -> str | None:
            with directory.sessions() as s:
                return s.scalar(select(staff_table.c.status).where(staff_table.c.staff_id == staff_id))

        propagated, refused, refused_elsewhere = [], [], []
        for i in range(exits):
            who = f"S-{i}"
            assert directory.access(who).active and api_process.access(who).active  # warm caches, as under traffic
            started = time.monotonic()
            r = await client.post(f"/access/staff/{who}/exit")
            assert r.status_code == 200, r.text
            row_at = here_at = None
            while True:
                now = time.monotonic()
                if row_at is None and await asyncio.to_thread(row_status, who) == "exited":
                    row_at = now
                if here_at is None and not directory.access(who).active:
                    here_at = now
                if here_at is not None and not api_process.access(who).active:
                    refused.append(here_at - started)
                    refused_elsewhere.append(now - started)
                    propagated.append((row_at or here_at) - started)
                    break
                if now - started > 60:
                    raise TimeoutError(f"{who} still allowed 60 s after the exit")
                await asyncio.sleep(0.01)  # the consuming process asking again, as requests would

        lookups = 300 if ctx.quick else 2000
        cpu = time.process_time()
        for i in range(lookups):
            directory.invalidate()
            directory.access(f"S-{staff_n - 1 - (i % (staff_n - exits))}")
        miss_cpu = (time.process_time() - cpu) / lookups
        directory.access("S-" + str(staff_n - 1))
        cpu = time.process_time()
        for _ in range(lookups * 10):
            directory.access("S-" + str(staff_n - 1))
        hit_cpu = (time.process_time() - cpu) / (lookups * 10)
    finally:
        await client.aclose()
        await consumer.stop()
        await consuming
        await producer.stop()
        await svc.relay.stop()
        await relay
        await svc.stop()
        engine.dispose()
    note = f"{exits} exits, {staff_n} staff, refresh_s {directory.refresh_s}"
    return [
        {"benchmark": "access", "metric": "exit to directory row p50", "value": statistics.median(propagated),
         "unit": "s", "note": note + " (outbox relay + broker + consumer)"},
        {"benchmark": "access", "metric": "exit to directory row p95", "value": percentile(propagated, 0.95),
         "unit": "s", "note": note},
        {"benchmark": "access", "metric": "exit to refusal p50", "value": statistics.median(refused), "unit": "s",
         "note": note + " (plus the consumer's cache: emptied by its own batches in this process)"},
        {"benchmark": "access", "metric": "exit to refusal p95", "value": percentile(refused, 0.95), "unit": "s",
         "note": note},
        {"benchmark": "access", "metric": "exit to refusal max", "value": max(refused), "unit": "s", "note": note},
        {"benchmark": "access", "metric": "exit to refusal, API process p50", "value": statistics.median(
            refused_elsewhere), "unit": "s", "note": note + " (another process: its cache ages out, ≤ refresh_s)"},
        {"benchmark": "access", "metric": "exit to refusal, API process max", "value": max(refused_elsewhere),
         "unit": "s", "note": note},
        {"benchmark": "access", "metric": "answer from the tables", "value": miss_cpu * 1e6, "unit": "µs CPU",
         "note": "cache emptied before each (3 queries on PostgreSQL + the rules)"},
        {"benchmark": "access", "metric": "answer from the cache", "value": hit_cpu * 1e6, "unit": "µs CPU",
         "note": "what a request pays while the answer is fresh"},
    ]
