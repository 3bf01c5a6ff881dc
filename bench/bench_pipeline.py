"""Upstream event → follow-up task visible in the tasks API, through the real pipeline, under background load.

The customer, assignment and tasks services run as their own processes (`python -m services.<name> all`,
PostgreSQL event stores and read models, the real broker), with the demo organisation seeded through the
assignment API. A background generator publishes realistic upstream traffic (the demo platform) at a
fixed rate; every 250 ms a probe customer registers upstream. Latency per probe: from publishing
`registration.customer_registered` until `GET /tasks?view=all&customer_id=…` returns its task — the path
upstream → customer (fold, outbox) → crm.customer → assignment (rules) → crm.assignment → tasks (faust
engine, projection) → API.

    python -m bench --only pipeline
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from devtools import run as launcher
from devtools import seed
from devtools.demo import Platform
from shared.events import registry, topics
from shared.events.upstream import Channel, CustomerRegistered
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.settings import AuthSettings

SERVICES = ["customer", "assignment", "tasks"]
PROBE_DEADLINE_S = 30.0
SECRET = "bench-secret-bench-secret-bench-secret"
AUTH = AuthSettings(jwt_secret=SECRET)


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


async def _background(producer: EventProducer, kafka: Any, rate: float, stop: asyncio.Event) -> int:
    platform, sent = Platform(seed=5, manager_codes=["QR-HK-1", "QR-SG-1"]), 0
    start = time.perf_counter()
    while not stop.is_set():
        envs = []
        while len(envs) < int((time.perf_counter() - start) * rate) - sent:
            envs += [registry.envelope(p, producer="bench-load") for p in platform.next_events(10**9)]
        if envs:
            await producer.publish_many(envs)  # each to its contract's topic, under the run's prefix
        sent += len(envs)
        await asyncio.sleep(0.02)  # pacing of the load generator
    return sent


async def _probe(producer: EventProducer, kafka: Any, http: httpx.AsyncClient, base: str,
                 headers: dict[str, str], deadline_s: float) -> float | None:
    cid = f"PRB{uuid.uuid4().hex[:10].upper()}"
    env = registry.envelope(CustomerRegistered(customer_id=cid, registered_at=datetime.now(UTC),
                                               channel=Channel.organic, residence_country="HK", language="en"),
                            producer="bench-probe")
    start = time.perf_counter()
    await producer.publish(env, topic=kafka.topic(topics.REGISTRATION))
    while time.perf_counter() - start < deadline_s:
        r = await http.get(f"{base}/tasks", params={"view": "all", "customer_id": cid}, headers=headers)
        if r.status_code == 200 and r.json()["items"]:
            return time.perf_counter() - start
        await asyncio.sleep(0.01)  # polling under a deadline
    return None


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def main(ctx: Any) -> list[dict]:
    kafka = ctx.kafka
    loads = [50.0] if ctx.quick else [100.0, 300.0, 1000.0]
    seconds = 15 if ctx.quick else 20
    ports = dict(zip(SERVICES, _free_ports(len(SERVICES)), strict=True))
    var = Path(os.environ.get("TMPDIR", "/tmp")) / f"whale-bench-{uuid.uuid4().hex[:6]}"
    extra = {"KAFKA_TOPIC_PREFIX": kafka.topic_prefix, "AUTH_JWT_SECRET": SECRET, "LOG_LEVEL": "WARNING",
             "KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_HEARTBEAT_INTERVAL_MS": "1000", "KAFKA_FETCH_MAX_WAIT_MS": "20"}
    for name in SERVICES:
        p = name.upper() + "_"
        extra[p + "DATABASE_URL"] = ctx.pg_database(f"pl_{name}_rm")
        extra[p + "EVENTSTORE_URL"] = ctx.pg_database(f"pl_{name}_es")
    await ensure_topics(kafka, [kafka.topic(t) for t in topics.ALL_TOPICS])
    procs = launcher.start_services(SERVICES, var, kafka.bootstrap_servers, ports, extra)
    rows: list[dict] = []
    try:
        for name in SERVICES:
            await launcher.wait_ready(name, procs[name], timeout=180, ports=ports, logs=var / "logs")
        await seed.seed(ports, AUTH, SERVICES)
        producer = EventProducer(kafka, client_id="bench-pipeline")
        await producer.start()
        admin = {"Authorization": "Bearer " + mint_token(AUTH, user_id="bench-admin", role="admin")}
        base = f"http://127.0.0.1:{ports['tasks']}"
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                await _probe(producer, kafka, http, base, admin, 120)  # warm-up: every consumer has joined
                for rate in loads:
                    stop = asyncio.Event()
                    load = asyncio.create_task(_background(producer, kafka, rate, stop))
                    probes: list[asyncio.Task] = []
                    started = time.perf_counter()
                    while time.perf_counter() - started < seconds:
                        probes.append(asyncio.create_task(_probe(producer, kafka, http, base, admin, PROBE_DEADLINE_S)))
                        await asyncio.sleep(0.25)  # probe interval
                    results = await asyncio.gather(*probes)
                    stop.set()
                    sent = await load
                    ok = sorted(r for r in results if r is not None)
                    lost = len(results) - len(ok)
                    achieved = sent / (time.perf_counter() - started)
                    note = (f"{len(ok)} probes, {lost} not within {PROBE_DEADLINE_S:.0f} s; load achieved {achieved:,.0f}/s; "
                            "customer+assignment+tasks processes, PostgreSQL")
                    if ok:
                        rows += [
                            {"benchmark": "pipeline", "metric": f"upstream registration -> task, load {rate:,.0f}/s, p50",
                             "value": _pct(ok, 50) * 1000, "unit": "ms", "note": note},
                            {"benchmark": "pipeline", "metric": f"upstream registration -> task, load {rate:,.0f}/s, p99",
                             "value": _pct(ok, 99) * 1000, "unit": "ms", "note": note},
                        ]
                    # let the backlog drain before the next level
                    await _probe(producer, kafka, http, base, admin, 120)
        finally:
            await producer.stop()
    finally:
        launcher.stop_services(procs)
    return rows
