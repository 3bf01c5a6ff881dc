"""Tasks service through the real broker and real PostgreSQL (its one database: event store and read models):
upstream CRM events in, tasks out of the API, follow-ups published on crm.tasks.events, tickets, reassignment,
dead letters, replay, rebuild from the store (`ops rebuild tasks --verify`)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr

from services.tasks.bootstrap import bootstrap
from services.tasks.settings import TasksSettings
from shared.events import registry, topics
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned
from shared.events.crm_campaigns import (
    AudienceFilter,
    CampaignClosed,
    CampaignCreated,
    CampaignPlan,
    CampaignStatus,
    CampaignUpdated,
    DistributionMethod,
    TargetFollowUpRequested,
)
from shared.events.crm_customer import CustomerOnboarded, FundsMoved, StageChanged
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings
from tests.conftest import ops_rebuild_verified

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret=SecretStr("tasks-test-secret-tasks-test-secret"))
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def token(user: str, role: str = "manager", team: str | None = "team-a", **kw) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id=team, **kw)}"}


def env(payload, **kw):
    return registry.envelope(payload, producer="test", **kw)


def registered(cid: str):
    return env(CustomerOnboarded(customer_id=cid, registered_at=T0, channel="app", name="Alice Example"))


def assigned(cid: str, manager: str, team: str | None = "team-a", at: datetime = T0):
    return env(CustomerAssigned(customer_id=cid, manager_id=manager, team_id=team, reason="rule", assigned_at=at))


def stage(cid: str, to: str, frm: str | None = None, at: datetime = T0):
    return env(StageChanged(customer_id=cid, from_stage=frm, to_stage=to, changed_at=at,
                            cause_event_id=uuid.uuid4().hex, cause_event_type="test.fact"))


def customer_id() -> str:
    return f"c{uuid.uuid4().hex[:12]}"


@pytest.fixture()
async def service(kafka_settings, pg_database):
    settings = TasksSettings(database_url=pg_database("tasks"), kafka=kafka_settings, auth=AUTH,
                             relay_interval_ms=50)
    await ensure_topics(kafka_settings, [kafka_settings.topic(t) for t in (
        topics.CRM_CUSTOMER, topics.CRM_ASSIGNMENT, topics.CRM_KYC, topics.CRM_CAMPAIGNS, topics.CRM_TASKS,
        topics.dead_letter_topic("tasks"))])
    container = bootstrap(settings)
    async with running(container):
        yield container


@pytest.fixture()
async def producer(kafka_settings):
    p = EventProducer(kafka_settings, client_id="tasks-test")
    await p.start()
    yield p
    await p.stop()


@pytest.fixture()
async def api(service):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service.api), base_url="http://tasks") as c:
        yield c


async def tasks_of(api, cid: str, status: str = "open", headers=None, view: str = "mine") -> list[dict]:
    r = await api.get("/tasks", params={"customer_id": cid, "status": status, "view": view},
                      headers=headers or token("m1"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def read_topic(kafka_settings, topic: str, until, poll, timeout: float = 30) -> list[dict]:
    """Every record of `topic` once `until(records)` holds."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_settings.bootstrap_servers, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    seen: list[dict] = []
    try:
        async def check():
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                seen.extend(json.loads(r.value) for r in recs)
            return until(seen)

        await poll(check, timeout=timeout, message=f"records on {topic}")
    finally:
        await consumer.stop()
    return seen


