"""Campaigns benchmark (`python -m bench --only campaigns`): starting a campaign of 100,000 targets.

100,000 customers (5,000 with --quick) in one team of 20 managers are loaded into the audience tables of a
PostgreSQL database; a campaign over all of them (least-loaded distribution) is created and approved. The tasks
service runs in a process of its own (`python -m bench.bench_campaigns …`: engine, relay and API, on its own
database, the same broker and topic prefix) and reports once it has consumed the campaign's creation (joined).
Measured from there: the start (audience resolved from the read model, distributed, frozen: the Started event
and the chunks of targets stored in one transaction); the campaigns relay publishing the 100,000 follow-up
requests; and end to end, until the tasks service's task list API (`GET /tasks/counts`, polled in its process
every 0.1 s) counts 100,000 open campaign follow-ups — checked afterwards against the 20 managers' own lists
(view=mine); it polls every 0.5 s while fewer than 90% are open (each poll costs the worker CPU). Reported: wall time, CPU time of each process (campaigns: this one; tasks: the worker's) in all and
per target, the load average during the run, and the raw aiokafka produce + consume of the same run.
`BENCH_CAMPAIGNS=start python -m bench --only campaigns` runs this part alone.

Evaluation: a 1,000,000-customer base (20,000 with --quick) COPYed into the audience and evaluation-fact tables
(every customer opened before the campaign; in the window 10% fund, 3% trade, 20% deposit, 2% withdraw; half
hold an account with a snapshot before and after the start) and a started campaign of the first 100,000 of them (2,000
with --quick; its targets COPYed, the rest is its control group). Measured: the indicators recomputed
(`Evaluator.run_due`, as the scheduler does it daily: the targets by manager, team and segment, the control
group of 900,000), wall and CPU time of this process; then the report API (indicators, reports by manager and
by team, comparison) in-process, p50 / p99 over 200 requests each, with the load average.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from pydantic import SecretStr
from sqlalchemy import select

from services.campaigns.bootstrap import bootstrap
from services.campaigns.domain.campaign import follow_up_id
from services.campaigns.projections.tables import campaign, customer, manager, owner
from services.campaigns.settings import CampaignsSettings
from services.tasks.bootstrap import bootstrap as tasks_bootstrap
from services.tasks.projections.tables import campaign_names
from services.tasks.settings import TasksSettings
from shared.runtime.auth import mint_token
from shared.runtime.logging import configure_logging
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings, KafkaSettings

from .context import ROOT
from .stats import percentile

AUTH = AuthSettings(jwt_secret=SecretStr("bench-secret-bench-secret-bench-secret"))
CHUNK = 5000
POLL_S = 0.1  # the tasks worker polls its task list API (every FAR_POLL_S while fewer than 90% are open)
FAR_POLL_S = 0.5
TARGET_S = 60.0  # issue 17: 100,000 targets started -> all in the managers' task lists
MARK = b"bench-report "  # the tasks worker's reports on its stdout


def _load(c: Any, n: int) -> None:
    managers = [f"M-{i:02d}" for i in range(20)]
    with c.sessions.begin() as s:
        s.execute(manager.insert(), [{"manager_id": m, "team_id": "T-1", "status": "active", "key": "k"}
                                     for m in managers])
        for start in range(0, n, CHUNK):
            ids = [f"C{i:07d}" for i in range(start, min(n, start + CHUNK))]
            s.execute(customer.insert(), [{"customer_id": cid, "channel": "web", "stage": "pending_funding",
                                           "stage_rank": 2} for cid in ids])
            s.execute(owner.insert(), [{"customer_id": cid, "manager_id": managers[i % 20], "team_id": "T-1"}
                                       for i, cid in enumerate(ids)])


def _approved(c: Any, now: datetime, *, due_in: timedelta = timedelta(0)) -> str:
    plan = {"name": "Bench", "purpose": None, "start_at": (now + due_in).isoformat(), "end_at": (now + timedelta(days=1)).isoformat(),
            "audience": {"stages": ["pending_funding"]}, "distribution": "least_loaded", "team_id": "T-1",
            "channels": ["phone"], "metrics": ["funded"], "attribution_window_days": 7}
    campaign = c.app.create(plan=plan, by="admin-1", level=3, at=now,
                            scope={"scope": "all", "user_id": "admin-1", "teams": [], "team": None})
    cid = str(campaign.id)
    c.app.submit(cid, by="admin-1", at=now)
    c.app.review(cid, by="admin-2", level=3, approve=True, comment=None, at=now)
    return cid


def _load_base(c: Any, url: str, cid: str, n: int, targets: int, start: datetime) -> None:
    """The base's audience rows and facts, and the campaign's targets, by COPY; the campaign marked started."""
    day = timedelta(days=1)
    managers = [f"M-{i:02d}" for i in range(20)]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn, conn.cursor() as cur:
        with cur.copy("COPY cp_customer (customer_id, channel, stage, stage_rank) FROM STDIN") as cp:
            for i in range(n):
                cp.write_row((f"C{i:07d}", "web", "pending_funding", 2))
        with cur.copy("COPY cp_owner (customer_id, manager_id, team_id) FROM STDIN") as cp:
            for i in range(n):
                cp.write_row((f"C{i:07d}", managers[i % 20], f"T-{i % 20 // 10}"))
        with cur.copy("COPY cp_milestone (customer_id, kind, at) FROM STDIN") as cp:
            for i in range(n):
                cp.write_row((f"C{i:07d}", "account_opened", start - 30 * day))
                if i % 10 == 0:
                    cp.write_row((f"C{i:07d}", "funded", start + day))
                if i % 30 == 0:
                    cp.write_row((f"C{i:07d}", "first_trade", start + 2 * day))
        with cur.copy("COPY cp_funds (customer_id, transaction_id, amount, currency, occurred_at) FROM STDIN") as cp:
            for i in range(0, n, 5):
                cp.write_row((f"C{i:07d}", f"d{i}", 1000, "HKD", start + day))
                if i % 50 == 0:
                    cp.write_row((f"C{i:07d}", f"w{i}", -100, "HKD", start + 3 * day))
        with cur.copy("COPY cp_asset (customer_id, account_id, as_of, total_assets, currency) FROM STDIN") as cp:
            for i in range(0, n, 2):
                cp.write_row((f"C{i:07d}", f"A{i}", start - day, 5000, "HKD"))
                cp.write_row((f"C{i:07d}", f"A{i}", start + 3 * day, 5000 + (i % 7) * 100, "HKD"))
        with cur.copy("COPY cp_target (campaign_id, customer_id, follow_up_id, manager_id, team_id) FROM STDIN") as cp:
            for i in range(targets):
                cp.write_row((cid, f"C{i:07d}", follow_up_id(cid, f"C{i:07d}"), managers[i % 20], f"T-{i % 20 // 10}"))
        conn.commit()
        conn.autocommit = True
        for t in ("cp_customer", "cp_owner", "cp_milestone", "cp_funds", "cp_asset", "cp_target"):
            cur.execute(f"ANALYZE {t}")
    with c.sessions.begin() as s:
        s.execute(campaign.update().where(campaign.c.campaign_id == cid).values(
            status="running", started_at=start, audience_size=targets))


async def _evaluation(ctx: Any) -> list[dict]:
    n, targets = (20_000, 2_000) if ctx.quick else (1_000_000, 100_000)
    url = ctx.pg_database("campaigns_eval")
    c = bootstrap(CampaignsSettings(database_url=url, auth=AUTH, scheduler_interval_s=3600))
    start = datetime.now(UTC) - timedelta(days=10)
    cid = await asyncio.to_thread(_approved, c, start)
    wall = time.perf_counter()
    await asyncio.to_thread(_load_base, c, url, cid, n, targets, start)
    load_s = time.perf_counter() - wall
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    done = await asyncio.to_thread(c.evaluator.run_due)
    eval_s, eval_cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert done == 1
    auth = {"Authorization": f"Bearer {mint_token(AUTH, user_id='admin-1', role='admin', team_id=None)}"}
    paths = [f"/campaigns/{cid}/indicators", "/campaigns/reports?dimension=manager",
             "/campaigns/reports?dimension=team", f"/campaigns/compare?ids={cid}"]
    samples: list[float] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://bench") as api:
        for path in paths:
            for i in range(220):
                t = time.perf_counter()
                r = await api.get(path, headers=auth)
                assert r.status_code == 200, (path, r.text)
                if i >= 20:  # warm-up
                    samples.append((time.perf_counter() - t) * 1000)
    body = r.json()[0]
    c.engine.dispose()
    c.app.close()
    return [
        {"benchmark": "campaigns", "metric": f"indicators of a {n:,}-customer base ({targets:,} targets, control "
                                             f"{n - targets:,})", "value": round(eval_s, 2), "unit": "s",
         "note": f"CPU {eval_cpu:.2f} s (this process; PostgreSQL's own apart); load average {load:.1f}; "
                 f"converted {body['converted']:,}; base loaded in {load_s:.0f} s"},
        {"benchmark": "campaigns", "metric": "report API p99 (indicators, reports, compare)",
         "value": round(percentile(samples, 0.99), 2), "unit": "ms",
         "note": f"p50 {percentile(samples, 0.5):.2f} ms over {len(samples)} requests; load average "
                 f"{os.getloadavg()[0]:.1f}"},
    ]


async def main(ctx: Any) -> list[dict]:
    """Both parts; `BENCH_CAMPAIGNS=start` (or `evaluation`) runs one of them alone."""
    part = os.environ.get("BENCH_CAMPAIGNS", "")
    rows = await _start(ctx) if part in ("", "start") else []
    return rows + (await _evaluation(ctx) if part in ("", "evaluation") else [])


async def _start(ctx: Any) -> list[dict]:
    """Start → follow-ups published by the campaigns relay (this process) → consumed by the tasks service (its
    own process and database, same broker and topic prefix) → all open in its task list API."""
    n = 5_000 if ctx.quick else 100_000
    kafka = ctx.kafka  # one topic prefix for both services
    c = bootstrap(CampaignsSettings(database_url=ctx.pg_database("campaigns"), kafka=kafka, auth=AUTH,
                                    scheduler_interval_s=3600))
    tasks_url = ctx.pg_database("tasks")
    await asyncio.to_thread(_load, c, n)
    now = datetime.now(UTC)
    cid = await asyncio.to_thread(_approved, c, now, due_in=timedelta(hours=12))  # not due: the scheduler leaves it
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bench_campaigns", kafka.model_dump_json(), tasks_url, cid, str(n),
        cwd=str(ROOT), stdout=asyncio.subprocess.PIPE)
    try:
        async with running(c):  # the relay publishes the campaign's creation: the tasks engine learns its name
            ready = await _report(worker, 180)  # the tasks engine has joined and consumed crm.campaigns
            loads = [os.getloadavg()[0]]
            sampler = asyncio.create_task(_sample_load(loads))
            t0, wall, cpu = time.time(), time.perf_counter(), time.process_time()
            campaign, _ = await asyncio.to_thread(c.executor.start, cid, by="admin-1", at=now)
            start_s = time.perf_counter() - wall
            assert campaign.audience_size == n
            last = c.app.process_recorder.max_notification_id()
            while await asyncio.to_thread(c.relay.position) < last:  # the relay's position, under the deadline below
                if time.perf_counter() - wall > 900:
                    raise TimeoutError("the relay did not publish every follow-up in time")
                await asyncio.sleep(0.05)
            publish_s, publish_cpu = time.perf_counter() - wall, time.process_time() - cpu
            done = await _report(worker, 900)
            total_s = done["at"] - t0
            sampler.cancel()
            cpu_s = time.process_time() - cpu  # up to the moment the report is read (≤ 0.1 s after `done`)
    finally:
        if worker.returncode is None:
            worker.terminate()
        await worker.wait()
    assert done["open"] == n and done["mine"] == n, done
    relay = done["relay"]
    raw_p, raw_c = ctx.baseline.get("produce_rate"), ctx.baseline.get("consume_rate")
    raw = (f"; raw aiokafka in this run: produce {raw_p:,.0f}/s + consume {raw_c:,.0f}/s (1 KB) = "
           f"{n / raw_p + n / raw_c:.1f} s for {n:,} records") if raw_p and raw_c else ""
    tasks_cpu = done["cpu"] - ready["cpu"]
    return [
        {"benchmark": "campaigns", "metric": f"start {n:,} targets (freeze + store)", "value": round(start_s, 2),
         "unit": "s", "note": "the relay and the tasks worker running meanwhile"},
        {"benchmark": "campaigns", "metric": f"publish {n:,} follow-up requests", "value": round(n / publish_s),
         "unit": "events/s", "note": f"all published {publish_s:.1f} s after the start began (start included), "
                                     f"campaigns CPU {publish_cpu:.2f} s"},
        {"benchmark": "campaigns", "metric": f"start {n:,} targets -> all open in the managers' task lists",
         "value": round(total_s, 2), "unit": "s",
         "note": f"target <= {TARGET_S:.0f} s (issue 17, 100,000 targets): {'MET' if total_s <= TARGET_S else 'NOT MET'}; "
                 f"tasks GET /tasks/counts campaign_followup open = {done['open']:,} (the {done['mine']:,} of the "
                 f"20 managers' view=mine); CPU campaigns {cpu_s:.1f} s ({cpu_s / n * 1000:.3f} ms/target), tasks "
                 f"{tasks_cpu:.1f} s ({tasks_cpu / n * 1000:.3f} ms/target, its API polled every {POLL_S} s from 90% "
                 f"open, {FAR_POLL_S} s before); "
                 f"load average {loads[0]:.1f} at the start, max {max(loads):.1f}, "
                 f"{loads[-1]:.1f} at the end; tasks relay: {relay['published']:,} published, {relay['from_memory']:,} "
                 f"from memory ({relay['reused']:,} with the checked envelopes), {relay['gaps_skipped']:,} gaps "
                 f"skipped, {relay['deferred']} reads left to a hand-over under way{raw}"},
    ]


async def _report(worker: asyncio.subprocess.Process, timeout: float) -> dict:
    """The worker's next report (its other output, logs, skipped)."""
    assert worker.stdout is not None
    end = time.monotonic() + timeout
    while True:
        line = await asyncio.wait_for(worker.stdout.readline(), max(0.1, end - time.monotonic()))
        if not line:
            raise RuntimeError(f"the tasks worker ended (exit {await worker.wait()})")
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])


