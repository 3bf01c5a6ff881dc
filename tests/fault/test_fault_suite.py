"""The fault suite: the services as processes on PostgreSQL and a real broker (the suite's own), a
generated upstream workload at a steady rate, faults while it flows; afterwards every read model must equal
the expected outcome (computed by tests/fault/workload.py's model) and a clean replay, with nothing lost and
nothing published twice. The report (each fault: survived, time to recover; each check: expected, actual)
goes to var/fault-report.md and the log.

Run by `make test` after the main run (WHALE_FAULT_SUITE=1 pytest tests/fault). Knobs: FAULT_EVENTS
(default 10,000), FAULT_RATE (events/s, default 40), FAULT_SEED.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from devtools import run as launcher
from devtools import seed
from ops import kafka_ops
from services.kyc.consumers import upstream_topics as kyc_topics
from services.kyc.settings import KycSettings
from services.usercrm.consumers import ANSWER_TOPICS as USERCRM_ANSWERS
from services.usercrm.consumers import INFO_TOPICS as USERCRM_INFO
from shared.events import topics
from shared.runtime.auth import mint_token
from shared.runtime.logging import get_logger
from shared.runtime.settings import AuthSettings, KafkaSettings

from .faults import Faults
from .stack import ROOT, SECRET, SERVICES, Infra, Stack, free_port_base, rebuild_verify, wait_drained
from .workload import LARGE_WITHDRAWAL, Workload, diff, expected_outcome

log = get_logger("fault-suite")
EVENTS = int(os.environ.get("FAULT_EVENTS", "10000"))
RATE = float(os.environ.get("FAULT_RATE", "40"))
SEED = int(os.environ.get("FAULT_SEED", "14"))
# the faults, in this order: dup, kill, broker, pg (the broker stopped for 60 s while the workload flows: a
# consumer replaces a client that fails under it, see shared/runtime/kafka.py)
PLAN = os.environ.get("FAULT_PLAN", "dup,kill,broker,pg").split(",")
DUPLICATES = 500
# the platform's topics each service consumes, from the services' own lists (the customer service: every
# upstream topic); poison records go to every one of them
CONSUMED = {"customer": topics.UPSTREAM_TOPICS,
            "kyc": tuple(t.removeprefix(k.kafka.topic_prefix) for k in [KycSettings()] for t in kyc_topics(k)),
            "usercrm": USERCRM_INFO + USERCRM_ANSWERS}
READERS = {t: tuple(n for n, read in CONSUMED.items() if t in read) for t in topics.PLATFORM_TOPICS
           if any(t in read for read in CONSUMED.values())}
OWNER_SAMPLE = 300  # customers whose User CRM profile is read (its owner = the assignment's manager)
AUTH = AuthSettings(jwt_secret=SECRET)
REPORT = ROOT / "var" / "fault-report.md"

REFERRED, DIRECT = "T-FAULT-REF", "T-FAULT-DIRECT"
ORG = seed.Org(
    teams=[{"team_id": REFERRED, "name": "Referred customers", "leader_id": "M-FR-1", "protection_days": 7},
           {"team_id": DIRECT, "name": "Direct customers", "leader_id": "M-FD-1", "protection_days": 7}],
    managers=[{"manager_id": m, "name": f"Manager {m}", "position": "Account manager", "team_id": team,
               "regions": ["HK"], "languages": ["en"], "capacity": 1_000_000}
              for team, ms in ((REFERRED, ["M-FR-1", "M-FR-2"]), (DIRECT, ["M-FD-1", "M-FD-2", "M-FD-3"]))
              for m in ms],
    rules=[("fault-referred", {"position": 10, "name": "Referred customers", "team_id": REFERRED,
                               "strategy": "least_loaded", "channels": ["referral", "manager_qr"]}),
           ("fault-direct", {"position": 1000, "name": "Everyone else", "team_id": DIRECT,
                             "strategy": "round_robin"})],
)
MANAGER_TEAM = {m["manager_id"]: m["team_id"] for m in ORG.managers}


@dataclass
class Report:
    faults: list[tuple[str, str, str]] = field(default_factory=list)  # fault, survived, time to recover
    checks: list[tuple[str, str, str, bool]] = field(default_factory=list)  # check, expected, actual, equal
    notes: list[str] = field(default_factory=list)

    def check(self, name: str, expected: Any, actual: Any, detail: str = "") -> None:
        ok = expected == actual
        shown_e, shown_a = _short(expected), _short(actual)
        self.checks.append((name, shown_e, shown_a if ok or not detail else f"{shown_a} ({detail})", ok))

    def markdown(self) -> str:
        lines = ["# Fault suite report", "", f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
                 "| fault | survived | time to recover |", "|---|---|---|"]
        lines += [f"| {f} | {s} | {t} |" for f, s, t in self.faults]
        lines += ["", "| check | expected | actual | equal |", "|---|---|---|---|"]
        lines += [f"| {c} | {e} | {a} | {'yes' if ok else 'NO'} |" for c, e, a, ok in self.checks]
        lines += ["", *[f"- {n}" for n in self.notes], ""]
        return "\n".join(lines)


def _short(v: Any) -> str:
    if v == {}:
        return "none"
    if isinstance(v, tuple) and len(v) <= 4:
        return " / ".join(_short(x) for x in v)
    if isinstance(v, set | frozenset | list | tuple):
        return f"{len(v):,} items"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {n}" for k, n in v.items()) if len(v) <= 10 else f"{len(v):,} entries"
    return f"{v:,}" if isinstance(v, int) else str(v)


@pytest.fixture()
def infra() -> Infra:
    infra = Infra()
    infra.fresh()
    try:
        infra.start_pg()
        infra.start_kafka()
        yield infra
    finally:
        infra.stop()


async def _pages(c: httpx.AsyncClient, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        r = await c.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        body = r.json()
        items += body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return items


async def read_models(stack: Stack) -> dict[str, Any]:
    """What the services answer, through their APIs, as an admin (the User CRM: a sample's profiles)."""
    headers = {"Authorization": "Bearer " + mint_token(AUTH, user_id="fault-admin", role="admin")}
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(headers=headers, timeout=60) as c:
        cu = stack.api_url("customer")
        out["customer_counts"] = (await c.get(f"{cu}/customers/counts")).json()["counts"]
        customers = await _pages(c, f"{cu}/customers", {"limit": 200})
        out["customer_stage"] = {x["customer_id"]: x["stage"] for x in customers}
        out["customer_managers"] = {x["customer_id"]: sorted(m["manager_id"] for m in x["managers"] or [])
                                    for x in customers}
        slots = await _pages(c, f"{stack.api_url('assignment')}/assignments", {"limit": 1000})
        out["assignments"] = slots
        tasks = await _pages(c, f"{stack.api_url('tasks')}/tasks", {"view": "all", "status": "open", "limit": 200})
        out["tasks"] = tasks
        cases = await _pages(c, f"{stack.api_url('kyc')}/kyc/queue", {"limit": 1000})
        out["kyc"] = cases
        sample = random.Random(SEED).sample(sorted(out["customer_stage"]), min(OWNER_SAMPLE, len(customers)))
        owners = {}
        for cid in sample:
            r = await c.get(f"{stack.api_url('usercrm')}/usercrm/customers/{cid}/profile")
            owners[cid] = r.json().get("owner") if r.status_code == 200 else r.status_code
        out["usercrm_owner"] = {cid: (o or {}).get("manager_id") if isinstance(o, dict | None) else o
                                for cid, o in owners.items()}
        su = stack.api_url("summary")
        out["nodes"] = (await c.get(f"{su}/dashboard/nodes")).json()
        today = datetime.now(UTC).date()
        out["opening"] = (await c.get(f"{su}/dashboard/account-opening", params={
            "from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()})).json()
    return out


async def crm_duplicates(kafka: KafkaSettings) -> dict[str, tuple[int, int]]:
    """Per CRM topic: (records, event ids seen more than once), as a read_committed consumer reads it."""
    out = {}
    for t in (topics.CRM_CUSTOMER, topics.CRM_ASSIGNMENT, topics.CRM_TASKS, topics.CRM_KYC, topics.CRM_USERCRM):
        ids = Counter(json.loads(r.value)["event_id"] for r in await kafka_ops.read_topic(kafka, kafka.topic(t)))
        out[t] = (sum(ids.values()), sum(1 for n in ids.values() if n > 1))
    return out


def compare(report: Report, sent_events: list, models: dict[str, Any]) -> None:
    exp = expected_outcome(sent_events, (REFERRED, DIRECT))
    report.check("customers (customer API)", len(exp.customers), len(models["customer_stage"]))
    report.check("customers per stage (customer API counts)", exp.stage_counts(), models["customer_counts"])
    report.check("stage of every customer (customer list)", exp.customers, models["customer_stage"],
                 diff(exp.customers, models["customer_stage"]))
    slots = models["assignments"]
    per_customer = Counter(s["customer_id"] for s in slots)
    report.check("customers with exactly one assignment", len(exp.customers),
                 sum(1 for cid in exp.customers if per_customer.get(cid) == 1))
    team_of = {s["customer_id"]: s["team_id"] for s in slots}
    report.check("team of every assignment (routing rules)", exp.team, team_of, diff(exp.team, team_of))
    manager_of = {s["customer_id"]: s["manager_id"] for s in slots}
    report.check("manager's team = assignment's team", len(slots),
                 sum(1 for s in slots if MANAGER_TEAM.get(s["manager_id"]) == s["team_id"]))
    shown = {cid: ms[0] if len(ms) == 1 else ms for cid, ms in models["customer_managers"].items()}
    report.check("customer list's manager = assignment", manager_of, shown, diff(manager_of, shown))
    tasks = models["tasks"]
    open_pairs = Counter((t["customer_id"], t["node"]) for t in tasks)
    report.check("open tasks (customer, node)", exp.open_tasks, set(open_pairs), diff(exp.open_tasks, set(open_pairs)))
    report.check("(customer, node) with more than one open task", 0, sum(1 for n in open_pairs.values() if n > 1))
    wrong = [t for t in tasks if t["assignee_id"] != manager_of.get(t["customer_id"])]
    report.check("open tasks with the customer's manager", len(tasks), len(tasks) - len(wrong),
                 f"e.g. {[(t['customer_id'], t['node'], t['assignee_id']) for t in wrong[:3]]}")
    owners = models["usercrm_owner"]
    expected_owner = {cid: manager_of.get(cid) for cid in owners}
    report.check(f"User CRM owner = assignment ({len(owners)} customers' profiles)", expected_owner, owners,
                 diff(expected_owner, owners))
    cases = {(k["customer_id"], k["application_id"]) for k in models["kyc"]}
    report.check("KYC cases (one per application, queue)", exp.kyc_cases, cases, diff(exp.kyc_cases, cases))
    report.check("KYC case states", {"pending": len(exp.kyc_cases)}, dict(Counter(k["state"] for k in models["kyc"])))
    nodes = models["nodes"]
    report.check("summary: customers per stage", exp.stage_counts(), nodes["customers_per_stage"])
    report.check("summary: open tasks per node", exp.task_counts(),
                 {k: v for k, v in nodes["open_tasks_per_node"].items() if v})
    report.check("summary: KYC cases per state", {"pending": len(exp.kyc_cases)},
                 {k: v for k, v in nodes["kyc_cases_per_state"].items() if v})
    report.check("summary: accounts opened / rejected", (exp.openings, exp.rejections),
                 (models["opening"]["opened"], models["opening"]["rejected"]))


async def check_dead_letters(report: Report, kafka: KafkaSettings, poison: list) -> None:
    """Each poison record is dead-lettered once by every service that reads its topic, with a reason; nothing
    else is dead-lettered."""
    for name in SERVICES:
        letters = await kafka_ops.read_dead_letters(kafka, name, limit=1_000_000)
        keyed = [d for d in letters if (d.record["original"].get("key") or "").startswith("POISON-")]
        expected = {(r.topic, r.key.decode()) for r in poison if name in READERS.get(r.topic, ())}
        got = Counter((d.record["original"]["topic"], d.record["original"]["key"]) for d in keyed)
        report.check(f"{name}: poison records dead-lettered", len(expected), len(set(got) & expected),
                     diff(expected, set(got)))
        if expected:
            report.check(f"{name}: poison dead letters with a reason", len(keyed),
                         sum(1 for d in keyed if d.record["error"].get("type") and d.record["error"].get("message")))
            report.check(f"{name}: poison records dead-lettered twice", 0, sum(1 for n in got.values() if n > 1))
        report.check(f"{name}: other dead letters", 0, len(letters) - len(keyed),
                     str([d.summary() for d in letters if d not in keyed][:2]))


@pytest.mark.timeout(1500)
async def test_faults_under_load(infra: Infra) -> None:
    report = Report()
    kafka = KafkaSettings(bootstrap_servers=infra.bootstrap, topic_prefix="", session_timeout_ms=6000,
                          heartbeat_interval_ms=1000, fetch_max_wait_ms=50, linger_ms=5)
    extra = {"KAFKA_TOPIC_PREFIX": "", "AUTH_JWT_SECRET": SECRET, "LOG_LEVEL": "INFO",
             "KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
             "TASKS_LARGE_WITHDRAWAL_THRESHOLDS": json.dumps({k: str(v) for k, v in LARGE_WITHDRAWAL.items()})}
    ports = {n: p for n, p in launcher.ports_for(free_port_base()).items() if n in SERVICES}
    stack = Stack(infra, kafka, ports, extra)
    t0 = time.monotonic()
    try:
        await stack.start()
        report.notes.append(f"stack started in {time.monotonic() - t0:.0f} s (own Kafka :{infra.bootstrap}, "
                            f"PostgreSQL :{infra.pg_url().rsplit(':', 1)[1]})")
        await seed.seed(stack.ports, AUTH, SERVICES, ORG, strict=True)
        work = Workload(kafka, seed=SEED, total=EVENTS, rate=RATE)
        work.hold.clear()
        flow = asyncio.create_task(work.run())
        faults = Faults(stack, work)
        try:
            await asyncio.sleep(EVENTS / 20 / RATE)  # the flow warms up (5% of the events) before the first fault
            level = await faults.measure_level()
            report.notes.append(f"recovered = every worker ready, nothing stalled, backlog (consumer lag + "
                                f"unpublished/unprojected events) back under {level:,} (twice the steady flow's)")
            if "dup" in PLAN:
                await faults.duplicates_and_poison(DUPLICATES, [kafka.topic(t) for t in READERS])
            if "kill" in PLAN:
                await faults.kill_workers()
            if "broker" in PLAN:
                await faults.broker_outage(60)
            if "pg" in PLAN:
                await faults.postgres_restart()
                bad = {k: n for k, n in faults.api_answers.items() if k[1] != 200 and k[1] != 503}
                report.check("API answers during the PostgreSQL restart other than 200 / 503", {}, bad)
                report.notes.append("API answers during the PostgreSQL restart (service, status: count): " + ", ".join(
                    f"{n} {st}: {c}" for (n, st), c in sorted(faults.api_answers.items(), key=str)))
            report.notes.append(f"faults over after {len(work.sent.events):,} events; the flow went on throughout")
        finally:
            work.hold.set()
            report.faults += [o.row() for o in faults.outcomes]
        await flow
        await work.publisher.stop()
        report.notes.append(f"{len(work.sent.events):,} upstream events in {work.finished - work.started:.0f} s "
                            f"({len(work.sent.events) / (work.finished - work.started):.0f}/s)")
        drained = await wait_drained(stack, timeout=600)
        report.notes.append(f"drained {drained:.0f} s after the last event")
        assert not stack.exited(), stack.exited()
        models = await read_models(stack)
        compare(report, work.sent.events, models)
        await check_dead_letters(report, kafka, work.sent.poison)
        dups = await crm_duplicates(kafka)
        for t, (n, twice) in dups.items():
            report.check(f"{t}: event ids published twice ({n:,} records)", 0, twice)
        for name in SERVICES:
            code, out = await asyncio.to_thread(rebuild_verify, stack, name)
            report.check(f"{name}: ops rebuild --verify (clean replay = live)", 0, code, out[-400:].replace("\n", " "))
    finally:
        stack.stop()
        report.notes.append(f"suite ran {time.monotonic() - t0:.0f} s; load average {os.getloadavg()[0]:.1f}")
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(report.markdown())
        log.warning("fault_report", report=report.markdown())
    failed = [c for c in report.checks if not c[3]]
    assert not failed, "\n".join(f"{c}: expected {e}, actual {a}" for c, e, a, _ in failed)
