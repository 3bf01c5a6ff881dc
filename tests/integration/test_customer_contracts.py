"""Hostile and evolving upstream records through the customer service on the real broker and PostgreSQL:
a pathological record is dead-lettered with its reason and the next record is applied; unknown payload
fields are kept with the stored fact; a newer schema version is dead-lettered and re-driven after the
upgrade with `python -m ops dlq redrive --reason unknown_schema_version`."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from test_customer_pipeline import Service, producer  # noqa: F401 - same directory; the fixture is used by name

from ops import __main__ as ops_cli
from ops import kafka_ops
from services.customer.domain.customer import FACT_EVENTS, customer_uuid
from shared.events import Contract, encode, registry, topics
from shared.events.rawjson import Limits
from shared.events.upstream import CustomerRegistered, ProfileUpdated

pytestmark = pytest.mark.asyncio


def registered(cid: str, **extra: Any) -> bytes:
    env = registry.envelope(CustomerRegistered(customer_id=cid, registered_at=datetime(2026, 11, 1, tzinfo=UTC),
                                               channel="organic", name="Before"), producer="platform")
    record = json.loads(encode(env))
    record["payload"].update(extra)  # what a newer platform build sends
    return json.dumps(record).encode()


def stored_facts(svc: Service, cid: str) -> list[dict[str, Any]]:
    events = svc.container.app.repository.event_store.get(customer_uuid(cid))
    return [e.fact for e in events if isinstance(e, FACT_EVENTS)]


async def dead_letters(kafka_settings, expect: int) -> list[kafka_ops.DeadLetter]:
    letters = await kafka_ops.read_dead_letters(kafka_settings, "customer")
    return letters if len(letters) >= expect else None  # type: ignore[return-value]


async def test_a_pathological_record_is_dead_lettered_and_the_next_one_applied(
        kafka_settings, producer, pg_database, poll, monkeypatch):  # noqa: F811
    monkeypatch.setattr(registry, "limits", Limits(max_bytes=250_000, max_depth=32))
    topic, cid = kafka_settings.topic(topics.REGISTRATION), f"c-{uuid.uuid4().hex[:8]}"
    deep = b'{"event_type": "registration.customer_registered", "payload": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert len(deep) < 250_000
    await producer.send_raw(topic, deep, key=cid.encode())
    await producer.send_raw(topic, registered(cid, note="x" * 300_000), key=cid.encode())  # over the limit
    await producer.send_raw(topic, registered(cid), key=cid.encode())
    svc = await Service(kafka_settings, pg_database("hostile")).start()
    try:
        async def applied():
            return (await svc.get(f"/customers/{cid}")).status_code == 200

        await poll(applied, timeout=45, message="the good record after the poison ones is applied")
        letters = await poll(lambda: dead_letters(kafka_settings, 2), message="both dead-lettered")
        assert [(d.record["error"]["reason"], d.record["error"]["field"]) for d in letters] == [
            ("too_deep", "$"), ("too_large", "$")]
        assert all(d.summary()["original"].startswith(topic + ":") for d in letters)
        assert all(svc.tasks) and not any(t.done() for t in svc.tasks)  # every worker component still runs
    finally:
        await svc.stop()


class ProfileUpdatedV2(ProfileUpdated):
    """v2 of the profile update (the upgrade this test deploys): adds a nickname."""

    nickname: str | None = None


async def test_unknown_fields_are_kept_and_a_newer_version_is_redriven_after_the_upgrade(
        kafka_settings, producer, pg_database, poll, monkeypatch):  # noqa: F811
    reg_topic, cid = kafka_settings.topic(topics.REGISTRATION), f"c-{uuid.uuid4().hex[:8]}"
    await producer.send_raw(reg_topic, registered(cid, kyc_tier="gold", device={"os": "ios", "v": 18}),
                            key=cid.encode())
    newer = json.loads(encode(registry.envelope(ProfileUpdated(
        customer_id=cid, updated_at=datetime(2026, 11, 2, tzinfo=UTC), name="After"), producer="platform")))
    newer["schema_version"] = 2
    newer["payload"]["nickname"] = "Zed"
    await producer.send_raw(reg_topic, json.dumps(newer).encode(), key=cid.encode())
    svc = await Service(kafka_settings, pg_database("compat")).start()
    try:
        async def name() -> str | None:
            r = await svc.get(f"/customers/{cid}")
            return r.json()["basic"]["name"] if r.status_code == 200 else None

        await poll(lambda: name(), timeout=45, message="registration with unknown fields applied")
        facts = stored_facts(svc, cid)
        assert facts[0]["data"]["kyc_tier"] == "gold" and facts[0]["data"]["device"] == {"os": "ios", "v": 18}
        letters = await poll(lambda: dead_letters(kafka_settings, 1), message="v2 dead-lettered")
        assert [(d.record["error"]["reason"], d.record["error"]["field"]) for d in letters] == [
            ("unknown_schema_version", "schema_version")]
        assert await name() == "Before"

        # ---- the upgrade: this build now knows v2 (a v1 record is upcast to it)
        versions = registry._contracts["registration.profile_updated"]  # noqa: SLF001
        monkeypatch.setitem(versions, 2, Contract("registration.profile_updated", 2, topics.REGISTRATION,
                                                  "customer_id", ProfileUpdatedV2))
        monkeypatch.setitem(registry._upcasters, ("registration.profile_updated", 1), dict)  # noqa: SLF001
        monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_settings.bootstrap_servers)
        monkeypatch.setenv("KAFKA_TOPIC_PREFIX", kafka_settings.topic_prefix)
        args = ops_cli.parser().parse_args(["dlq", "redrive", "customer", "--reason", "unknown_schema_version"])
        assert await ops_cli.cmd_dlq(args) == 0

        async def upgraded():
            return await name() == "After"

        await poll(upgraded, timeout=30, message="re-driven v2 applied")
        fact = stored_facts(svc, cid)[-1]
        assert fact["type"] == "registration.profile_updated" and fact["data"]["nickname"] == "Zed"
    finally:
        await svc.stop()