async def test_stage_flow_creates_converts_and_deduplicates(service, producer, api, poll, kafka_settings):
    cid = customer_id()
    to_pending_funding = stage(cid, "pending_funding", "pending_account_opening", T0 + timedelta(days=2))
    await producer.publish_many([registered(cid), stage(cid, "registered")])
    await producer.publish(assigned(cid, "m1"))
    await producer.publish(stage(cid, "pending_account_opening", "registered", T0 + timedelta(days=1)))

    async def pending_opening():
        items = await tasks_of(api, cid)
        return [t for t in items if t["node"] == "pending_account_opening"]

    [task] = await poll(pending_opening, timeout=40, message="pending account opening task")
    assert task["assignee_id"] == "m1" and task["team_id"] == "team-a"
    assert datetime.fromisoformat(task["due_at"]) == T0 + timedelta(days=2)  # 24 h after the fact
    detail = (await api.get(f"/tasks/{task['task_id']}", headers=token("m1"))).json()
    assert detail["customer"]["name"] == "A*** E***"  # masked without CustomerPiiRead
    assert detail["customer"]["manager_id"] == "m1"
    admin = await api.get(f"/tasks/{task['task_id']}", headers=token("boss", role="admin"))
    assert admin.json()["customer"]["name"] == "Alice Example"
    assert (await api.get(f"/tasks/{task['task_id']}", headers=token("m2"))).status_code == 404

    await producer.publish(to_pending_funding)
    await producer.publish(to_pending_funding)  # the same event again (an upstream retry)

    async def moved_on():
        items = await tasks_of(api, cid)
        return [t for t in items if t["node"] == "pending_funding"]

    [funding] = await poll(moved_on, message="pending funding task")
    # (The registration task may have been converted before the assignment reached it: view=all.)
    converted = await tasks_of(api, cid, status="converted", view="all", headers=token("boss", role="admin"))
    assert {t["node"] for t in converted} == {"tmt_registration", "pending_account_opening"}
    # Replaying the whole history again creates nothing new.
    await producer.publish(to_pending_funding)
    late = stage(cid, "pending_account_opening", "registered", T0 + timedelta(days=1))  # late, stale stage
    await producer.publish(late)
    marker = customer_id()
    await producer.publish_many([assigned(marker, "m1"), stage(marker, "registered")])
    await poll(lambda: tasks_of(api, marker), message="marker processed after the duplicates")
    assert [t["task_id"] for t in await tasks_of(api, cid)] == [funding["task_id"]]
    counts = {c["node"]: c for c in (await api.get("/tasks/counts", headers=token("m1"))).json()}
    assert counts["pending_funding"]["open"] == 1 and counts["tmt_registration"]["open"] == 1
    assert counts["pending_funding"]["overdue"] == 1  # due two days after a 2026-11-03 fact: long past
    overdue = await api.get("/tasks", params={"overdue": "true", "node": "pending_funding"}, headers=token("m1"))
    assert [t["task_id"] for t in overdue.json()["items"]] == [funding["task_id"]]

    records = await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_TASKS),
                               lambda rs: sum(r["event_type"] == "crm.tasks.task_created"
                                              and r["payload"]["customer_id"] == cid for r in rs) >= 3, poll)
    created = [r for r in records if r["event_type"] == "crm.tasks.task_created"
               and r["payload"]["customer_id"] == cid]
    assert len(created) == 3 and len({r["event_id"] for r in created}) == 3


