"""End to end, the `make run` way: all five services as their own processes on the embedded default
(SQLite per service) and the real Kafka broker; the demo organisation seeded through the assignment API;
upstream events published to the brokerage.* topics; the answers read from every service's HTTP API."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools import run as launcher
from devtools import seed
from ops import kafka_ops
from shared.events import registry, topics
from shared.events import upstream as up
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.settings import AuthSettings

# Its own bound (the global 300 s covers unit and integration tests): six service processes started and
# made ready, the journey's polls, then `ops rebuild --verify` of every service, on a machine shared with
# other suites. Its inner deadlines (ready 120 s, polls 60-90 s, each rebuild 300 s) fail first and name
# the step; this only stops a hung run.
pytestmark = [pytest.mark.asyncio, pytest.mark.e2e, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-secret-e2e-secret-e2e-secret-0123"
AUTH = AuthSettings(jwt_secret=SECRET)


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def token(role: str, user: str, team: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id=team)}"}


ADMIN = token("admin", "admin-1")
REVIEWER = token("kyc_reviewer", "kyc-ann")
HK_LEAD = token("team_lead", "M-HK-LEAD", "T-HK")
SG_MANAGER = token("manager", "M-SG-1", "T-SEA")


@pytest.fixture()
async def system(kafka_settings, tmp_path: Path):
    names = launcher.available_services()
    assert names == list(topics.SERVICES), "every service must be startable"
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    await ensure_topics(kafka_settings, [kafka_settings.topic(t) for t in topics.ALL_TOPICS])
    extra = {"KAFKA_TOPIC_PREFIX": kafka_settings.topic_prefix, "AUTH_JWT_SECRET": SECRET, "LOG_LEVEL": "WARNING",
             "KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
             "KAFKA_FETCH_MAX_WAIT_MS": "50"}
    procs = launcher.start_services(names, tmp_path, kafka_settings.bootstrap_servers, ports, extra)
    try:
        for name in names:
            await launcher.wait_ready(name, procs[name], timeout=120, ports=ports, logs=tmp_path / "logs")
        await seed.seed(ports, AUTH, names, kafka=kafka_settings)
        urls: dict[str, Any] = {n: f"http://127.0.0.1:{p}" for n, p in ports.items()}
        urls["_stop"] = lambda: launcher.stop_services(procs)
        urls["_env"] = {n: launcher.service_env(n, tmp_path, kafka_settings.bootstrap_servers, ports, extra)
                        for n in names}
        yield urls
    finally:
        launcher.stop_services(procs)
        for name in names:
            log = (tmp_path / "logs" / f"{name}.log").read_text(errors="replace")
            assert "Traceback" not in log, f"{name} crashed:\n{log[-3000:]}"


async def publish(kafka_settings, payloads: list[up.Payload]) -> None:
    producer = EventProducer(kafka_settings, client_id="e2e-platform")
    await producer.start()
    try:
        for p in payloads:
            env = registry.envelope(p, producer="e2e-platform", correlation_id=str(uuid.uuid4()))
            await producer.publish(env, topic=kafka_settings.topic(registry.latest(env.event_type).topic))
    finally:
        await producer.stop()


def registration(cid: str, country: str, code: str, referral: str | None = None) -> up.CustomerRegistered:
    return up.CustomerRegistered(
        customer_id=cid, registered_at=datetime.now(UTC) - timedelta(minutes=5),
        channel=up.Channel.manager_qr if referral else up.Channel.organic, referral_code=referral,
        name="Test Customer", phone_dialing_code=code, phone_number="91234567", email=f"{cid}@example.com",
        residence_country=country, language="en")


def application(cid: str, app_id: str, country: str) -> up.AccountApplicationSubmitted:
    now = datetime.now(UTC) - timedelta(minutes=4)
    docs = [up.SubmittedDocument(document_id=f"{app_id}-{k.value}", kind=k, storage_ref=f"s3://docs/{cid}/{k.value}",
                                 uploaded_at=now)
            for k in (up.DocumentKind.id_front, up.DocumentKind.id_back, up.DocumentKind.proof_of_address,
                      up.DocumentKind.selfie, up.DocumentKind.financial_questionnaire)]
    return up.AccountApplicationSubmitted(
        customer_id=cid, application_id=app_id, submitted_at=now, documents=docs, id_issuing_country=country,
        declarations=up.Declarations(is_pep=False, net_worth=Decimal("300000"), net_worth_currency="HKD",
                                     annual_income=Decimal("500000"), investment_experience_years=5,
                                     employment_status="employed"))


async def get_json(client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any) -> Any:
    r = await client.get(url, headers=headers, params=params)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return r.json()


async def test_customer_journey_through_every_service(system, kafka_settings, poll):
    run = uuid.uuid4().hex[:6].upper()
    hk, sg, qr = f"CHK{run}", f"CSG{run}", f"CQR{run}"
    t0 = datetime.now(UTC)
    await publish(kafka_settings, [
        registration(hk, "HK", "+852"),
        registration(sg, "SG", "+65"),
        registration(qr, "GB", "+44", referral="QR-HK-2"),
        up.IdentityVerified(customer_id=hk, verified_at=t0, id_type=up.IdType.national_id, id_issuing_country="HK"),
        application(hk, f"APP{run}", "HK"),
        application(sg, f"APS{run}", "SG"),
    ])
    async with httpx.AsyncClient(timeout=10) as c:
        # assignment: rules and the manager's QR code route the new customers
        async def routed() -> dict[str, Any]:
            out = {}
            for cid in (hk, sg, qr):
                r = await c.get(f"{system['assignment']}/customers/{cid}/assignments", headers=ADMIN)
                if r.status_code != 200 or not r.json()["slots"]:
                    return {}
                out[cid] = r.json()["slots"][0]
            return out

        slots = await poll(routed, timeout=60, message="customers routed by the assignment rules")
        assert slots[hk]["team_id"] == "T-HK" and slots[hk]["rule_id"] == "greater-china"
        assert slots[sg]["team_id"] == "T-SEA" and slots[sg]["rule_id"] == "sea-region"
        assert slots[qr]["manager_id"] == "M-HK-2" and slots[qr]["reason"] == "referral_code"

        # customer: the list is filterable by manager; regions derived; data scope enforced
        async def listed() -> bool:
            page = await get_json(c, f"{system['customer']}/customers", ADMIN, manager_id="M-HK-2")
            return any(i["customer_id"] == qr for i in page["items"])

        await poll(listed, timeout=60, message="customer list filterable by the assigned manager")
        detail = await get_json(c, f"{system['customer']}/customers/{sg}", ADMIN)
        assert detail["lifecycle"]["stage"] == "pending_account_opening"
        assert (await c.get(f"{system['customer']}/customers/{hk}", headers=SG_MANAGER)).status_code == 404
        lead_page = await get_json(c, f"{system['customer']}/customers", HK_LEAD, limit=200)
        lead_ids = {i["customer_id"] for i in lead_page["items"]}
        assert sg not in lead_ids

        # kyc: the application opened a case; a reviewer claims, accepts every document, submits → approved
        async def case_for_hk() -> dict[str, Any] | None:
            page = await get_json(c, f"{system['kyc']}/kyc/queue", REVIEWER, customer_id=hk)
            return page["items"][0] if page["items"] else None

        case = await poll(case_for_hk, timeout=60, message="KYC case opened from the application")
        case_id = case["case_id"]
        r = await c.post(f"{system['kyc']}/kyc/cases/{case_id}/claim", headers=REVIEWER)
        assert r.status_code == 200, r.text
        for doc in r.json()["documents"]:
            d = await c.post(f"{system['kyc']}/kyc/cases/{case_id}/documents/{doc['document_id']}/decision",
                             headers=REVIEWER, json={"decision": "accepted"})
            assert d.status_code == 200, d.text
        r = await c.post(f"{system['kyc']}/kyc/cases/{case_id}/submit", headers=REVIEWER, json={})
        assert r.status_code == 200 and r.json()["state"] == "approved", r.text
        history = await get_json(c, f"{system['kyc']}/kyc/cases/{case_id}/history", REVIEWER)
        assert history

        # the platform opens the account, the customer funds and trades
        now = datetime.now(UTC)
        await publish(kafka_settings, [
            up.AccountOpened(customer_id=hk, application_id=f"APP{run}", account_id=f"A{run}", opened_at=now),
            up.DepositCompleted(customer_id=hk, account_id=f"A{run}", transaction_id=f"TX{run}",
                                amount=Decimal("25000.50"), currency="HKD", completed_at=now),
            up.TradeExecuted(customer_id=hk, account_id=f"A{run}", trade_id=f"TR{run}", symbol="0700", market="HK",
                             side=up.Side.buy, quantity=Decimal("100"), price=Decimal("388.2"), currency="HKD",
                             executed_at=now),
        ])

        async def traded() -> bool:
            d = await get_json(c, f"{system['customer']}/customers/{hk}", ADMIN)
            return d["lifecycle"]["stage"] == "traded"

        await poll(traded, timeout=60, message="lifecycle derived up to traded")
        detail = await get_json(c, f"{system['customer']}/customers/{hk}", ADMIN)
        stages = [t["stage"] for t in detail["lifecycle"]["timeline"]]
        assert stages[:1] == ["registered"] and "pending_funding" in stages and "funded" in stages

        # tasks: the SG customer's manager has a pending-account-opening task; a follow-up completes it
        sg_manager = slots[sg]["manager_id"]
        sg_headers = token("manager", sg_manager, "T-SEA")

        async def sg_task() -> dict[str, Any] | None:
            page = await get_json(c, f"{system['tasks']}/tasks", sg_headers, node="pending_account_opening")
            return next((t for t in page["items"] if t["customer_id"] == sg), None)

        task = await poll(sg_task, timeout=60, message="pending-account-opening task for the assigned manager")
        r = await c.post(f"{system['tasks']}/tasks/{task['task_id']}/follow-ups", headers=sg_headers,
                         json={"task_id": task["task_id"], "intent": "interested", "contact_methods": ["phone"],
                               "remarks": "will upload documents tonight"})
        assert r.status_code == 201, r.text
        follow_ups = await get_json(c, f"{system['tasks']}/customers/{sg}/follow-ups", sg_headers)
        assert len(follow_ups["items"]) == 1

        # summary: the dashboard and Today's Summary reflect all of it
        async def dashboard() -> dict[str, Any] | None:
            nodes = await get_json(c, f"{system['summary']}/dashboard/nodes", ADMIN)
            kyc = nodes["kyc_cases_per_state"]
            assert nodes["customers_per_stage"].get("traded", 0) >= 1, nodes
            assert kyc.get("pending", 0) >= 1 and kyc.get("approved", 0) >= 1, nodes
            return nodes

        nodes = await poll(dashboard, timeout=60, message="dashboard node counts")
        assert nodes["customers_per_stage"].get("registered", 0) >= 1
        opening = await get_json(c, f"{system['summary']}/dashboard/account-opening", ADMIN)
        assert opening
        today = await get_json(c, f"{system['summary']}/summary/today", ADMIN)
        assert today["metrics"]["account_openings"]["today"] >= 1
        assert today["metrics"]["fundings"]["today"] >= 1

    # operator tooling: once every consumer has caught up (the live read models are complete), stop the
    # services; every read model rebuilt by replay must equal the live one
    async def quiet() -> bool:
        rows = [r for r in await kafka_ops.consumer_lag(kafka_settings, "", kafka_settings.topic_prefix)
                if not r.topic.endswith(".dlq")]
        return bool(rows) and all(r.lag == 0 for r in rows)

    async def settled() -> bool:
        if not await quiet():
            return False
        await asyncio.sleep(1.0)  # inside the polled check (deadline 90 s): lag must stay at zero a second
        return await quiet()

    await poll(settled, timeout=90, interval=0.5, message="every consumer caught up")
    system["_stop"]()
    for name, env in system["_env"].items():
        result = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "ops", "rebuild", name, "--verify"], env=env, cwd=ROOT,
            capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{name}: {result.stderr[-2000:]}"
        assert "identical to the live one" in result.stderr
