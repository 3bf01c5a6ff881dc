"""The audit log end to end on the real broker and PostgreSQL: the customer service's API (the kit's emitter)
publishes a write, a read of unmasked personal data and a refusal as audit records; the audit service's worker
chains them; the auditor finds them with the right fields through the API (filters, CSV export, verify); a
record delivered twice is stored once; `ops rebuild audit --verify` replays the topic into the same chain; a
tampered row is named by `ops audit verify`; the worker anchors the chain's head on `crm.audit.anchors`, and a
chain rewritten in the database consistently (every later hash recomputed), which the chain alone cannot show,
fails against those anchors; no record was dropped."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text, update

from services.audit.anchors import read_anchors
from services.audit.bootstrap import bootstrap as audit_bootstrap
from services.audit.domain.chain import link
from services.audit.projections.store import stored_rows, verify_store
from services.audit.projections.tables import chain, record
from services.audit.settings import AuditSettings
from services.customer.bootstrap import bootstrap as customer_bootstrap
from services.customer.settings import CustomerSettings
from shared.events import registry, topics
from shared.events.crm_audit import AuditKind, AuditOutcome, AuditRecord
from shared.events.upstream import CustomerRegistered
from shared.runtime.auth import mint_token
from shared.runtime.db import make_engine, normalise_url, session_factory
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.service import running
from shared.runtime.settings import AuditEmitSettings, AuthSettings
from tests.conftest import ROOT, ops_rebuild_verified

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="integration-secret-0123456789abcdefghij")


def bearer(role: str, user: str, request_id: str | None = None) -> dict[str, str]:
    h = {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role)}",
         "X-Forwarded-For": "198.51.100.23"}
    return {**h, "X-Request-ID": request_id} if request_id else h


async def ops_audit_verify(url: str) -> tuple[int, dict]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "ops", "audit", "verify", "--database-url", url,
                                                cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, json.loads(out.decode().strip().splitlines()[-1])


async def anchored(kafka_settings, seq: int) -> bool | None:
    """True once an anchor of the head at `seq` is on the test's anchors topic."""
    return True if any(a.seq == seq for a in await read_anchors(kafka_settings)) else None


def forge(url: str) -> None:
    """Recompute every hash from the first record on, as a forger who can write the database would."""
    engine = make_engine(url)
    with session_factory(engine).begin() as s:
        rows = list(stored_rows(s))
        prev = rows[0][2]
        for seq, rec, _ in rows[1:]:
            prev = link(prev, rec)
            s.execute(update(record).where(record.c.seq == seq).values(hash=prev))
        s.execute(update(chain).where(chain.c.id == 1).values(head_hash=prev))
    engine.dispose()


def dropped(service: str) -> float:
    return REGISTRY.get_sample_value("whale_audit_records_dropped_total", {"service": service}) or 0.0