async def test_follow_up_completes_task_and_is_published(service, producer, api, poll, kafka_settings):
    cid = customer_id()
    await producer.publish_many([registered(cid), assigned(cid, "m1"), stage(cid, "registered")])
    [task] = await poll(lambda: tasks_of(api, cid), timeout=40, message="registration task")
    next_at = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    body = {"intent": "interested", "tier": "A", "contact_methods": ["phone", "wechat"],
            "next_follow_up_at": next_at.isoformat(), "tags": ["vip"], "remarks": "call back after payday"}
    r = await api.post(f"/tasks/{task['task_id']}/follow-ups", json=body, headers=token("m1"))
    assert r.status_code == 201, r.text
    recorded = r.json()
    assert recorded["completed_task_id"] == task["task_id"] and recorded["scheduled_task_id"]

    async def completed_and_scheduled():
        done = await tasks_of(api, cid, status="completed")
        open_ = await tasks_of(api, cid)
        return done and open_ and (done, open_)

    done, open_ = await poll(completed_and_scheduled, message="task completed, next follow-up scheduled")
    assert done[0]["task_id"] == task["task_id"]
    assert open_[0]["node"] == "scheduled_follow_up" and open_[0]["due_at"].startswith(next_at.date().isoformat())
    again = await api.post(f"/tasks/{task['task_id']}/follow-ups", json={"remarks": "x"}, headers=token("m1"))
    assert again.status_code == 409

    history = await poll(lambda: _history(api, cid), message="follow-up in history")
    assert history[0]["follow_up_id"] == recorded["follow_up_id"]
    assert history[0]["contact_methods"] == ["phone", "wechat"] and history[0]["task_id"] == task["task_id"]
    assert (await api.get(f"/customers/{cid}/follow-ups", headers=token("m2"))).status_code == 404

    records = await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_TASKS),
                               lambda rs: any(r["event_type"] == "crm.tasks.follow_up_recorded" for r in rs), poll)
    [published] = [r for r in records if r["event_type"] == "crm.tasks.follow_up_recorded"]
    assert published["payload"]["customer_id"] == cid and published["payload"]["manager_id"] == "m1"
    assert published["payload"]["task_id"] == task["task_id"]
    assert published["event_id"] and published["partition_key"] == cid
    closed = [r for r in records if r["event_type"] == "crm.tasks.task_closed"]
    assert any(r["payload"]["outcome"] == "completed" for r in closed)

    bad = await api.post(f"/customers/{cid}/follow-ups", json={"contact_methods": ["pigeon"]}, headers=token("m1"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("contact_methods")
    past = await api.post(f"/customers/{cid}/follow-ups", json={"next_follow_up_at": "2020-01-01T00:00:00Z"},
                          headers=token("m1"))
    assert past.status_code == 422 and "next_follow_up_at" in past.json()["detail"]
    remarks = await api.post("/follow-ups/batch-remarks", json={"customer_ids": [cid], "remarks": "newsletter"},
                             headers=token("m1"))
    assert remarks.status_code == 201
    assert (await api.post("/follow-ups/batch-remarks", json={"customer_ids": [cid, "nobody"], "remarks": "x"},
                           headers=token("m1"))).status_code == 404


async def _history(api, cid):
    r = await api.get(f"/customers/{cid}/follow-ups", headers=token("m1"))
    return r.json()["items"]


async def test_reassignment_unassignment_and_dead_letters(service, producer, api, poll, kafka_settings):
    cid = customer_id()
    await producer.publish_many([registered(cid), stage(cid, "registered")])
    await producer.publish(assigned(cid, "m1"))
    await poll(lambda: tasks_of(api, cid), timeout=40, message="task for m1")
    await producer.publish(assigned(cid, "m2", at=T0 + timedelta(hours=1)))
    [moved] = await poll(lambda: tasks_of(api, cid, headers=token("m2")), message="task moved to m2")
    assert moved["assignee_id"] == "m2" and await tasks_of(api, cid) == []
    # Poison in the middle of the stream: dead-lettered, the engine keeps going.
    await producer.send_raw(kafka_settings.topic(topics.CRM_ASSIGNMENT), b"{not json", key=cid.encode())
    await producer.publish(env(CustomerUnassigned(customer_id=cid, manager_id="m2", team_id="team-a",
                                                  reason="reclaimed", unassigned_at=T0 + timedelta(hours=2))))
    lead = token("lead", role="team_lead", team="team-a")
    [queued] = await poll(lambda: tasks_of(api, cid, headers=lead, view="queue"), message="task in team queue")
    assert queued["assignee_id"] is None and queued["team_id"] == "team-a"
    assert (await api.get("/tasks", params={"view": "team"}, headers=token("m1"))).status_code == 403
    dlq = await read_topic(kafka_settings, kafka_settings.topic(topics.dead_letter_topic("tasks")),
                           lambda rs: len(rs) >= 1, poll)
    assert dlq[0]["original"]["key"] == cid and dlq[0]["error"]["field"] == "$"
    # A large withdrawal is worth a call; a small one is not.
    for amount in ("50", "25000"):
        await producer.publish(env(FundsMoved(customer_id=cid, transaction_id=uuid.uuid4().hex,
                                              direction="withdrawal", amount=Decimal(amount), currency="USD",
                                              occurred_at=T0 + timedelta(hours=3))))
    large = await poll(lambda: _nodes(api, cid, lead, "large_withdrawal"), message="large withdrawal task")
    assert len(large) == 1


async def _nodes(api, cid, headers, node):
    return [t for t in await tasks_of(api, cid, headers=headers, view="team") if t["node"] == node]


async def test_ticket_lifecycle(service, producer, api, poll, kafka_settings):
    cid, early = customer_id(), customer_id()
    await producer.publish_many([registered(cid), assigned(cid, "m1"), stage(cid, "registered"),
                                 stage(cid, "pending_funding", "registered")])
    await producer.publish_many([registered(early), assigned(early, "m1"), stage(early, "registered")])
    await poll(lambda: tasks_of(api, early), timeout=40, message="customers projected")
    await poll(lambda: tasks_of(api, cid), message="account opened")
    m1 = token("m1")
    assert (await api.post("/tickets", json={"customer_id": early, "title": "x"}, headers=m1)).status_code == 409
    r = await api.post("/tickets", json={"customer_id": cid, "title": "Suspicious login", "category":
                                         "account_security", "priority": "high", "description": "new device"},
                       headers=m1)
    assert r.status_code == 201, r.text
    ticket = r.json()
    tid = ticket["ticket_id"]
    assert ticket["status"] == "open" and ticket["assignee_id"] == "m1"
    assert (await api.put(f"/tickets/{tid}/assignee", json={"assignee_id": "ops-7"}, headers=m1)).status_code == 200
    assert (await api.put(f"/tickets/{tid}/status", json={"status": "in_progress"}, headers=m1)).json()[
        "status"] == "in_progress"
    assert (await api.put(f"/tickets/{tid}/status", json={"status": "bogus"}, headers=m1)).status_code == 422
    c1 = (await api.post(f"/tickets/{tid}/comments", json={"body": "called the customer"}, headers=m1)).json()
    lead = token("lead", role="team_lead", team="team-a")
    c2 = (await api.post(f"/tickets/{tid}/comments", json={"body": "escalated"}, headers=lead)).json()
    assert (await api.delete(f"/tickets/{tid}/comments/{c2['comment_id']}", headers=m1)).status_code == 403
    assert (await api.delete(f"/tickets/{tid}/comments/{c1['comment_id']}", headers=m1)).status_code == 204
    assert (await api.patch(f"/tickets/{tid}", json={"priority": "urgent"}, headers=m1)).json()["priority"] == "urgent"
    assert (await api.patch(f"/tickets/{tid}", json={"owner": "x"}, headers=m1)).status_code == 422
    assert (await api.put(f"/tickets/{tid}/status", json={"status": "resolved"}, headers=m1)).status_code == 200
    assert (await api.put(f"/tickets/{tid}/status", json={"status": "closed"}, headers=m1)).status_code == 200
    assert (await api.put(f"/tickets/{tid}/status", json={"status": "open"}, headers=m1)).status_code == 409

    async def timeline():
        r = await api.get(f"/tickets/{tid}/timeline", headers=m1)
        items = r.json()
        return len(items) == 9 and items

    items = await poll(timeline, message="timeline projected")
    kinds = [i["kind"] for i in items]
    assert kinds == ["opened", "assigned", "status_changed", "comment", "comment", "comment_deleted", "edited",
                     "status_changed", "status_changed"]
    assert items[3]["deleted"] is True and items[3]["body"] is None and items[4]["body"] == "escalated"
    found = (await api.get("/tickets", params={"q": "LOGIN", "status": "closed"}, headers=m1)).json()["items"]
    assert [t["ticket_id"] for t in found] == [tid]
    assert (await api.get("/tickets", params={"assignee_id": "nobody"}, headers=m1)).json()["items"] == []
    assert (await api.get(f"/tickets/{tid}", headers=token("m9", team="team-z"))).status_code == 404
    assert (await api.delete(f"/tickets/{tid}", headers=lead)).status_code == 204
    await poll(lambda: _gone(api, tid, m1), message="deleted ticket gone")

    records = await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_TASKS),
                               lambda rs: any(r["payload"].get("change") == "deleted" for r in rs), poll)
    changes = [r["payload"]["change"] for r in records if r["event_type"] == "crm.tasks.ticket_changed"]
    assert changes.count("status_changed") == 3 and "comment_deleted" in changes
    assert all("body" not in r["payload"] and "title" not in r["payload"] for r in records)


