"""KYC through the real broker and PostgreSQL: upstream submission → case in the queue (PostgreSQL event
store + read model) → review through the API → crm.kyc.case_decided published by the outbox; poison records
dead-lettered; replaying the topics into fresh databases, and rebuilding the read model, give identical rows."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from services.kyc.bootstrap import bootstrap
from services.kyc.container import Container
from services.kyc.projections.tables import kyc_case, kyc_customer
from services.kyc.settings import KycSettings
from shared.events import encode, registry, topics
from shared.events.upstream import AccountApplicationSubmitted, AccountOpened, IdentityVerified
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer
from shared.runtime.settings import AuthSettings
from tests.conftest import ops_rebuild_verified

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="integration-secret-of-at-least-32-bytes")
KINDS = ("id_front", "id_back", "proof_of_address", "selfie", "financial_questionnaire")
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def application(customer: str, app_id: str, *, at: datetime, pep: bool = False, ref: str = "v1"):
    return registry.envelope(
        AccountApplicationSubmitted(
            customer_id=customer,
            application_id=app_id,
            submitted_at=at,
            id_issuing_country="SG",
            documents=[
                {
                    "document_id": f"{app_id}-{k}",
                    "kind": k,
                    "storage_ref": f"vault://{customer}/{k}/{ref}",
                    "uploaded_at": at,
                }
                for k in KINDS
            ],
            declarations={
                "is_pep": pep,
                "net_worth": "120000.50",
                "net_worth_currency": "USD",
                "annual_income": "60000",
                "investment_experience_years": 4,
                "employment_status": "employed",
            },
        ),
        producer="platform",
        correlation_id=f"corr-{app_id}",
    )


def identity(customer: str, country: str, at: datetime):
    return registry.envelope(
        IdentityVerified(
            customer_id=customer, verified_at=at, id_type="passport", id_issuing_country=country
        ),
        producer="platform",
    )


class Service:
    """One KYC service instance (worker components + in-process API) on its own databases."""

    def __init__(self, kafka_settings, pg_database):
        self.settings = KycSettings(
            database_url=pg_database("kyc"),
            kafka=kafka_settings,
            auth=AUTH,
            relay_interval_ms=50,
        )
        self.c: Container = bootstrap(self.settings)
        self.tasks: list[asyncio.Task] = []
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.c.api), base_url="http://kyc")

    async def start(self) -> None:
        await self.c.ensure_topics()
        await self.c.start_producer()
        await self.c.consumer.start()
        self.tasks = [asyncio.create_task(comp.run()) for comp in self.c.worker_components()]

    async def stop(self) -> None:
        for comp in self.c.worker_components():
            await comp.stop()
        await asyncio.gather(*self.tasks)
        await self.client.aclose()
        await self.c.stop()

    def headers(self, user: str, role: str = "kyc_reviewer") -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role)}"}

    async def post(
        self, path: str, user: str, role: str = "kyc_reviewer", correlation_id: str | None = None, **kw
    ) -> httpx.Response:
        headers = self.headers(user, role) | ({"x-correlation-id": correlation_id} if correlation_id else {})
        return await self.client.post(path, headers=headers, **kw)

    async def get(self, path: str, user: str = "r1", role: str = "kyc_reviewer", **params) -> httpx.Response:
        return await self.client.get(path, headers=self.headers(user, role), params=params)

    def rows(self) -> dict[str, list[dict]]:
        with self.c.sessions() as s:
            cases = [dict(r) for r in s.execute(select(kyc_case).order_by(kyc_case.c.case_id)).mappings()]
            customers = [
                dict(r)
                for r in s.execute(select(kyc_customer).order_by(kyc_customer.c.customer_id)).mappings()
            ]
        for r in cases:
            r.pop("version")  # per-row idempotency bookkeeping: depends on cross-topic interleaving only
        return {"cases": cases, "customers": customers}


async def read_topic(kafka_settings, topic: str, until, timeout: float = 30.0) -> list[dict]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_settings.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    out: list[dict] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not until(out) and asyncio.get_running_loop().time() < deadline:
            for recs in (await consumer.getmany(timeout_ms=200)).values():
                out.extend(json.loads(r.value) for r in recs)
    finally:
        await consumer.stop()
    return out


async def test_submission_to_published_decision_and_replay_equality(kafka_settings, pg_database, poll):
    svc = Service(kafka_settings, pg_database)
    await svc.start()
    producer = EventProducer(kafka_settings, client_id="platform-sim")
    await producer.start()
    try:
        sub = application("cust-a", "app-a", at=T0, pep=True)
        await producer.publish_many(
            [
                sub,
                application("cust-b", "app-b", at=T0 + timedelta(minutes=1)),
                identity("cust-b", "SG", T0 + timedelta(minutes=2)),
                registry.envelope(
                    AccountOpened(customer_id="cust-z", account_id="acc-z", opened_at=T0), producer="platform"
                ),  # valid, not for KYC: ignored
                sub,  # upstream retry of the same event: one effect
            ]
        )
        bad = json.loads(encode(application("cust-c", "app-c", at=T0)))
        bad["payload"]["documents"] = []
        await producer.send_raw(kafka_settings.topic(topics.ACCOUNT), json.dumps(bad).encode(), key=b"cust-c")
        await producer.send_raw(kafka_settings.topic(topics.ACCOUNT), b"\x00not json", key=b"cust-d")

        async def queue_has_two():
            items = (await svc.get("/kyc/queue")).json()["items"]
            return items if len(items) == 2 else None

        items = await poll(queue_has_two, timeout=30, message="two cases in the queue")
        assert [i["customer_id"] for i in items] == ["cust-a", "cust-b"]  # oldest first
        case_a = items[0]["case_id"]
        assert items[0]["high_risk"] and items[0]["documents_total"] == 5
        await poll(
            lambda: (
                svc.rows()["customers"]
                and len(svc.rows()["customers"]) == 2
                and all(
                    c["identity_verified_at"] for c in svc.rows()["customers"] if c["customer_id"] == "cust-b"
                )
            ),
            message="identity verification projected",
        )
        before_review = svc.rows()

        # Review through the API: r1 decides every document, the PEP case needs a second reviewer.
        assert (await svc.post(f"/kyc/cases/{case_a}/claim", "r1")).status_code == 200
        for k in KINDS:
            r = await svc.post(
                f"/kyc/cases/{case_a}/documents/app-a-{k}/decision", "r1", json={"decision": "accepted"}
            )
            assert r.status_code == 200, r.text
        r = await svc.post(f"/kyc/cases/{case_a}/submit", "r1")
        assert r.json()["state"] == "awaiting_second_review"
        assert (
            await svc.post(
                f"/kyc/cases/{case_a}/second-review", "r1", "kyc_senior", json={"decision": "approved"}
            )
        ).status_code == 403
        r = await svc.post(
            f"/kyc/cases/{case_a}/second-review",
            "s1",
            "kyc_senior",
            json={"decision": "approved"},
            correlation_id="corr-second-review",
        )
        assert r.status_code == 200 and r.json()["state"] == "approved"

        crm = kafka_settings.topic(topics.CRM_KYC)
        records = await read_topic(
            kafka_settings, crm, lambda out: any(e["event_type"] == "crm.kyc.case_decided" for e in out)
        )
        decided = [registry.decode(e) for e in records if e["event_type"] == "crm.kyc.case_decided"]
        assert len(decided) == 1
        p = decided[0].payload
        assert (p.case_id, p.customer_id, p.decision, p.decided_by, p.second_reviewer) == (
            case_a,
            "cust-a",
            "approved",
            "r1",
            "s1",
        )
        assert p.completion_pct == 100 and p.high_risk and len(p.documents) == 5
        assert decided[0].envelope.partition_key == "cust-a"
        assert decided[0].envelope.correlation_id == "corr-second-review"  # the request that decided it
        opened = [
            e
            for e in records
            if e["event_type"] == "crm.kyc.case_state_changed"
            and e["payload"]["to_state"] == "pending"
            and e["payload"]["case_id"] == case_a
        ]
        assert len(opened) == 1 and opened[0]["correlation_id"] == str(sub.event_id)
        assert "vault://" not in json.dumps(records)

        dlq = await read_topic(
            kafka_settings, kafka_settings.topic(topics.dead_letter_topic("kyc")), lambda out: len(out) >= 2
        )
        assert sorted(d["original"]["key"] for d in dlq) == ["cust-c", "cust-d"]
        assert {d["error"]["field"] for d in dlq} == {"payload.documents", "$"}
        assert "vault://" not in json.dumps([d["error"] for d in dlq])

        # Rebuilding the read model from the event log gives the same rows.
        after_review = svc.rows()
        assert after_review != before_review
        await asyncio.to_thread(svc.c.rebuild_read_model)
        assert svc.rows() == after_review
    finally:
        await svc.stop()
    # and so does `ops rebuild kyc --verify` (the event store shares the database: its tables are left out)
    tables = await ops_rebuild_verified("kyc", svc.settings.database_url)
    assert tables["kyc_case"]["rows_after"] > 0

    # Replaying the topics from the start into fresh databases gives the pre-review read model.
    replay = Service(kafka_settings, pg_database)
    await replay.start()
    try:
        await poll(lambda: replay.rows() == before_review, timeout=30, message="replayed read model equal")
    finally:
        await replay.stop()
        await producer.stop()
