"""Event → task latency of the tasks service, under background load.

Timed: from publishing a `crm.customer.stage_changed` (to `pending_account_opening`) for a probe customer
to the task being visible in `GET /tasks` (in-process ASGI, the service's one PostgreSQL database,
real broker), while a generator publishes ~1,000 other events/s on `crm.customer.events` (deposits,
trades, region changes, and new registrations that create tasks of their own). Next to it, in the same
run: the raw Kafka leg — the same probe record seen by a plain aiokafka consumer.

Measured from the customer service's output (crm.customer.events), not from the upstream brokerage
topic: the customer-service leg is not part of this number.

    python -m bench --only tasks        (part of `make bench`)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr

from services.tasks.bootstrap import bootstrap
from services.tasks.settings import TasksSettings
from shared.events import registry, topics
from shared.events.crm_customer import FundsMoved, RegionsChanged, StageChanged, TradeRecorded
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings, KafkaSettings

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
RATES = (250, 1_000)  # background events per second: a light level, then the target
ROOT = Path(__file__).resolve().parents[1]
TICK = 0.05
PROBE_DEADLINE_S = 20.0
POLL_S = 0.02  # API polling interval of a probe (the poller shares the service's process and CPU)


def _env(payload: Any) -> Any:
    return registry.envelope(payload, producer="bench")


def _stage(cid: str, to: str, frm: str | None) -> Any:
    return _env(StageChanged(customer_id=cid, from_stage=frm, to_stage=to, changed_at=T0,
                             cause_event_id=uuid.uuid4().hex, cause_event_type="bench.fact"))


def _background(i: int) -> Any:
    cid = f"bg-{i % 20_000:05d}"
    kind = i % 10
    if kind == 0:
        return _stage(f"bg-new-{i}", "registered", None)  # a new customer: creates a task too
    if kind <= 5:
        return _env(FundsMoved(customer_id=cid, transaction_id=f"tx-{i}", direction="deposit",
                               amount=Decimal("100.00"), currency="USD", occurred_at=T0 + timedelta(seconds=i)))
    if kind <= 8:
        return _env(TradeRecorded(customer_id=cid, trade_id=f"tr-{i}", occurred_at=T0 + timedelta(seconds=i)))
    return _env(RegionsChanged(customer_id=cid, user_region="SG", active_region="SG",
                               changed_at=T0 + timedelta(seconds=i)))


async def _load(kafka: Any, rate: int, seconds: float = 3600.0) -> None:
    """The background load, run in its own process (as another service's producer would be); stopped by
    the parent with SIGTERM once its probes are done."""
    producer = EventProducer(kafka, client_id="bench-tasks-load")
    await producer.start()
    loop = asyncio.get_running_loop()
    per_tick = max(1, int(rate * TICK))
    start = next_at = loop.time()
    i = 0
    try:
        while loop.time() - start < seconds:
            await producer.publish_many([_background(i + k) for k in range(per_tick)])
            i += per_tick
            next_at += TICK
            if (i // per_tick) % int(1 / TICK) == 0:  # progress once a second: the parent reads the last line when it stops us
                sys.stdout.write(json.dumps({"sent": i, "seconds": loop.time() - start}) + "\n")
                sys.stdout.flush()
            await asyncio.sleep(max(0.0, next_at - loop.time()))  # pacing the generator
    finally:
        await producer.stop()


async def _start_load(kafka: Any, rate: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bench_tasks", kafka.model_dump_json(), str(rate),
        cwd=str(ROOT), stdout=asyncio.subprocess.PIPE)


async def _raw_seen(kafka: Any, probes: dict[str, float], seen: dict[str, float], stop: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(kafka.topic(topics.CRM_CUSTOMER), bootstrap_servers=kafka.bootstrap_servers,
                                group_id=None, auto_offset_reset="latest", enable_auto_commit=False,
                                fetch_max_wait_ms=10)
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for r in records:
                    if r.key and r.key.decode() in probes and r.key.decode() not in seen:
                        seen[r.key.decode()] = now
    finally:
        await consumer.stop()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _phase(ctx: Any, container: Any, http: httpx.AsyncClient, producer: EventProducer, headers: dict,
                 rate: int, n_probes: int) -> list[dict]:
    """One load level: background load from its own process, probes one after another."""
    kafka = container.settings.kafka
    latencies: list[float] = []
    probes: dict[str, float] = {}
    raw: dict[str, float] = {}
    stop = asyncio.Event()
    timeouts = 0
    raw_task = asyncio.create_task(_raw_seen(kafka, probes, raw, stop))
    load = await _start_load(kafka, rate)
    try:
        await asyncio.sleep(5)  # benchmark warm-up: let the engine reach its steady state under load
        applied_at_start, window_start = container.pipeline.applied, time.perf_counter()
        cpu_start = time.process_time()  # this process: the engine, the relay, the API the probes poll
        for i in range(n_probes):
            cid = f"probe-{rate}-{i:04d}-{uuid.uuid4().hex[:6]}"
            start = time.perf_counter()
            probes[cid] = start
            await producer.publish(_stage(cid, "pending_account_opening", "registered"))
            if await _visible(http, headers, cid, deadline=PROBE_DEADLINE_S):
                latencies.append(time.perf_counter() - start)
            else:
                timeouts += 1
                if timeouts >= 3:
                    break  # the engine is falling behind: more probes would only wait longer
        window_s = time.perf_counter() - window_start
        cpu_s = time.process_time() - cpu_start
        applied = container.pipeline.applied - applied_at_start
        engine_rate = applied / window_s
    finally:
        stop.set()
        if load.returncode is None:
            load.terminate()
        out, _ = await load.communicate()
        await raw_task
    lines = out.decode().strip().splitlines()
    report = json.loads(lines[-1]) if lines else {"sent": 0, "seconds": 1}
    achieved = report["sent"] / report["seconds"]
    raw_lat = [raw[c] - probes[c] for c in probes if c in raw]
    name = f"tasks@{rate}/s"
    note = (f"crm.customer.stage_changed published -> task in GET /tasks (in-process ASGI, PostgreSQL, faust "
            f"engine); {len(latencies)}/{n_probes} probes seen ({timeouts} not within {PROBE_DEADLINE_S:.0f} s); "
            f"background {achieved:,.0f} events/s on crm.customer.events; the customer-service leg "
            "(upstream -> crm.customer) is not included")
    rows = []
    if latencies:
        rows += [
            {"benchmark": name, "metric": "event->task p50", "value": statistics.median(latencies) * 1000,
             "unit": "ms", "note": note},
            {"benchmark": name, "metric": "event->task p99", "value": _pct(latencies, 0.99) * 1000,
             "unit": "ms", "note": note},
        ]
    rows += [
        {"benchmark": name, "metric": "background load achieved", "value": achieved, "unit": "events/s",
         "note": f"target {rate:,}/s, generator in its own process"},
        {"benchmark": name, "metric": "engine throughput during probes", "value": engine_rate,
         "unit": "events/s", "note": "records applied by the faust engine (cards + task lists); "
                                     "below the load rate = falling behind"},
        {"benchmark": name, "metric": "CPU per upstream event", "value": cpu_s / max(applied, 1) * 1000,
         "unit": "ms", "note": f"tasks process CPU time (time.process_time: engine, relay, the polled API) "
                               f"{cpu_s:.1f} s / {applied:,} records applied in {window_s:.0f} s"},
    ]
    if raw_lat:
        rows += [
            {"benchmark": name, "metric": "raw kafka leg p50", "value": statistics.median(raw_lat) * 1000,
             "unit": "ms", "note": "same probe records seen by a plain aiokafka consumer (baseline)"},
            {"benchmark": name, "metric": "raw kafka leg p99", "value": _pct(raw_lat, 0.99) * 1000,
             "unit": "ms", "note": "same probe records seen by a plain aiokafka consumer (baseline)"},
        ]
    return rows


async def main(ctx: Any) -> list[dict]:
    n_probes = 30 if ctx.quick else 100  # sequential probes: at saturation each waits seconds
    kafka = ctx.kafka
    settings = TasksSettings(database_url=ctx.pg_database("tasks"), kafka=kafka, relay_interval_ms=50,
                             auth=AuthSettings(jwt_secret=SecretStr("bench-secret-bench-secret-bench-secret")))
    await ensure_topics(kafka, [kafka.topic(t) for t in (topics.CRM_CUSTOMER, topics.CRM_ASSIGNMENT, topics.CRM_KYC,
                                                         topics.CRM_TASKS, topics.dead_letter_topic("tasks"))])
    container = bootstrap(settings)
    producer = EventProducer(kafka, client_id="bench-tasks")
    await producer.start()
    admin = {"Authorization": "Bearer " + mint_token(settings.auth, user_id="bench", role="admin")}
    rows: list[dict] = []
    backlog = 20_000 if ctx.quick else 100_000
    try:
        await _publish_backlog(producer, backlog)
        async with running(container), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=container.api), base_url="http://tasks") as http:
            rows += await _ingest(ctx, container, backlog)
            # the engine has joined the group before any load starts
            await producer.publish(_stage("probe-warmup", "registered", None))
            if not await _visible(http, admin, "probe-warmup", deadline=60):
                raise TimeoutError("the tasks engine did not start within 60 s")
            for rate in RATES:
                rows += await _phase(ctx, container, http, producer, admin, rate, n_probes)
                # drain whatever backlog the phase left before the next one
                marker = f"probe-drain-{rate}"
                await producer.publish(_stage(marker, "registered", None))
                await _visible(http, admin, marker, deadline=300)
    finally:
        await producer.stop()
    return rows


async def _publish_backlog(producer: EventProducer, n: int) -> None:
    """`n` background events on crm.customer.events before the engine starts (a backlog to ingest)."""
    for i in range(0, n, 1000):
        await producer.publish_many([_background(10_000_000 + k) for k in range(i, min(n, i + 1000))])


def _settled(container: Any) -> bool:
    """Everything stored is published (and projected, where a projection runs): the work of the backlog done."""
    last = container.app.process_recorder.max_notification_id() or 0
    followers = [container.relay, *([p] if (p := getattr(container, "projection", None)) is not None else [])]
    return all(f.position() >= last for f in followers)


async def _ingest(ctx: Any, container: Any, n: int) -> list[dict]:
    """Saturation: the engine, just started, consumes a backlog of `n` records. Timed and CPU-timed from the
    first record applied (joining the group left out) until the last is applied and its effects published
    (and projected, where a projection runs), next to the raw aiokafka consume rate of the same run."""
    pipeline = container.pipeline
    for _ in range(6_000):  # at most 60 s to join the group
        if pipeline.applied:
            break
        await asyncio.sleep(0.01)  # waiting for the engine under a deadline
    first, cpu0, start = pipeline.applied, time.process_time(), time.perf_counter()
    for _ in range(60_000):  # at most 600 s
        if pipeline.applied >= n and await asyncio.to_thread(_settled, container):
            break
        await asyncio.sleep(0.01)  # waiting for the engine under a deadline
    elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu0
    done = pipeline.applied - first
    rate = done / elapsed if elapsed > 0 else 0.0
    raw = ctx.baseline.get("consume_rate")
    note = (f"{done:,} records of a {n:,}-record backlog on crm.customer.events applied by the engine (cards + "
            f"task lists, 10% open a task the relay publishes) in {elapsed:.1f} s, from the first applied to all "
            "published")
    rows = [{"benchmark": "tasks ingest", "metric": "engine ingest (backlog)", "value": rate, "unit": "events/s",
             "note": note},
            {"benchmark": "tasks ingest", "metric": "CPU per upstream event (backlog)",
             "value": cpu_s / max(done, 1) * 1000, "unit": "ms",
             "note": f"tasks process CPU time (time.process_time: engine, relay) {cpu_s:.1f} s / {done:,} records"}]
    if raw:
        rows.append({"benchmark": "tasks ingest", "metric": "engine ingest / raw aiokafka consume",
                     "value": 100 * rate / raw, "unit": "%", "note": f"raw consume {raw:,.0f} msg/s in this run"})
    return rows


async def _visible(http: httpx.AsyncClient, headers: dict[str, str], cid: str, *, deadline: float) -> bool:
    end = time.perf_counter() + deadline
    while time.perf_counter() < end:
        r = await http.get("/tasks", params={"customer_id": cid, "view": "all"}, headers=headers)
        if r.status_code == 200 and r.json()["items"]:
            return True
        await asyncio.sleep(POLL_S)  # polling interval under a deadline
    return False


if __name__ == "__main__":  # the load generator process: python -m bench.bench_tasks <kafka json> <rate>
    asyncio.run(_load(KafkaSettings.model_validate_json(sys.argv[1]), int(sys.argv[2])))