async def _gone(api, tid, headers):
    return (await api.get(f"/tickets/{tid}", headers=headers)).status_code == 404


async def test_replay_into_empty_stores_rebuilds_the_same_tasks(kafka_settings, pg_database, producer, poll):
    await ensure_topics(kafka_settings, [kafka_settings.topic(t) for t in (
        topics.CRM_CUSTOMER, topics.CRM_ASSIGNMENT, topics.CRM_KYC, topics.CRM_TASKS)])
    cids = [customer_id() for _ in range(5)]
    for i, cid in enumerate(cids):
        await producer.publish_many([registered(cid), stage(cid, "registered"), assigned(cid, f"m{i % 2}")])
        await producer.publish(stage(cid, "pending_account_opening", "registered", T0 + timedelta(days=1)))
    await producer.send_raw(kafka_settings.topic(topics.CRM_CUSTOMER), json.dumps({"x": 1}).encode(), key=b"k")
    snapshots = []
    for label in ("first", "replay"):
        settings = TasksSettings(database_url=pg_database(f"tasks_{label}"), kafka=kafka_settings, auth=AUTH)
        container = bootstrap(settings)
        async with running(container):
            def rows(c=container):
                from sqlalchemy import select

                from services.tasks.projections.tables import tasks
                with c.sessions() as s:
                    return sorted(tuple(r) for r in s.execute(select(
                        tasks.c.task_id, tasks.c.customer_id, tasks.c.node, tasks.c.status, tasks.c.assignee_id,
                        tasks.c.due_at, tasks.c.created_at)))

            def settled(r=rows):
                got = r()  # every event applied: 10 tasks, 5 open, all attributed to their manager
                return len(got) == 10 and sum(x[3] == "open" for x in got) == 5 and all(x[4] for x in got)

            await poll(settled, timeout=40, message=f"{label}: 10 tasks, 5 open, all attributed")
            snapshots.append(rows())
    assert snapshots[0] == snapshots[1]


