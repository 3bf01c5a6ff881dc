"""Keycloak's failed logins collected as audit records (services/audit/signins.py), against a fake Keycloak
(httpx.MockTransport: the token endpoint, the realm's events and users as Keycloak 26 answers them; the real one
is exercised by the e2e sign-in test): the record's fields, the staff id of an existing account only, once per
event however often it is read, the token fetched again when refused."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from services.audit.settings import AuditSettings
from services.audit.signins import KeycloakSignInCollector
from shared.runtime.settings import KafkaSettings

T = 1_796_390_712_544  # ms


def event(n: int, at: int, error: str, user_id: str | None, username: str) -> dict:
    e = {"id": f"00000000-0000-0000-0000-{n:012d}", "time": at, "type": "LOGIN_ERROR", "realmId": "r",
         "clientId": "whale-console", "ipAddress": "203.0.113.9", "error": error,
         "details": {"auth_method": "openid-connect", "username": username}}
    if user_id:
        e["userId"] = user_id
    return e


class FakeKeycloak:
    def __init__(self) -> None:
        self.events: list[dict] = []
        self.tokens = 0
        self.user_reads: list[str] = []
        self.valid = "token-1"
        self.seen_from: list[int] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/realms/whale/protocol/openid-connect/token":
            form = parse_qs(request.content.decode())
            assert form == {"grant_type": ["client_credentials"], "client_id": ["whale-crm-audit"],
                            "client_secret": ["s3cret"]}
            self.tokens += 1
            self.valid = f"token-{self.tokens}"
            return httpx.Response(200, json={"access_token": self.valid, "expires_in": 300})
        if request.headers.get("authorization") != f"Bearer {self.valid}":
            return httpx.Response(401, json={"error": "HTTP 401 Unauthorized"})
        if path == "/admin/realms/whale/events":
            q = request.url.params
            assert q["type"] == "LOGIN_ERROR"
            since, first, most = int(q["dateFrom"]), int(q["first"]), int(q["max"])
            self.seen_from.append(since)
            found = sorted((e for e in self.events if e["time"] >= since), key=lambda e: -e["time"])  # newest first
            return httpx.Response(200, json=found[first:first + most])
        if path.startswith("/admin/realms/whale/users/"):
            uid = path.rsplit("/", 1)[1]
            self.user_reads.append(uid)
            if uid == "gone":
                return httpx.Response(404, json={"error": "User not found"})
            return httpx.Response(200, json={"id": uid, "username": "m-hk-2", "attributes": {"staff_id": ["M-HK-2"]}})
        return httpx.Response(404)


class Producer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, object]] = []

    async def publish_many(self, envelopes, *, topic=None) -> None:
        self.sent += [(topic, e) for e in envelopes]


def collector(kc: FakeKeycloak, producer: Producer) -> KeycloakSignInCollector:
    settings = AuditSettings(keycloak_url="http://kc.test/", keycloak_client_secret=SecretStr("s3cret"),
                             kafka=KafkaSettings(topic_prefix="t."))
    c = KeycloakSignInCollector(settings, producer,  # type: ignore[arg-type]
                                http=httpx.AsyncClient(transport=httpx.MockTransport(kc.handler)))
    c.since_ms = T - 60_000  # (the lookback from now would miss the fixed times)
    return c


@pytest.mark.asyncio
async def test_failed_logins_become_audit_records_once_each():
    kc, producer = FakeKeycloak(), Producer()
    kc.events = [event(1, T, "invalid_user_credentials", "u-2", "m-hk-2"),
                 event(2, T + 10, "user_not_found", None, "someone@example.com")]
    c = collector(kc, producer)
    assert await c.collect_once() == 2
    topic, first = producer.sent[0]
    record = json.loads(first.model_dump_json())
    assert topic == "t.crm.audit.records" and record["event_type"] == "crm.audit.record"
    p = record["payload"]
    assert (p["staff_id"], p["action"], p["kind"], p["outcome"], p["status"], p["service"], p["client_ip"]) == (
        "M-HK-2", "auth.sign_in_failed.invalid_user_credentials", "sign_in", "denied", 401, "keycloak", "203.0.113.9")
    assert datetime.fromisoformat(p["at"]) == datetime.fromtimestamp(T / 1000, UTC)
    assert record["event_id"] == p["record_id"]
    unknown = json.loads(producer.sent[1][1].model_dump_json())["payload"]
    assert unknown["staff_id"] is None and unknown["action"] == "auth.sign_in_failed.user_not_found"
    assert "someone@example.com" not in producer.sent[1][1].model_dump_json()  # what was typed is never recorded

    # read again (the overlap before the newest event): nothing published twice; a new one is
    assert await c.collect_once() == 0 and kc.seen_from[-1] == T + 10 - 5_000
    kc.events.append(event(3, T + 20_000, "invalid_user_credentials", "u-2", "m-hk-2"))
    assert await c.collect_once() == 1 and len(producer.sent) == 3
    assert kc.user_reads == ["u-2"]  # each account's staff id read once

    # after a restart the same events give the same record ids: the audit store keeps each once
    again = Producer()
    await collector(kc, again).collect_once()
    assert [e.event_id for _, e in again.sent] == [e.event_id for _, e in producer.sent]
    assert all(isinstance(e.event_id, uuid.UUID) for _, e in again.sent)


@pytest.mark.asyncio
async def test_a_refused_token_is_fetched_again_and_a_deleted_account_has_no_staff_id():
    kc, producer = FakeKeycloak(), Producer()
    kc.events = [event(1, T, "user_disabled", "gone", "m-old")]
    c = collector(kc, producer)
    assert await c.collect_once() == 1 and kc.tokens == 1
    kc.valid = "revoked"  # Keycloak restarted, the cached token no longer valid
    kc.events.append(event(2, T + 100, "invalid_user_credentials", "u-2", "m-hk-2"))
    assert await c.collect_once() == 1 and kc.tokens == 2
    payloads = [json.loads(e.model_dump_json())["payload"] for _, e in producer.sent]
    assert [(p["staff_id"], p["action"]) for p in payloads] == [
        (None, "auth.sign_in_failed.user_disabled"), ("M-HK-2", "auth.sign_in_failed.invalid_user_credentials")]


@pytest.mark.asyncio
async def test_keycloak_away_is_retried_and_then_loud(monkeypatch):
    """Keycloak does not answer: first a grace period (a provider starting beside the worker), then each poll
    fails (a WARNING) and the sixth makes the worker unready with one ERROR (component_stalled); the next success
    recovers it."""
    kc, producer = FakeKeycloak(), Producer()
    down = [True]

    def handler(request: httpx.Request) -> httpx.Response:
        if down[0]:
            raise httpx.ConnectError("connection refused")
        return kc.handler(request)

    settings = AuditSettings(keycloak_url="http://kc.test", keycloak_client_secret=SecretStr("s3cret"),
                             keycloak_poll_s=0.01, keycloak_startup_grace_s=0.2)
    c = KeycloakSignInCollector(settings, producer,  # type: ignore[arg-type]
                                http=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    task = asyncio.create_task(c.run())
    await asyncio.sleep(0.1)
    assert c.health.failures == 0  # within the grace period
    for _ in range(500):
        if c.health.stalled:
            break
        await asyncio.sleep(0.01)
    assert c.health.stalled and c.health.failures >= 6
    down[0] = False
    for _ in range(500):
        if not c.health.stalled:
            break
        await asyncio.sleep(0.01)
    assert not c.health.stalled
    await c.stop()
    await asyncio.wait_for(task, 5)
