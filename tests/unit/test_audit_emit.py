"""The kit's audit emission: which requests are audited and how (`shared.runtime.audit`), through an app built
by `create_app` with a fake producer; delivery through the bounded queue, the spool on a failed publish or a
full queue, re-publication from the spool, and a record counted as dropped only when nothing can keep it."""

from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, Request
from prometheus_client import REGISTRY

from shared.events.crm_audit import AuditKind, AuditOutcome
from shared.runtime import audit
from shared.runtime.api import create_app
from shared.runtime.audit import AuditEmitter, action_name, classify, outcome_of
from shared.runtime.auth import Perm, Principal, mint_token, require
from shared.runtime.db import make_engine
from shared.runtime.settings import AuditEmitSettings, AuthSettings, KafkaSettings

AUTH = AuthSettings(jwt_secret="unit-secret-0123456789abcdefghijklmnop")
Reader = Annotated[Principal, Depends(require(Perm.ClientProfileReadOnly))]
Exporter = Annotated[Principal, Depends(require(Perm.CustomerExport))]


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list = []
        self.down = False

    async def publish_many(self, envelopes, *, topic=None):
        if self.down:
            raise ConnectionError("broker away")
        self.sent.extend((topic, e) for e in envelopes)

    async def stop(self) -> None:
        pass


def dropped(service: str) -> float:
    return REGISTRY.get_sample_value("whale_audit_records_dropped_total", {"service": service}) or 0.0


def test_classification():
    pii = audit.AuditMark("customer.pii.read")
    assert classify("GET", 200, None) is None
    assert classify("GET", 200, pii) is AuditKind.pii_read
    assert classify("GET", 403, pii) is AuditKind.refusal
    assert classify("GET", 401, None) is AuditKind.refusal
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert classify(method, 201, None) is AuditKind.write
        assert classify(method, 422, None) is AuditKind.write
    assert classify("GET", 404, audit.AuditMark("x", AuditKind.export)) is AuditKind.export
    assert [outcome_of(s) for s in (200, 302, 401, 403, 404, 500)] == [
        AuditOutcome.allowed, AuditOutcome.allowed, AuditOutcome.denied, AuditOutcome.denied,
        AuditOutcome.failed, AuditOutcome.failed]


def test_action_names_come_from_the_route_template():
    assert action_name("customer", "POST", "/customers/{customer_id}/remarks") == "customer.remarks.create"
    assert action_name("tasks", "PATCH", "/tasks/{task_id}") == "tasks.update"
    assert action_name("kyc", "POST", "/kyc/cases/{case_id}/claim") == "kyc.cases.claim.create"
    assert action_name("access", "DELETE", "/access/staff/{staff_id}/roles/{a}") == "access.staff.roles.delete"
    assert action_name("usercrm", "GET", "/usercrm/customers/{customer_id}/info/general") == \
        "usercrm.customers.info.general.read"


def build(tmp_path, producer: FakeProducer, *, engine=True, **settings):
    emit = AuditEmitSettings(enabled=True, spool_retry_s=0.05, **settings)
    eng = make_engine(f"sqlite:///{tmp_path}/svc.db") if engine else None
    emitter = AuditEmitter("svc", KafkaSettings(topic_prefix="p."), eng, emit, producer=producer)  # type: ignore[arg-type]
    app = create_app(service="svc", auth=AUTH, audit=emitter)

    @app.post("/customers/{customer_id}/remarks", status_code=201)
    async def remark(customer_id: str, p: Reader) -> dict:
        return {"ok": True}

    @app.get("/customers/{customer_id}")
    async def detail(request: Request, customer_id: str, p: Reader) -> dict:
        if p.has(Perm.CustomerPiiRead):
            audit.mark(request, "customer.pii.read")
        return {"id": customer_id}

    @app.get("/export", dependencies=[Depends(audit.audited("svc.export", AuditKind.export))])
    async def export(p: Exporter) -> dict:
        return {}

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.9.9", 1234)), base_url="http://t")
    return emitter, client


def bearer(role: str, user: str = "u-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role)}"}