def _store_rows(container) -> dict[str, list[tuple]]:
    from sqlalchemy import select

    from services.tasks.projections.tables import STORE_TABLES
    with container.sessions() as s:
        return {t.name: sorted(map(tuple, s.execute(select(t))), key=repr) for t in STORE_TABLES}


async def test_rows_commit_with_their_events_and_the_store_rebuilds_them(kafka_settings, pg_database, producer, poll):
    """One database: the task, follow-up and ticket rows are written in the transaction that stores their
    events (an API write reads its own rows at once, no projection runs), and a rebuild replays the store
    through the same fold into the same rows, as `ops rebuild tasks --verify` proves."""
    await ensure_topics(kafka_settings, [kafka_settings.topic(t) for t in (
        topics.CRM_CUSTOMER, topics.CRM_ASSIGNMENT, topics.CRM_KYC, topics.CRM_TASKS,
        topics.dead_letter_topic("tasks"))])
    settings = TasksSettings(database_url=pg_database("tasks_one"), kafka=kafka_settings, auth=AUTH,
                             relay_interval_ms=50)
    cids = [customer_id() for _ in range(3)]
    for cid in cids:
        await producer.publish_many([registered(cid), assigned(cid, "m1"), stage(cid, "registered")])
    await producer.publish(stage(cids[1], "pending_funding", "registered"))  # an account: tickets may be opened
    container = bootstrap(settings)
    assert container.app.read_model is not None and not hasattr(container, "projection")
    async with running(container), httpx.AsyncClient(transport=httpx.ASGITransport(app=container.api),
                                                     base_url="http://tasks") as api:
        for cid in cids:
            await poll(lambda c=cid: tasks_of(api, c), timeout=40, message="registration task")

        async def funding():
            return [t for t in await tasks_of(api, cids[1]) if t["node"] == "pending_funding"]

        await poll(funding, message="account opened")
        [task] = await tasks_of(api, cids[0])
        r = await api.post(f"/tasks/{task['task_id']}/follow-ups", json={"remarks": "called"}, headers=token("m1"))
        assert r.status_code == 201, r.text
        # read right after the write: the rows committed with the events
        assert [f["follow_up_id"] for f in await _history(api, cids[0])] == [r.json()["follow_up_id"]]
        assert [t["task_id"] for t in await tasks_of(api, cids[0], status="completed")] == [task["task_id"]]
        t = await api.post("/tickets", json={"customer_id": cids[1], "title": "Call back"}, headers=token("m1"))
        assert t.status_code == 201, t.text
        tid = t.json()["ticket_id"]
        assert (await api.post(f"/tickets/{tid}/comments", json={"body": "left a voicemail"},
                               headers=token("m1"))).status_code == 201
        assert [i["kind"] for i in (await api.get(f"/tickets/{tid}/timeline", headers=token("m1"))).json()] == [
            "opened", "comment"]
        # published from memory after the commits
        records = await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_TASKS),
                                   lambda rs: any(x["event_type"] == "crm.tasks.ticket_changed" for x in rs), poll)
        assert sum(x["event_type"] == "crm.tasks.task_created" for x in records) == 4
    # the workers stopped: rebuild from the store, in-process, then with the operator's command
    offline = bootstrap(settings)
    try:
        live = _store_rows(offline)
        assert len(live["tasks"]) == 4 and len(live["follow_ups"]) == 1 and len(live["ticket_timeline"]) == 2
        replayed = await asyncio.to_thread(offline.rebuild_read_model)
        assert replayed >= 3 + 4 + 1 + 2  # task lists started, tasks opened, the follow-up, the ticket's events
        assert _store_rows(offline) == live
    finally:
        await offline.stop()
    found = await ops_rebuild_verified("tasks", settings.database_url)
    assert {"tasks", "follow_ups", "tickets", "ticket_timeline", "customers"} <= set(found)
    assert found["tasks"]["rows_after"] == 4



