"""Existing-customer matching through the real broker and PostgreSQL, with the services that follow a merge:
customer (matching, review queue), tasks and summary, each with its own database and worker.

- a registration whose ID number matches an existing customer converts it: one customer in the list (the
  merged id answers 301 to the survivor), the merged record's open task is cancelled (the survivor's stays
  the customer's only follow-up), the summary counts one customer;
- a probable duplicate (same name and date of birth) is queued; a reviewer merges it: every read model follows;
  an unmerge restores both;
- `ops rebuild <svc> --verify` proves each service's rebuilt read model equal to the live one."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from services.customer.bootstrap import bootstrap as customer_bootstrap
from services.customer.settings import CustomerSettings
from services.summary.bootstrap import bootstrap as summary_bootstrap
from services.summary.settings import SummarySettings
from services.tasks.bootstrap import bootstrap as tasks_bootstrap
from services.tasks.settings import TasksSettings
from shared.events import registry, topics
from shared.events.upstream import CustomerRegistered, IdentityVerified
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings
from tests.conftest import ops_rebuild_verified

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="matching-integration-secret-0123456789")
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
MATCH_KEY = "matching-integration-index-key"
ADMIN = {"Authorization": f"Bearer {mint_token(AUTH, user_id='admin-1', role='admin')}"}


def reg(cid: str, minutes: int, name: str):
    return registry.envelope(CustomerRegistered(customer_id=cid, registered_at=T0 + timedelta(minutes=minutes),
                                                channel="organic", name=name), producer="platform-test")


def kyc(cid: str, minutes: int, number: str, name: str, dob: str = "1988-04-05"):
    return registry.envelope(IdentityVerified(customer_id=cid, verified_at=T0 + timedelta(minutes=minutes),
                                              id_type="national_id", id_issuing_country="HK", id_number=number,
                                              legal_name=name, date_of_birth=date.fromisoformat(dob)),
                             producer="platform-test")


async def test_exact_and_reviewed_merges_every_read_model_follows_and_unmerge_restores(
        kafka_settings, pg_database, poll, monkeypatch):
    k = kafka_settings
    monkeypatch.setenv("CUSTOMER_MATCH_KEY", MATCH_KEY)  # the rebuild (a subprocess) hashes with the same key
    await ensure_topics(k, [k.topic(t) for t in (*topics.UPSTREAM_TOPICS, topics.CRM_CUSTOMER, topics.CRM_ASSIGNMENT,
                                                 topics.CRM_KYC, topics.CRM_CAMPAIGNS, topics.CRM_TASKS)])
    urls = {name: pg_database(name) for name in ("customer", "tasks", "summary")}
    customer = customer_bootstrap(CustomerSettings(database_url=urls["customer"], kafka=k, auth=AUTH,
                                                   relay_interval_ms=50, match_key=MATCH_KEY))
    tasks = tasks_bootstrap(TasksSettings(database_url=urls["tasks"], kafka=k, auth=AUTH, relay_interval_ms=50))
    summary = summary_bootstrap(SummarySettings(database_url=urls["summary"], kafka=k, auth=AUTH))
    producer = EventProducer(k, client_id="matching-test")
    await producer.start()
    u = uuid.uuid4().hex[:6]
    old, new, p1, p2 = f"old{u}", f"new{u}", f"p1{u}", f"p2{u}"
    try:
        async with AsyncExitStack() as stack:
            for c in (customer, tasks, summary):
                await stack.enter_async_context(running(c))
            cu = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=customer.api), base_url="http://customer", headers=ADMIN))
            ta = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=tasks.api), base_url="http://tasks", headers=ADMIN))
            sm = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=summary.api), base_url="http://summary", headers=ADMIN))

            async def listed() -> set[str]:
                r = await cu.get("/customers", params={"limit": 200})
                return {i["customer_id"] for i in r.json()["items"]}

            async def open_tasks(cid: str) -> list[str]:
                r = await ta.get("/tasks", params={"customer_id": cid, "status": "open", "view": "all"})
                assert r.status_code == 200, r.text
                return [t["node"] for t in r.json()["items"]]

            async def registered_count() -> int:
                r = await sm.get("/dashboard/nodes")
                return r.json()["customers_per_stage"]["registered"] if r.status_code == 200 else -1

            # ---- the existing customer, then a registration with the same ID number: converted
            await producer.publish_many([reg(old, 0, "Existing Person"), kyc(old, 1, "A123456(7)", "Chan Tai Man")])
            await poll(lambda: _eq(open_tasks(old), ["tmt_registration"]), timeout=60, message="old's task")
            await poll(lambda: _eq(registered_count(), 1), timeout=60, message="summary counts old")
            await producer.publish_many([reg(new, 90, "New Registration"),
                                         kyc(new, 91, "A1234567", "CHAN Tai-man")])
            async def redirected() -> httpx.Response | None:
                r = await cu.get(f"/customers/{new}")
                return r if r.status_code == 301 else None

            r = await poll(redirected, timeout=60, message="the registration merged into the existing customer")
            assert r.headers["location"] == old and await listed() == {old}
            assert r.json()["type"] == "urn:whale-crm:problem:customer:merged"
            detail = (await cu.get(f"/customers/{old}")).json()
            assert detail["merge"]["merged_ids"] == [new]
            await poll(lambda: _eq(open_tasks(new), []), timeout=60, message="the merged record's task cancelled")
            assert await open_tasks(old) == ["tmt_registration"]  # one follow-up for the customer
            await poll(lambda: _eq(registered_count(), 1), timeout=60, message="summary counts one customer")
            counts = (await cu.get("/customers/counts")).json()
            assert counts["total"] == 1

            # ---- a probable duplicate: queued, reviewed, merged, every read model follows, then unmerged
            await producer.publish_many([reg(p1, 200, "Lee Ka Yan"), kyc(p1, 201, "B7654321", "Lee Ka Yan", "1990-01-02")])
            await poll(lambda: _eq(listed(), {old, p1}), timeout=60, message="p1 listed")
            await producer.publish_many([reg(p2, 300, "Ka Yan Lee"), kyc(p2, 301, "Z9999999", "LEE Ka Yan", "1990-01-02")])

            async def pending() -> list[tuple[str, str]]:
                r = await cu.get("/customer-matches")
                return [(i["customer_id"], i["candidate_id"]) for i in r.json()["items"]]

            await poll(lambda: _eq(pending(), [(p2, p1)]), timeout=60, message="the suspected pair queued")
            assert await listed() == {old, p1, p2}  # nothing merged yet
            await poll(lambda: _eq(registered_count(), 3), timeout=60, message="summary counts three")
            await poll(lambda: _eq(open_tasks(p2), ["tmt_registration"]), timeout=60, message="p2's task")
            r = await cu.post(f"/customer-matches/{p2}/{p1}/merge", json={"comment": "same person, new phone"})
            assert r.status_code == 200 and r.json()["reason"] == "review:name_dob"
            assert await listed() == {old, p1} and await pending() == []
            await poll(lambda: _eq(open_tasks(p2), []), timeout=60, message="p2's task cancelled")
            await poll(lambda: _eq(registered_count(), 2), timeout=60, message="summary counts p1 and old")

            r = await cu.post(f"/customers/{p2}/unmerge", json={"comment": "not the same after all"})
            assert r.status_code == 200 and r.json()["survivor_id"] == p1
            assert await listed() == {old, p1, p2}
            await poll(lambda: _eq(open_tasks(p2), ["tmt_registration"]), timeout=60, message="p2's task again")
            await poll(lambda: _eq(registered_count(), 3), timeout=60, message="summary counts three again")
            await poll(lambda: _relay_done(customer), timeout=30, message="customer relay published all")
            await poll(lambda: _relay_done(tasks), timeout=30, message="tasks relay published all")
            # the summary's read model, compared with its rebuild below, must hold all that was published:
            # the last task events reach it a batch after the tasks relay published them
            await poll(lambda: _summary_caught_up(summary), timeout=60, message="summary applied all")
    finally:
        await producer.stop()
    # replay equality for every service touched (the workers stopped)
    found = await ops_rebuild_verified("customer", urls["customer"])
    assert found["customer_match_key"]["rows_after"] >= 3 and found["customer_match_review"]["rows_after"] == 1
    await ops_rebuild_verified("tasks", urls["tasks"])
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", k.topic_prefix)  # the summary rebuilds by replaying the topics
    await ops_rebuild_verified("summary", urls["summary"])


async def _eq(value, expected) -> bool:
    got = await value
    return (sorted(got) if isinstance(got, list) else got) == (sorted(expected) if isinstance(expected, list)
                                                                else expected)


async def _summary_caught_up(container) -> bool:
    """The summary's consumer has committed (after applying) up to the end of every topic it reads."""
    from services.summary.consumers import CONSUMER, consumed_topics
    from shared.runtime.replay import at_end, end_offsets, group_offsets

    k = container.settings.kafka
    ends = await end_offsets(k, consumed_topics(container.settings))
    return at_end({}, await group_offsets(k, k.topic_prefix + CONSUMER), ends)


async def _relay_done(container) -> bool:
    last = container.app.process_recorder.max_notification_id() or 0
    return container.relay is None or (await _position(container.relay)) >= last


async def _position(relay) -> int:
    import asyncio

    return await asyncio.to_thread(relay.position)