async def _sample_load(loads: list[float]) -> None:
    while True:
        await asyncio.sleep(1)  # sampling the 1-minute load average
        loads.append(os.getloadavg()[0])


async def _tasks_worker(kafka: KafkaSettings, url: str, cid: str, n: int) -> None:
    """The tasks service (engine, relay, API in-process) on its own database: reports on stdout when it knows
    the campaign (it has joined and consumes crm.campaigns), then when its task list API counts `n` open
    campaign follow-ups, with its CPU time and the sum of the managers' own counts."""
    with tempfile.TemporaryDirectory() as datadir:
        t = tasks_bootstrap(TasksSettings(database_url=url, kafka=kafka, auth=AUTH, faust_datadir=datadir))
        admin = {"Authorization": f"Bearer {mint_token(AUTH, user_id='admin-1', role='admin', team_id=None)}"}
        async with running(t), httpx.AsyncClient(transport=httpx.ASGITransport(app=t.api),
                                                 base_url="http://tasks") as api:
            known = select(campaign_names.c.campaign_id).where(campaign_names.c.campaign_id == cid)
            for _ in range(int(170 / POLL_S)):
                with t.sessions() as s:
                    if s.execute(known).first() is not None:
                        break
                await asyncio.sleep(POLL_S)  # waiting for the engine to join, under a deadline
            else:
                raise TimeoutError("the tasks engine did not learn the campaign")
            _say(cpu=time.process_time())
            open_, end = 0, time.monotonic() + 890
            while time.monotonic() < end:  # polling the task list API, under a deadline
                open_ = await _open_follow_ups(api, admin, "all")
                if open_ >= n:
                    break
                # every POLL_S once 90% are open; before, every FAR_POLL_S (the polls cost this process CPU)
                await asyncio.sleep(POLL_S if open_ >= 0.9 * n else FAR_POLL_S)
            at, cpu = time.time(), time.process_time()
            mine = 0
            for m in range(20):
                token = mint_token(AUTH, user_id=f"M-{m:02d}", role="manager", team_id="T-1")
                mine += await _open_follow_ups(api, {"Authorization": f"Bearer {token}"}, "mine")
            r = t.relay
            _say(at=at, cpu=cpu, open=open_, mine=mine, relay={"published": r.published, "from_memory": r.from_memory,
                                                              "reused": r.reused, "gaps_skipped": r.gaps_skipped,
                                                              "deferred": getattr(r, "deferred", None)})


async def _open_follow_ups(api: httpx.AsyncClient, headers: dict[str, str], view: str) -> int:
    r = await api.get("/tasks/counts", params={"view": view}, headers=headers)
    assert r.status_code == 200, r.text
    return next(x["open"] for x in r.json() if x["node"] == "campaign_followup")


def _say(**fields: Any) -> None:
    sys.stdout.write(MARK.decode() + json.dumps(fields) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":  # the tasks worker process: python -m bench.bench_campaigns <kafka json> <url> <cid> <n>
    configure_logging(os.environ.get("LOG_LEVEL", "WARNING"))
    asyncio.run(_tasks_worker(KafkaSettings.model_validate_json(sys.argv[1]), sys.argv[2], sys.argv[3],
                              int(sys.argv[4])))