async def test_late_older_facts_open_no_task_for_a_customer_who_moved_on(service, producer, api, poll):
    """Issue #14 item 8 on the real broker: the stage change is processed before the (older) rejection, a
    KYC resubmission before the (older) request for more information; only the current tasks stay open.
    Each customer's last event is a marker on the same key (same partition, so processed after the rest)."""
    from shared.events.crm_customer import AccountStatusChanged, TradeRecorded
    from shared.events.crm_kyc import KycCaseStateChanged

    def kyc(cid: str, case: str, state: str, hours: float):
        return env(KycCaseStateChanged(case_id=case, customer_id=cid, application_id="a1", to_state=state,
                                       changed_at=T0 + timedelta(hours=hours)))

    funded, applying = customer_id(), customer_id()
    await producer.publish_many([
        registered(funded), assigned(funded, "m1"), stage(funded, "registered"),
        stage(funded, "funded", "registered", T0 + timedelta(hours=40)),
        env(AccountStatusChanged(customer_id=funded, status="rejected", application_id="a1",
                                 changed_at=T0 + timedelta(hours=10), reason="docs")),
        env(TradeRecorded(customer_id=funded, trade_id="t1", occurred_at=T0 + timedelta(hours=50),
                          first_trade=True)),  # the marker
        registered(applying), assigned(applying, "m1"), stage(applying, "registered"),
        stage(applying, "pending_account_opening", "registered", T0 + timedelta(hours=1)),
        kyc(applying, "k1", "resubmitted", 3), kyc(applying, "k1", "more_info_requested", 2),
        kyc(applying, "k2", "more_info_requested", 4),  # the marker: another case asks, later
    ])

    async def nodes(cid: str, marker: str):
        items = await tasks_of(api, cid)
        return items if marker in {t["node"] for t in items} else None

    items = await poll(lambda: nodes(funded, "first_trade"), timeout=90, message="funded customer's marker")
    assert {t["node"] for t in items} == {"funded", "first_trade"}  # no account_rejected
    items = await poll(lambda: nodes(applying, "kyc_more_info"), timeout=90, message="applying customer's marker")
    [more_info] = [t for t in items if t["node"] == "kyc_more_info"]
    assert datetime.fromisoformat(more_info["created_at"]) == T0 + timedelta(hours=4)  # opened by k2, not the late k1


