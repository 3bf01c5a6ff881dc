"""User CRM through the real broker and PostgreSQL: the platform's events fill the tabs and reports; every
action is a request published on `crm.usercrm.requests`, answered by a simulated platform on
`brokerage.request_results`, and its state lands on the customer; maker-checker holds big money requests
until a second person approves; tab permissions and masking per role; unknown answers are dead-lettered;
rebuilding the read models gives identical rows."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from ops.rebuild import table_digests
from services.usercrm.bootstrap import bootstrap
from services.usercrm.consumers import info_topics
from services.usercrm.container import Container
from services.usercrm.settings import UsercrmSettings
from shared.events import registry, topics
from shared.events import upstream as up
from shared.events import upstream_user as uu
from shared.events.crm_assignment import CustomerAssigned, ManagerChanged
from shared.events.crm_kyc import DocumentOutcome, KycCaseDecided
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer
from shared.runtime.replay import end_offsets
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="integration-secret-of-at-least-32-bytes")
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def env(payload: Any) -> Any:
    return registry.envelope(payload, producer="platform", correlation_id=str(uuid.uuid4()))


def seed_events(cid: str) -> list[Any]:
    """A registered, assigned customer with an account, money, a trade, an allocation, logins and a profile."""
    return [env(p) for p in [
        up.CustomerRegistered(customer_id=cid, registered_at=T0, channel="organic", name="Wing Chan",
                              email="wing@example.com", phone_dialing_code="+852", phone_number="91234567",
                              residence_country="HK", language="zh-HK"),
        CustomerAssigned(customer_id=cid, manager_id="M1", team_id="T1", reason="manual", assigned_at=T0),
        ManagerChanged(manager_id="M2", name="Second", team_id="T1", status="active", changed_at=T0),
        up.AccountOpened(customer_id=cid, account_id=f"{cid}-A1", opened_at=T0),
        up.DepositCompleted(customer_id=cid, account_id=f"{cid}-A1", transaction_id=f"{cid}-D1", amount="50000",
                            currency="USD", completed_at=T0 + timedelta(hours=1)),
        up.TradeExecuted(customer_id=cid, account_id=f"{cid}-A1", trade_id=f"{cid}-TR1", symbol="AAPL", market="US",
                         side="buy", quantity="10", price="150.5", currency="USD",
                         executed_at=T0 + timedelta(hours=2)),
        uu.ChargeApplied(customer_id=cid, account_id=f"{cid}-A1", charge_id=f"{cid}-CH1", kind="commission",
                         amount="1.5", currency="USD", charged_at=T0 + timedelta(hours=2)),
        uu.FundUpdated(fund_id="F1", name="Asia Growth", strategy="long equity", currency="USD",
                       performance_pct="12.5", as_of=T0),
        uu.AllocationStarted(customer_id=cid, allocation_id=f"{cid}-AL1", account_id=f"{cid}-A1", fund_id="F1",
                             fund_name="Asia Growth", amount="5000", currency="USD",
                             started_at=T0 + timedelta(hours=3)),
        up.AssetSnapshotTaken(customer_id=cid, account_id=f"{cid}-A1", as_of=T0 + timedelta(hours=4),
                              currency="USD", total_assets="46000", cash="43493.5"),
        uu.LoginRecorded(customer_id=cid, login_id=f"{cid}-L1", at=T0 + timedelta(hours=5), ip="203.0.113.7",
                         country="HK", source="app"),
        uu.PersonalUpdated(customer_id=cid, updated_at=T0, personal=uu.PersonalInfo(
            first_name="Wing", last_name="Chan", date_of_birth="1990-02-03", citizenship="HK",
            id_numbers=[uu.IdNumber(kind="national_id", number="A1234567", issuing_country="HK")])),
        uu.BankAccountSaved(customer_id=cid, saved_at=T0, bank_account=uu.BankAccountInfo(
            bank_account_id=f"{cid}-B1", provider="HSBC", holder_name="Wing Chan", account_number="123456789012",
            currency="HKD")),
        KycCaseDecided(case_id=f"{cid}-K1", customer_id=cid, application_id="APP1", decision="approved",
                       decided_by="kyc-ann", decided_at=T0, completion_pct=100,
                       documents=[DocumentOutcome(document_id="D1", kind="id_front", version=1, decision="accepted")]),
    ]]


class Platform:
    """Plays the brokerage platform: answers every request (accepted, then completed or failed)."""

    def __init__(self, kafka_settings, producer: EventProducer, fail_actions: set[str]):
        self.kafka, self.producer, self.fail = kafka_settings, producer, fail_actions
        self.received: list[dict] = []
        self._stop = asyncio.Event()

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(self.kafka.topic(topics.CRM_USERCRM_REQUESTS),
                                    bootstrap_servers=self.kafka.bootstrap_servers, auto_offset_reset="earliest",
                                    enable_auto_commit=False, group_id=None)
        await consumer.start()
        try:
            while not self._stop.is_set():
                for recs in (await consumer.getmany(timeout_ms=100)).values():
                    for r in recs:
                        await self.answer(json.loads(r.value))
        finally:
            await consumer.stop()

    async def answer(self, record: dict) -> None:
        self.received.append(record)
        p, now = record["payload"], datetime.now(UTC)
        rid, cid = p["request_id"], p["customer_id"]
        out: list[Any] = [uu.RequestAccepted(request_id=rid, customer_id=cid, accepted_at=now)]
        if p["action"] in self.fail:
            out.append(uu.RequestFailed(request_id=rid, customer_id=cid, failed_at=now, reason_code="insufficient_funds",
                                        reason="not enough cash"))
        else:
            result = {"delivery": "delivered"} if p["action"] == "send_message" else {}
            if p["action"] == "add_account":
                result = {"account_id": f"{cid}-A2"}
            out.append(uu.RequestCompleted(request_id=rid, customer_id=cid, completed_at=now, result=result))
        await self.producer.publish_many([env(x) for x in out])

    async def stop(self) -> None:
        self._stop.set()


class Service:
    def __init__(self, kafka_settings, pg_database, rm_url: str | None = None):
        self.settings = UsercrmSettings(database_url=rm_url or pg_database("uc"), kafka=kafka_settings, auth=AUTH,
                                        relay_interval_ms=50)
        self.c: Container = bootstrap(self.settings)
        self.components: list[Any] = []
        self.tasks: list[asyncio.Task] = []
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.c.api), base_url="http://uc")

    async def start(self) -> None:
        self.components = await self.c.start(worker=True)
        self.tasks = [asyncio.create_task(comp.run()) for comp in self.components]

    async def stop(self) -> None:
        for comp in self.components:
            await comp.stop()
        await asyncio.gather(*self.tasks)
        await self.client.aclose()
        await self.c.stop()

    @staticmethod
    def headers(user: str, role: str, team: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id=team)}"}

    async def post(self, path: str, user: str = "M1", role: str = "manager", team: str | None = "T1",
                   **kw: Any) -> httpx.Response:
        return await self.client.post(path, headers=self.headers(user, role, team), **kw)

    async def get(self, path: str, user: str = "M1", role: str = "manager", team: str | None = "T1",
                  **params: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers(user, role, team), params=params)


@pytest.fixture()
async def running(kafka_settings, pg_database):
    svc = Service(kafka_settings, pg_database)
    await svc.start()
    producer = EventProducer(kafka_settings, client_id="platform-sim")
    await producer.start()
    platform = Platform(kafka_settings, producer, fail_actions={"withdraw"})
    ptask = asyncio.create_task(platform.run())
    try:
        yield svc, producer, platform
    finally:
        await platform.stop()
        await ptask
        await producer.stop()
        await svc.stop()


async def _ready(svc: Service, producer: EventProducer, poll, cid: str) -> None:
    await producer.publish_many(seed_events(cid))

    async def seen() -> bool:
        # every seed topic applied (they are consumed independently): the statement, the KYC outcome, the
        # account's balance (asset snapshots) and the allocation
        r = await svc.get(f"/usercrm/customers/{cid}/statement")
        if not (r.status_code == 200 and len(r.json()["items"]) == 4):
            return False
        if not (await svc.get(f"/usercrm/customers/{cid}/info/compliance")).json().get("cases"):
            return False
        accounts = (await svc.get(f"/usercrm/customers/{cid}/accounts")).json().get("items") or []
        allocations = (await svc.get(f"/usercrm/customers/{cid}/allocations")).json().get("items") or []
        return bool(accounts and accounts[0].get("balance") is not None and allocations)

    await poll(seen, timeout=30, message="seed events projected")


async def _done(svc: Service, poll, request_id: str, *, user: str = "M1", role: str = "manager") -> dict:
    async def finished() -> dict | None:
        body = (await svc.get(f"/usercrm/requests/{request_id}", user=user, role=role)).json()
        return body if body["state"] in ("completed", "failed", "declined") else None

    return await poll(finished, timeout=30, message=f"request {request_id} answered")


async def test_every_action_goes_to_the_platform_and_back(running, poll):
    svc, producer, platform = running
    cid = f"C{uuid.uuid4().hex[:8]}"
    await _ready(svc, producer, poll, cid)
    base = f"/usercrm/customers/{cid}"
    actions = [
        ("send_message", "manager", f"{base}/messages", {"channel": "email", "template_id": "welcome"}),
        ("block", "team_lead", f"{base}/block", {"reason": "suspicious logins"}),
        ("unblock", "team_lead", f"{base}/unblock", {"reason": "identity confirmed"}),
        ("reset_password", "team_lead", f"{base}/password-reset", None),
        ("change_info", "manager", f"{base}/change-requests", {"general": {"time_zone": "Asia/Hong_Kong"}}),
        ("change_info", "manager", f"{base}/change-requests", {"personal": {"citizenship": "SG"}}),
        ("change_info", "manager", f"{base}/change-requests", {"financial_status": {"occupation": "Engineer"}}),
        ("change_info", "manager", f"{base}/change-requests", {"financial_experience": {"experience_years": 4}}),
        ("change_info", "manager", f"{base}/change-requests", {"bank_account": {
            "bank_account_id": f"{cid}-B2", "provider": "DBS", "account_number": "998877665544", "currency": "SGD"}}),
        ("change_info", "manager", f"{base}/social-links", {"links": {"linkedin": "https://linkedin.com/in/w"}}),
        ("add_account", "manager", f"{base}/accounts", {"account_type": "margin", "currency": "USD"}),
        ("deposit", "manager", f"{base}/accounts/{cid}-A1/deposits", {"amount": "500", "currency": "USD"}),
        ("withdraw", "manager", f"{base}/accounts/{cid}-A1/withdrawals", {"amount": "100", "currency": "USD"}),
        ("start_allocation", "manager", f"{base}/allocations",
         {"account_id": f"{cid}-A1", "fund_id": "F1", "amount": "1000", "currency": "USD"}),
        ("allocation_deposit", "manager", f"{base}/allocations/{cid}-AL1/deposits", {"amount": "200", "currency": "USD"}),
        ("stop_allocation", "manager", f"{base}/allocations/{cid}-AL1/stop", None),
        ("change_owner", "team_lead", f"{base}/owner", {"owner_id": "M2", "reason": "M1 on leave"}),
        ("change_access_level", "admin", f"{base}/access-level", {"access_level": "support", "reason": "desk"}),
    ]
    ids = []
    for action, role, path, body in actions:
        user = {"team_lead": "L1", "admin": "A1"}.get(role, "M1")
        method = svc.client.put if path.endswith("social-links") else svc.client.post
        r = await method(path, headers=svc.headers(user, role, "T1"), json=body)
        assert r.status_code == 202, (action, r.text)
        assert r.json()["action"] == action and r.json()["state"] == "submitted"
        ids.append((action, r.json()["request_id"]))
    for action, rid in ids:
        body = await _done(svc, poll, rid)
        assert body["state"] == ("failed" if action == "withdraw" else "completed"), (action, body)
    sent = {r["payload"]["request_id"]: r["payload"] for r in platform.received}
    assert {rid for _, rid in ids} <= set(sent)
    assert sent[ids[0][1]]["message"]["body"].startswith("Hello Wing Chan")
    assert sent[ids[1][1]]["reason"] == "suspicious logins"
    withdraw = await _done(svc, poll, ids[12][1])
    assert withdraw["failure_code"] == "insufficient_funds"
    assert (await _done(svc, poll, ids[10][1]))["result"] == {"account_id": f"{cid}-A2"}
    # the five information sections on the user's behalf, each one change request the platform received
    sections = {sent[rid]["change"] and next(k for k, v in sent[rid]["change"].items() if v)
                for a, rid in ids if a == "change_info"}
    assert sections == {"general", "personal", "financial_status", "financial_experience", "social", "bank_account"}
    assert sent[ids[8][1]]["change"]["bank_account"]["account_number"] == "998877665544"

    async def listed():
        page = (await svc.get(f"{base}/requests", limit=50)).json()
        return page if len(page["items"]) == len(ids) and all(
            i["state"] in ("completed", "failed") for i in page["items"]) else None

    page = await poll(listed, message="requests on the customer")
    message = next(i for i in page["items"] if i["action"] == "send_message")
    assert message["result"] == {"delivery": "delivered"} and message["summary"]["channel"] == "email"
    profile = (await svc.get(f"{base}/profile")).json()
    assert profile["access"]["blocked"] is False  # blocked, then unblocked
    assert profile["access"]["level"] == "support"  # the platform completed the access-level change
    owner_sent = sent[ids[16][1]]
    assert owner_sent["owner"] == {"owner_id": "M2", "team_id": "T1", "previous_owner_id": "M1"}
    assert owner_sent["reason"] == "M1 on leave" and owner_sent["requested_by"] == "L1"
    assert sent[ids[17][1]]["access"]["access_level"] == "support"
    # the audit: a row per step (requested, accepted, completed/failed) with who, role, what, outcome
    audit = (await svc.get("/usercrm/audit", user="aud", role="auditor", customer_id=cid, limit=500)).json()
    steps = {(a["request_id"], a["step"]) for a in audit["items"]}
    for _, rid in ids:
        assert {(rid, "requested"), (rid, "accepted")} <= steps
    first = next(a for a in audit["items"] if a["request_id"] == ids[1][1] and a["step"] == "requested")
    assert first["actor_id"] == "L1" and first["actor_role"] == "team_lead" and first["action"] == "block"
    for rid, actor, action in ((ids[16][1], "L1", "change_owner"), (ids[17][1], "A1", "change_access_level")):
        rows = {a["step"]: a for a in audit["items"] if a["request_id"] == rid}
        assert set(rows) == {"requested", "accepted", "completed"}, rows
        assert rows["requested"]["actor_id"] == actor and rows["requested"]["action"] == action
    assert (await svc.get("/usercrm/audit")).status_code == 403  # managers do not read the audit


async def test_maker_checker_holds_big_money_until_another_person_approves(running, poll):
    svc, producer, platform = running
    cid = f"C{uuid.uuid4().hex[:8]}"
    await _ready(svc, producer, poll, cid)
    path = f"/usercrm/customers/{cid}/accounts/{cid}-A1/deposits"
    big = await svc.post(path, json={"amount": "25000", "currency": "USD"})
    assert big.status_code == 202 and big.json()["state"] == "awaiting_approval" and big.json()["needs_approval"]
    rid = big.json()["request_id"]
    small = await svc.post(path, json={"amount": "25000", "currency": "HKD"})  # under the HKD threshold
    assert small.json()["state"] == "submitted"
    await _done(svc, poll, small.json()["request_id"])
    assert rid not in {r["payload"]["request_id"] for r in platform.received}  # not sent before approval

    # the requester cannot approve (even with the permission); a manager lacks it; the team lead may
    lead = {"user": "L1", "role": "team_lead"}
    own = await svc.post(f"/usercrm/requests/{rid}/approve", user="M1", role="team_lead")
    assert own.status_code == 403 and own.json()["type"].endswith("self_approval")
    assert (await svc.post(f"/usercrm/requests/{rid}/approve")).status_code == 403
    queue = (await svc.get("/usercrm/approvals", **lead)).json()["items"]
    assert [q["request_id"] for q in queue if q["customer_id"] == cid] == [rid]
    approved = await svc.post(f"/usercrm/requests/{rid}/approve", **lead)
    assert approved.status_code == 200 and approved.json()["state"] == "submitted"
    assert approved.json()["approved_by"] == "L1"
    assert (await svc.post(f"/usercrm/requests/{rid}/approve", **lead)).status_code == 409
    done = await _done(svc, poll, rid)
    assert done["state"] == "completed"
    sent = next(r["payload"] for r in platform.received if r["payload"]["request_id"] == rid)
    assert sent["approved_by"] == "L1" and sent["money"]["amount"] == "25000"

    declined = await svc.post(path, json={"amount": "90000", "currency": "USD"})
    rid2 = declined.json()["request_id"]
    r = await svc.post(f"/usercrm/requests/{rid2}/decline", json={"note": "call the client first"}, **lead)
    assert r.status_code == 200 and r.json()["state"] == "declined"
    assert rid2 not in {x["payload"]["request_id"] for x in platform.received}


async def test_tab_permissions_scope_and_masking_per_role(running, poll):
    svc, producer, _ = running
    cid = f"C{uuid.uuid4().hex[:8]}"
    await _ready(svc, producer, poll, cid)
    base = f"/usercrm/customers/{cid}"
    # manager (own scope, no PII, no banking tab)
    general = (await svc.get(f"{base}/info/general")).json()["data"]
    assert general["email"] == "w***@example.com" and general["phone_number"].endswith("4567")
    assert general["phone_number"] != "91234567" and general["language"] == "zh-HK"
    personal = (await svc.get(f"{base}/info/personal")).json()["data"]
    assert personal["date_of_birth"] == "****" and personal["id_numbers"][0]["number"] == "****4567"
    assert (await svc.get(f"{base}/info/banking")).status_code == 403
    logs = (await svc.get(f"{base}/info/logs")).json()
    assert logs["items"][0]["ip"] == "203.0.*.*" and logs["items"][0]["source"] == "app"
    assert logs["items"][0]["country"] == "HK"
    compliance = (await svc.get(f"{base}/info/compliance")).json()
    assert compliance["cases"][0]["state"] == "approved"
    profile = (await svc.get(f"{base}/profile")).json()
    assert 0 < profile["completion_pct"] < 100 and "general.time_zone" in profile["missing"]
    # another manager: the customer does not exist for them; the team's lead sees it
    assert (await svc.get(f"{base}/profile", user="M2")).status_code == 404
    assert (await svc.get(f"{base}/info/general", user="M2")).status_code == 404
    assert (await svc.get(f"{base}/profile", user="L9", role="team_lead", team="T9")).status_code == 404
    lead = (await svc.get(f"{base}/info/banking", user="L1", role="team_lead")).json()["items"][0]
    assert lead["account_number"] == "********9012" and lead["holder_name"].startswith("W*")
    # admin: everything, unmasked
    admin = {"user": "A1", "role": "admin", "team": None}
    assert (await svc.get(f"{base}/info/banking", **admin)).json()["items"][0]["account_number"] == "123456789012"
    assert (await svc.get(f"{base}/info/general", **admin)).json()["data"]["email"] == "wing@example.com"
    # KYC reviewer: personal and compliance tabs only
    kyc = {"user": "K1", "role": "kyc_reviewer", "team": None}
    assert (await svc.get(f"{base}/info/compliance", **kyc)).status_code == 200
    assert (await svc.get(f"{base}/info/general", **kyc)).status_code == 403
    assert (await svc.get(f"{base}/statement", **kyc)).status_code == 403
    # reports
    accounts = (await svc.get(f"{base}/accounts")).json()["items"]
    assert accounts[0]["status"] == "open" and Decimal(accounts[0]["balance"]) == Decimal("46000")
    allocs = (await svc.get(f"{base}/allocations")).json()["items"]
    assert allocs[0]["fund_name"] == "Asia Growth" and Decimal(allocs[0]["amount"]) == Decimal("5000")
    assert (await svc.get("/usercrm/funds/F1")).json()["name"] == "Asia Growth"
    fund_allocs = (await svc.get("/usercrm/funds/F1/allocations")).json()["items"]
    assert {a["customer_id"] for a in fund_allocs} == {cid}
    assert (await svc.get("/usercrm/funds/F1/allocations", user="M2")).json()["items"] == []
    st = (await svc.get(f"{base}/statement", kind=["trade", "charge"])).json()["items"]
    assert [s["kind"] for s in st] == ["trade", "charge"] or [s["kind"] for s in st] == ["charge", "trade"]
    assert (await svc.get(f"{base}/statement", cursor="nope")).status_code == 422


async def test_unknown_answer_is_dead_lettered_and_rebuild_is_identical(running, poll, kafka_settings):
    svc, producer, _ = running
    cid = f"C{uuid.uuid4().hex[:8]}"
    await _ready(svc, producer, poll, cid)
    await producer.publish(env(uu.RequestCompleted(request_id=str(uuid.uuid4()), customer_id=cid,
                                                   completed_at=datetime.now(UTC))))
    consumer = AIOKafkaConsumer(kafka_settings.topic(topics.dead_letter_topic("usercrm")),
                                bootstrap_servers=kafka_settings.bootstrap_servers, auto_offset_reset="earliest",
                                group_id=None)
    await consumer.start()
    try:
        async def dead() -> list:
            got = await consumer.getmany(timeout_ms=200)
            return [json.loads(r.value) for recs in got.values() for r in recs]

        letters = await poll(dead, timeout=30, message="dead letter")
        assert "unknown request_id" in letters[0]["error"]["message"]
    finally:
        await consumer.stop()
    r = await svc.post(f"/usercrm/customers/{cid}/messages", json={"channel": "sms", "template_id": "welcome"})
    await _done(svc, poll, r.json()["request_id"])
    await poll(lambda: table_digests(svc.settings.database_url)["uc_audit"][0] >= 3, message="audit projected")
    before = table_digests(svc.settings.database_url)
    for comp in svc.components:
        await comp.stop()
    await asyncio.gather(*svc.tasks)
    svc.components, svc.tasks = [], []
    # the platform's topics have expired (as brokerage.* do after 30 days): the rebuild reads the service's
    # own stores (event store and intake journal), not the topics
    ends = await end_offsets(kafka_settings, info_topics(svc.settings))
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_settings.bootstrap_servers)
    await admin.start()
    try:
        await admin.delete_records({TopicPartition(tp, p): RecordsToDelete(end) for (tp, p), end in ends.items()
                                    if end > 0})
    finally:
        await admin.close()
    probe = AIOKafkaConsumer(bootstrap_servers=kafka_settings.bootstrap_servers, group_id=None)
    await probe.start()
    try:
        starts = await probe.beginning_offsets([TopicPartition(tp, p) for tp, p in ends])
    finally:
        await probe.stop()
    assert {(tp.topic, tp.partition): o for tp, o in starts.items()} == ends  # nothing left to replay
    assert await asyncio.to_thread(svc.c.rebuild_read_model) >= len(seed_events(cid))
    assert table_digests(svc.settings.database_url) == before