async def test_records_from_a_service_are_chained_queried_exported_verified_and_replayed(
        kafka_settings, pg_database, poll, monkeypatch):
    await ensure_topics(kafka_settings, [kafka_settings.topic(t) for t in (*topics.UPSTREAM_TOPICS, topics.CRM_ASSIGNMENT,
                                                                          topics.CRM_CUSTOMER, topics.CRM_AUDIT)])
    # `ops` subprocesses read this test's topics (the anchors, the replay)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", kafka_settings.topic_prefix)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_settings.bootstrap_servers)
    audit_url = pg_database("audit")
    audit = audit_bootstrap(AuditSettings(database_url=audit_url, kafka=kafka_settings, auth=AUTH,
                                          audit_emit=AuditEmitSettings(enabled=False), anchor_interval_s=0.2))
    customer = customer_bootstrap(CustomerSettings(database_url=pg_database("cust"), kafka=kafka_settings, auth=AUTH,
                                                   audit_emit=AuditEmitSettings(enabled=True)))
    producer = EventProducer(kafka_settings, client_id="test")
    await producer.start()
    cust = httpx.AsyncClient(transport=httpx.ASGITransport(app=customer.api), base_url="http://t")
    aud = httpx.AsyncClient(transport=httpx.ASGITransport(app=audit.api), base_url="http://t")
    auditor = bearer("auditor", "audit-1")
    try:
        async with running(audit), running(customer):
            await producer.publish(registry.envelope(CustomerRegistered(
                customer_id="C-77", registered_at=datetime(2026, 1, 5, tzinfo=UTC), channel="organic",
                name="Pat Doe", phone_dialing_code="+852", phone_number="91234567", email="pat@example.com"),
                producer="brokerage-test"))

            async def registered():
                assert (await cust.get("/customers/C-77", headers=bearer("auditor", "audit-1"))).status_code == 200
                return True

            await poll(registered, timeout=30, message="customer registered")
            r = await cust.post("/customers/C-77/remarks", json={"text": "called, interested"},
                                headers=bearer("admin", "A-1", "req-remark-1"))
            assert r.status_code == 201, r.text
            assert (await cust.get("/customers/C-77", headers=bearer("admin", "A-1", "req-pii-1"))).status_code == 200
            assert (await cust.get("/customers/export", headers=bearer("manager", "M-9", "req-export-1"))).status_code == 403
            await customer.api.state.audit.flush()

            async def chained():
                body = (await aud.get("/audit/records", params={"service": "customer"}, headers=auditor)).json()
                # the auditor's own reads of the detail (masked) are not audited: three records
                assert len(body["items"]) == 3, body
                return body["items"]

            items = await poll(chained, timeout=30, message="records in the audit store")
            by_action = {i["action"]: i for i in items}
            remark = by_action["customer.remarks.create"]
            assert (remark["staff_id"], remark["roles"], remark["kind"], remark["method"], remark["route"],
                    remark["customer_id"], remark["status"], remark["outcome"], remark["client_ip"],
                    remark["correlation_id"]) == (
                "A-1", ["admin"], "write", "POST", "/customers/{customer_id}/remarks", "C-77", 201, "allowed",
                "198.51.100.23", "req-remark-1")
            pii = by_action["customer.pii.read"]
            assert (pii["kind"], pii["customer_id"], pii["route"], pii["correlation_id"]) == (
                "pii_read", "C-77", "/customers/{customer_id}", "req-pii-1")
            refused = by_action["customer.export.read"]
            assert (refused["kind"], refused["staff_id"], refused["status"], refused["outcome"]) == (
                "refusal", "M-9", 403, "denied")
            text_of_records = json.dumps(items)
            assert "Pat Doe" not in text_of_records and "91234567" not in text_of_records  # ids only

            # filters, pages, the CSV export, the chain's check
            only = (await aud.get("/audit/records", params={"customer_id": "C-77", "outcome": "allowed"},
                                  headers=auditor)).json()["items"]
            assert {i["action"] for i in only} == {"customer.remarks.create", "customer.pii.read"}
            page = (await aud.get("/audit/records", params={"limit": 2}, headers=auditor)).json()
            rest = (await aud.get("/audit/records", params={"limit": 2, "cursor": page["next_cursor"]},
                                  headers=auditor)).json()
            assert [i["seq"] for i in page["items"] + rest["items"]] == [3, 2, 1]
            export = await aud.get("/audit/records/export", params={"staff_id": "A-1"}, headers=auditor)
            rows = list(csv.DictReader(io.StringIO(export.text)))
            assert export.headers["content-type"].startswith("text/csv")
            assert [(r["seq"], r["action"]) for r in rows] == [(str(remark["seq"]), "customer.remarks.create"),
                                                              (str(pii["seq"]), "customer.pii.read")]
            assert (await aud.get("/audit/records", headers=bearer("manager", "M-9"))).status_code == 403
            await poll(lambda: anchored(kafka_settings, 3), timeout=30, message="the head anchored")
            verdict = (await aud.get("/audit/verify", headers=auditor)).json()
            assert verdict.pop("anchors_checked") >= 1, verdict  # the head at 3, maybe earlier ones
            assert verdict == {
                "ok": True, "checked": 3, "anchor_seq": 0, "head_seq": 3, "first_broken_seq": None, "reason": None}

            # one record delivered twice (a re-published spool row): stored once
            twice = AuditRecord(record_id=uuid.uuid4(), staff_id="A-1", roles=["admin"], action="customer.export",
                                kind=AuditKind.export, service="customer", method="GET", route="/customers/export",
                                at=datetime.now(UTC), status=200, outcome=AuditOutcome.allowed)
            envelope = registry.envelope(twice, producer="customer", event_id=twice.record_id)
            await producer.publish(envelope)
            await producer.publish(envelope)

            async def once():
                body = (await aud.get("/audit/records", headers=auditor)).json()["items"]
                assert [i["record_id"] for i in body].count(str(twice.record_id)) == 1 and len(body) == 4, body
                return True

            await poll(once, timeout=30, message="duplicate stored once")
            await poll(lambda: anchored(kafka_settings, 4), timeout=30, message="the new head anchored")
        assert dropped("customer") == 0

        code, verdict = await ops_audit_verify(audit_url)
        assert (code, verdict["ok"], verdict["checked"]) == (0, True, 4) and verdict["anchors_checked"] >= 2

        # replay: the topic from offset 0 into the emptied store gives the same chain (ops rebuild --verify)
        tables = await ops_rebuild_verified("audit", audit_url)
        assert tables["audit_record"]["rows_after"] == 4 and tables["audit_chain"]["equal"]

        # tampering with a stored row: verify names its sequence number
        engine = create_engine(normalise_url(audit_url))
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_record SET customer_id = 'C-1' WHERE seq = 2"))
        engine.dispose()
        code, verdict = await ops_audit_verify(audit_url)
        assert (code, verdict["ok"], verdict["first_broken_seq"]) == (1, False, 2)

        # ... and the same row changed by someone who also recomputes every later hash and the head: the chain
        # alone verifies again, the anchors published before (seq 4 at least) do not match it any more
        forge(audit_url)
        with session_factory(make_engine(audit_url))() as s:
            assert verify_store(s).ok  # the chain alone: consistent
        code, verdict = await ops_audit_verify(audit_url)
        assert (code, verdict["ok"]) == (1, False), verdict
        assert 2 <= verdict["first_broken_seq"] <= 4 and "anchor" in verdict["reason"], verdict
    finally:
        await customer.api.state.audit.stop()
        await cust.aclose()
        await aud.aclose()
        await producer.stop()