async def test_a_task_goes_to_the_owner_of_the_current_stage(service, producer, api, poll):
    """Seed 000 (different managers at different stages) on the real broker: m1 owns every stage, m2 the
    pending-funding stage; the stage change moves the open task to m2, whatever order the topics are read."""
    cid = customer_id()
    await producer.publish_many([
        registered(cid), assigned(cid, "m1"), stage(cid, "registered"),
        env(CustomerAssigned(customer_id=cid, manager_id="m2", team_id="team-b", stage="pending_funding",
                             share=Decimal("0.5"), reason="manual", assigned_at=T0)),
    ])
    [first] = await poll(lambda: tasks_of(api, cid), timeout=40, message="registration task for m1")
    assert first["node"] == "tmt_registration" and first["assignee_id"] == "m1"
    await producer.publish(stage(cid, "pending_funding", "registered", T0 + timedelta(hours=2)))

    async def funding_task():
        items = await tasks_of(api, cid, headers=token("m2", team="team-b"))
        return items if items and items[0]["node"] == "pending_funding" else None

    [task] = await poll(funding_task, timeout=40, message="pending-funding task for m2")
    assert (task["assignee_id"], task["team_id"]) == ("m2", "team-b")
    assert await tasks_of(api, cid) == []  # nothing left with m1
    await producer.publish(env(CustomerUnassigned(customer_id=cid, manager_id="m2", team_id="team-b",
                                                  stage="pending_funding", reason="manual",
                                                  unassigned_at=T0 + timedelta(hours=3))))
    [back] = await poll(lambda: tasks_of(api, cid), timeout=40, message="task back with the every-stage owner")
    assert (back["node"], back["assignee_id"]) == ("pending_funding", "m1")


def campaign_follow_up(cid: str, campaign: str, manager: str, **kw):
    return env(TargetFollowUpRequested(customer_id=cid, campaign_id=campaign, follow_up_id=f"{campaign}-{cid}",
                                       manager_id=manager, team_id="team-a", channels=["phone", "sms"],
                                       requested_at=T0, due_at=datetime.now(UTC) + timedelta(days=7)), **kw)


def campaign_plan(name: str) -> CampaignPlan:
    return CampaignPlan(name=name, start_at=T0, end_at=T0 + timedelta(days=30), audience=AudienceFilter(),
                        distribution=DistributionMethod.assigned_manager, channels=["phone"], metrics=["funded"],
                        attribution_window_days=30)