@pytest.mark.asyncio
async def test_writes_pii_reads_exports_and_refusals_are_audited_other_reads_are_not(tmp_path):
    producer = FakeProducer()
    emitter, client = build(tmp_path, producer)
    async with client:
        h = {**bearer("manager", "M-1"), "X-Forwarded-For": "203.0.113.7, 10.0.0.2", "X-Request-ID": "req-1"}
        assert (await client.post("/customers/C-1/remarks", headers=h)).status_code == 201
        assert (await client.get("/customers/C-1", headers=h)).status_code == 200  # masked: not audited
        assert (await client.get("/customers/C-2", headers=bearer("admin", "A-1"))).status_code == 200
        assert (await client.get("/export", headers=h)).status_code == 403  # a manager may not export
        assert (await client.get("/export", headers=bearer("admin", "A-1"))).status_code == 200
        assert (await client.post("/customers/C-1/remarks")).status_code == 401
        assert (await client.get("/customers/C-3", headers={"X-Forwarded-For": "not-an-ip"})).status_code == 401
        await emitter.flush()
    await emitter.stop()
    records = [e.payload for _, e in producer.sent]
    assert {t for t, _ in producer.sent} == {"p.crm.audit.records"}
    got = [(r["action"], r["kind"], r["staff_id"], r["customer_id"], r["status"], r["outcome"]) for r in records]
    assert got == [
        ("svc.customers.remarks.create", "write", "M-1", "C-1", 201, "allowed"),
        ("customer.pii.read", "pii_read", "A-1", "C-2", 200, "allowed"),
        ("svc.export.read", "refusal", "M-1", None, 403, "denied"),
        ("svc.export", "export", "A-1", None, 200, "allowed"),
        ("svc.customers.remarks.create", "refusal", None, "C-1", 401, "denied"),
        ("svc.customers.read", "refusal", None, "C-3", 401, "denied"),
    ]
    first = records[0]
    assert first["route"] == "/customers/{customer_id}/remarks" and first["method"] == "POST"
    assert first["client_ip"] == "203.0.113.7" and first["correlation_id"] == "req-1"
    assert first["roles"] == ["manager"] and first["service"] == "svc"
    assert records[-1]["client_ip"] == "10.9.9.9"  # an X-Forwarded-For that is no address: the peer
    assert [str(e.event_id) for _, e in producer.sent] == [r["record_id"] for r in records]
    assert dropped("svc") == 0


@pytest.mark.asyncio
async def test_a_failed_publish_spools_and_the_spool_is_published_when_the_broker_is_back(tmp_path):
    producer = FakeProducer()
    producer.down = True
    emitter, client = build(tmp_path, producer)
    async with client:
        for i in range(5):
            await client.post(f"/customers/C-{i}/remarks", headers=bearer("manager"))
        await emitter.flush()
        await asyncio.sleep(0.1)
        assert producer.sent == [] and emitter._spooled == 5
        producer.down = False
        for _ in range(100):
            if len(producer.sent) == 5:
                break
            await asyncio.sleep(0.05)
    await emitter.stop()
    assert sorted(e.payload["customer_id"] for _, e in producer.sent) == [f"C-{i}" for i in range(5)]
    count, rows = emitter._read_spool()
    assert (count, rows) == (0, [])
    assert dropped("svc") == 0


@pytest.mark.asyncio
async def test_a_full_queue_spools_instead_of_waiting(tmp_path):
    producer = FakeProducer()
    producer.down = True
    emitter, client = build(tmp_path, producer, queue_size=1)
    async with client:
        await asyncio.gather(*(client.post(f"/customers/C-{i}/remarks", headers=bearer("manager")) for i in range(8)))
        await emitter.flush()
    await emitter.stop()
    count, _ = emitter._read_spool()
    assert count == 8  # every record kept: queued ones spooled after the failed publish, the rest at once
    assert dropped("svc") == 0


@pytest.mark.asyncio
async def test_without_a_spool_a_lost_record_is_counted_and_logged(tmp_path):
    producer = FakeProducer()
    producer.down = True
    emitter, client = build(tmp_path, producer, engine=False)
    emitter.service = "svc-nospool"
    async with client:
        await client.post("/customers/C-1/remarks", headers=bearer("manager"))
        await emitter.flush()
    await emitter.stop()
    assert dropped("svc-nospool") == 1


@pytest.mark.asyncio
async def test_the_consoles_sign_in_call_is_an_auth_sign_in_record(tmp_path):
    """After an OpenID Connect sign-in the console asks GET /access/me once: the access service audits it."""
    from services.access.bootstrap import bootstrap
    from services.access.settings import AccessSettings

    c = bootstrap(AccessSettings(database_url=f"sqlite:///{tmp_path}/access.db", auth=AUTH,
                                 audit_emit=AuditEmitSettings(enabled=True)))
    producer = FakeProducer()
    emitter = c.api.state.audit
    emitter.producer = producer
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://t") as client:
            assert (await client.get("/access/me", headers=bearer("manager", "M-HK-1"))).status_code == 200
            await emitter.flush()
        await emitter.stop()
    finally:
        c.engine.dispose()
    (record,) = [e.payload for _, e in producer.sent]
    assert (record["action"], record["kind"], record["staff_id"], record["service"], record["outcome"]) == (
        "auth.sign_in", "sign_in", "M-HK-1", "access", "allowed")
