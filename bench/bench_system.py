"""Cross-service benchmark: bulk assignment end to end, as the issue defines it.

Command accepted → every assignment visible in the *customer service's* list: the assignment service
(PostgreSQL event store + read model) stores the bulk command, its outbox relays `customer_assigned` to
Kafka, the customer service's worker (its own PostgreSQL databases) consumes `crm.assignment.events` into
its read model, and `GET /customers/counts?manager_id=…` (through the customer API) reaches N.

Set-up, not timed: N customers registered upstream and ingested by the customer service; the same N in the
assignment service's pool (as its registration consumer would have put them).

    python -m bench --only system
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from services.assignment.bootstrap import bootstrap as assignment_bootstrap
from services.assignment.settings import AssignmentSettings
from services.customer.bootstrap import bootstrap as customer_bootstrap
from services.customer.settings import CustomerSettings
from shared.events import registry
from shared.events.upstream import CustomerRegistered
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer
from shared.runtime.settings import AuthSettings

from .bench_assignment import _seed

AUTH = AuthSettings(jwt_secret=SecretStr("bench-secret-bench-secret-bench-secret"))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _wait(check, deadline: float, what: str) -> None:
    while time.perf_counter() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)  # polling under a deadline
    raise RuntimeError(f"timed out waiting for {what}")


async def main(ctx: Any) -> list[dict]:
    n = 2_000 if ctx.quick else 10_000
    kafka = ctx.kafka
    asg = assignment_bootstrap(AssignmentSettings(
        database_url=ctx.pg_database("sys_asg"), kafka=kafka,
        auth=AUTH, relay_interval_ms=20))
    cus = customer_bootstrap(CustomerSettings(
        database_url=ctx.pg_database("sys_cus"), kafka=kafka,
        auth=AUTH, relay_interval_ms=20))
    ids = [f"sys-{i:06d}" for i in range(n)]
    admin = {"Authorization": "Bearer " + mint_token(AUTH, user_id="bench-admin", role="admin")}
    tasks: list[asyncio.Task] = []
    components: list[Any] = []
    try:
        # customer service: ingest the N registrations (not timed)
        components += await cus.start_worker()
        tasks += [asyncio.create_task(c.run()) for c in components]
        producer = EventProducer(kafka, client_id="bench-platform")
        await producer.start()
        try:
            await producer.publish_many([registry.envelope(
                CustomerRegistered(customer_id=c, registered_at=T0, channel="manual_import"), producer="bench")
                for c in ids])
        finally:
            await producer.stop()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=cus.api), base_url="http://c") as cus_http, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=asg.api), base_url="http://a") as asg_http:

            async def counts(**params: str) -> int:
                r = await cus_http.get("/customers/counts", params=params, headers=admin)
                return r.json()["total"] if r.status_code == 200 else -1

            async def ingested() -> bool:
                return await counts() == n

            await _wait(ingested, time.perf_counter() + 600, "customer ingest")
            # assignment service: team, manager, the N customers in its pool (not timed)
            await asg_http.post("/teams", json={"team_id": "T", "name": "bench"}, headers=admin)
            await asg_http.post("/managers", json={"manager_id": "m-sys", "name": "bench", "team_id": "T",
                                                   "capacity": n}, headers=admin)
            await asyncio.to_thread(_seed, asg, ids)
            await asg.ensure_topics()
            await asg.start_producer()
            while await asg.relay.publish_once():
                pass
            asg_components = [asg.relay]
            components += asg_components
            tasks += [asyncio.create_task(c.run()) for c in asg_components]

            start = time.perf_counter()
            r = await asg_http.post("/assignments/bulk", json={"customer_ids": ids, "manager_id": "m-sys"},
                                    headers=admin, timeout=600)
            accepted = time.perf_counter()
            if r.status_code != 200 or r.json()["counts"].get("assigned") != n:
                raise RuntimeError(f"bulk command failed: {r.status_code} {r.text[:300]}")

            async def visible() -> bool:
                return await counts(manager_id="m-sys") == n

            await _wait(visible, accepted + 900, "assignments visible in the customer list")
            done = time.perf_counter()
            page = await cus_http.get("/customers", params={"manager_id": "m-sys", "limit": 50}, headers=admin)
            if page.status_code != 200 or len(page.json()["items"]) != 50:
                raise RuntimeError("customer list filtered by manager did not answer")
    finally:
        for c in components:
            await c.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asg.stop()
        await cus.stop()
    total = done - start
    return [
        {"benchmark": "system", "metric": f"bulk assign {n:,}: command accepted", "value": accepted - start,
         "unit": "s", "note": "assignment service, PostgreSQL"},
        {"benchmark": "system", "metric": f"bulk assign {n:,}: all visible in the customer list", "value": total,
         "unit": "s", "note": "command sent -> customer API counts by manager == N (Kafka, 2 services, 4 DBs)"},
        {"benchmark": "system", "metric": "bulk assign end to end", "value": n / total, "unit": "assignments/s",
         "note": f"raw produce {ctx.baseline.get('produce_rate', 0):,.0f} msg/s in this run"},
    ]