async def test_campaign_follow_ups_open_one_task_each_and_close_with_the_campaign(kafka_settings, pg_database,
                                                                                  producer, poll):
    """crm.campaigns.events through the real broker: one campaign_followup task per (campaign, customer) for
    the owner the campaign chose, whatever the duplicates; a follow-up completes it; the campaign's close
    cancels the ones still open; each task shows its campaign's latest name; the store rebuilds the same rows
    (`ops rebuild tasks --verify`)."""
    await ensure_topics(kafka_settings, [kafka_settings.topic(t) for t in (
        topics.CRM_CUSTOMER, topics.CRM_ASSIGNMENT, topics.CRM_KYC, topics.CRM_CAMPAIGNS, topics.CRM_TASKS,
        topics.dead_letter_topic("tasks"))])
    settings = TasksSettings(database_url=pg_database("tasks_campaign"), kafka=kafka_settings, auth=AUTH,
                             relay_interval_ms=50)
    campaign = f"camp-{uuid.uuid4().hex[:8]}"
    a, b = customer_id(), customer_id()
    request_a = campaign_follow_up(a, campaign, "m7")
    created = env(CampaignCreated(campaign_id=campaign, plan=campaign_plan("Spring draft"), created_by="u-mkt",
                                  created_at=T0))
    renamed = env(CampaignUpdated(campaign_id=campaign, plan=campaign_plan("Spring push"), updated_by="u-mkt",
                                  updated_at=T0 + timedelta(hours=1), status=CampaignStatus.draft))
    await producer.publish_many([created, renamed, created])  # the creation re-published: an older name
    await producer.publish_many([registered(a), assigned(a, "m1"), registered(b), assigned(b, "m1")])
    await producer.publish_many([request_a, request_a,  # re-published: the same envelope
                                 campaign_follow_up(a, campaign, "m7"),  # a duplicate request (new envelope id)
                                 campaign_follow_up(b, campaign, "m7")])
    container = bootstrap(settings)
    async with running(container), httpx.AsyncClient(transport=httpx.ASGITransport(app=container.api),
                                                     base_url="http://tasks") as api:
        async def campaign_tasks(status: str = "open"):
            r = await api.get("/tasks", params={"node": "campaign_followup", "status": status},
                              headers=token("m7"))
            assert r.status_code == 200, r.text
            return sorted(r.json()["items"], key=lambda t: t["customer_id"])

        await poll(lambda: _len_at_least(campaign_tasks, 2), timeout=40, message="campaign follow-ups")
        # every record consumed (the duplicates too) before counting
        await poll(lambda: container.pipeline.applied >= 11, timeout=20, message="all records applied")
        opened = await campaign_tasks()
        assert sorted(t["customer_id"] for t in opened) == sorted([a, b])
        assert {(t["campaign_id"], t["assignee_id"], t["team_id"]) for t in opened} == {(campaign, "m7", "team-a")}
        assert {t["campaign_name"] for t in opened} == {"Spring push"}  # the latest edit's, not the re-published
        r = await api.get(f"/tasks/{opened[0]['task_id']}", headers=token("m7"))
        assert r.json()["campaign_name"] == "Spring push"
        assert await tasks_of(api, a, headers=token("m1")) == []  # not the customer's manager's: the campaign's
        counts = (await api.get("/tasks/counts", headers=token("m7"))).json()
        assert {"node": "campaign_followup", "open": 2, "overdue": 0} in counts

        [task_a] = [t for t in opened if t["customer_id"] == a]
        r = await api.post(f"/tasks/{task_a['task_id']}/follow-ups", json={"contact_methods": ["phone"],
                                                                            "remarks": "interested"},
                           headers=token("m7"))
        assert r.status_code == 201, r.text
        assert r.json()["completed_task_id"] == task_a["task_id"]
        await producer.publish(env(CampaignClosed(campaign_id=campaign, closed_at=datetime.now(UTC),
                                                  reason="manual", audience_size=2)))
        cancelled = await poll(lambda: campaign_tasks("cancelled"), timeout=30, message="campaign closed")
        assert [t["customer_id"] for t in cancelled] == [b]
        assert [t["task_id"] for t in await campaign_tasks("completed")] == [task_a["task_id"]]
        assert await campaign_tasks() == []
        # a target's request consumed after the close (another partition) is cancelled as it comes
        late = customer_id()
        await producer.publish_many([registered(late), campaign_follow_up(late, campaign, "m7")])
        cancelled = await poll(lambda: _len_at_least(lambda: campaign_tasks("cancelled"), 2), timeout=30,
                               message="late request cancelled")
        assert sorted(t["customer_id"] for t in cancelled) == sorted([b, late])
        assert len({t["closed_at"] for t in cancelled}) == 1 and await campaign_tasks() == []
    found = await ops_rebuild_verified("tasks", settings.database_url)
    assert found["tasks"]["rows_after"] == 3
    assert found["campaign_names"]["rows_after"] == 1


async def _len_at_least(fetch, n: int):
    items = await fetch()
    return items if len(items) >= n else None
