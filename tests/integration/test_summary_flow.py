"""Summary service through the real broker on PostgreSQL: crm.* events in, answers out of the API;
poison events dead-lettered while the consumer keeps going; re-delivery has no effect; wiping and replaying
the topics from the start rebuilds identical read models and identical answers."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from services.summary import samples as s
from services.summary.bootstrap import bootstrap
from services.summary.consumers import consumed_topics, dead_letter_topic
from services.summary.container import Worker
from services.summary.domain.clock import local_day, today
from services.summary.queries.audience import Audience
from services.summary.queries.funnel import GROUPS, funnel_report
from services.summary.rebuild import fingerprint, rebuild, replay, wipe
from services.summary.settings import SummarySettings
from shared.events import encode, topics
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.settings import AuthSettings
from tests.kafka_helpers import read_topic

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="integration-secret-integration-secret")
TZ = ZoneInfo("Asia/Hong_Kong")


def hdr(user: str, role: str, team: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id=team)}"}


def scenario():
    """Relative to the start of today's local date (so the run's time of day never matters)."""
    d0 = local_day(today(TZ), TZ).start.replace(tzinfo=UTC)  # 00:00 today in Hong Kong
    ev = []
    ev += s.journey("c1", "m1", "t1", d0 - timedelta(days=5), applied=d0 - timedelta(days=1),
                    opened=d0 + timedelta(minutes=30), funded=d0 + timedelta(hours=2))
    ev += s.journey("c2", "m1", "t1", d0 - timedelta(days=2), applied=d0 - timedelta(hours=20),
                    opened=d0 - timedelta(minutes=1))  # 23:59 yesterday
    ev += s.journey("c3", "m2", "t1", d0 - timedelta(days=9), applied=d0 - timedelta(days=8),
                    opened=d0 - timedelta(days=7) + timedelta(hours=3))  # same weekday last week
    ev += s.journey("c4", "m3", "t2", d0 - timedelta(days=1), applied=d0 - timedelta(hours=3))
    ev += [s.account("c4", "rejected", d0 + timedelta(hours=1)),
           s.follow_up("f1", "c1", "m1", d0 + timedelta(minutes=10), next_at=d0 + timedelta(hours=6),
                       intent="high", tags=["vip"]),
           s.follow_up("f2", "c4", "m3", d0 + timedelta(minutes=20)),
           s.task_created("k1", "c2", "pending_funding", due=d0 - timedelta(hours=2), at=d0 - timedelta(hours=3),
                          assignee="m1", team="t1"),
           s.kyc_state("case1", "c4", "in_review", d0 - timedelta(hours=2)),
           s.kyc_decided("case1", "c4", "rejected", d0 + timedelta(hours=1)),
           s.manager_changed("m1", "t1", d0 - timedelta(days=30)),
           s.team_changed("t1", "lead1", d0 - timedelta(days=30))]
    return ev


async def answers(client: httpx.AsyncClient) -> dict:
    admin, lead = hdr("admin", "admin"), hdr("lead1", "team_lead", "t1")
    out = {}
    for name, url, h in [
        ("today_all", "/summary/today", admin), ("today_team", "/summary/today", lead),
        ("today_m1", "/summary/today", hdr("m1", "manager", "t1")),
        ("due", "/summary/follow-ups", admin), ("nodes", "/dashboard/nodes", admin),
        ("opening", "/dashboard/account-opening", admin), ("funnel", "/analytics/funnel?group_by=manager", admin),
        ("shortcuts_lead", "/dashboard/shortcuts", lead),
    ]:
        r = await client.get(url, headers=h)
        assert r.status_code == 200, (name, r.text)
        out[name] = r.json()
    return out


@pytest.fixture()
async def service(kafka_settings, pg_database):
    settings = SummarySettings(database_url=pg_database("summary"),
                               timezone="Asia/Hong_Kong", auth=AUTH, kafka=kafka_settings, consumer_batch_size=100)
    c = bootstrap(settings)
    c.migrate()
    await ensure_topics(kafka_settings, [*consumed_topics(settings), dead_letter_topic(settings)])
    producer = EventProducer(kafka_settings, client_id="summary-test")
    await producer.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://summary")
    yield c, producer, client
    await client.aclose()
    await producer.stop()
    c.dispose()


async def test_events_in_answers_out_dead_letters_redelivery_and_replay(service, kafka_settings, poll):
    c, producer, client = service
    envs = scenario()
    await producer.publish_many(envs)
    customer_topic = kafka_settings.topic(topics.CRM_CUSTOMER)
    await producer.send_raw(customer_topic, b"{not json", key=b"c9")
    unknown = json.loads(encode(envs[0]))
    unknown["event_type"] = "crm.customer.something_new"
    await producer.send_raw(customer_topic, json.dumps(unknown).encode(), key=b"c9")
    worker = Worker(c)
    task = asyncio.create_task(worker.run())
    m1 = hdr("m1", "manager", "t1")

    async def m1_opened_today():
        r = await client.get("/summary/today", headers=m1)
        return r.status_code == 200 and r.json()["metrics"]["fundings"]["today"] == 1

    await poll(m1_opened_today, timeout=60, message="events applied")
    await poll(lambda: worker.consumer.applied_count >= len(envs), timeout=30, message="all events applied")
    first = await answers(client)
    t_all = first["today_all"]["metrics"]
    assert {k: (v["today"], v["yesterday"], v["last_week"]) for k, v in t_all.items() if k in (
        "account_openings", "fundings", "pending_account_opening_follow_ups", "pending_funding_follow_ups")} == {
        "account_openings": (1, 1, 1), "fundings": (1, 0, 0), "pending_account_opening_follow_ups": (2, 0, 0),
        "pending_funding_follow_ups": (0, 0, 0)}  # f1 (c1, 10 min before its opening) and f2 (c4)
    assert first["today_team"]["metrics"]["pending_account_opening_follow_ups"]["today"] == 1  # c4 is team t2
    assert first["today_m1"]["metrics"]["account_openings"] == {
        "today": 1, "yesterday": 1, "last_week": 0, "change_vs_yesterday": 0, "change_vs_last_week": 1}
    assert [i["item_id"] for i in first["due"]["items"]] == ["task:k1", "next:c1"]
    assert first["nodes"]["customers_per_stage"] == {"registered": 0, "pending_account_opening": 1,
                                                     "pending_funding": 2, "funded": 1, "traded": 0}
    assert first["nodes"]["kyc_cases_per_state"] == {"rejected": 1}
    assert (first["opening"]["opened"], first["opening"]["rejected"], first["opening"]["success_rate"]) == (3, 1, 0.75)

    dlq = await read_topic(kafka_settings, dead_letter_topic(c.settings), expect=2)
    assert sorted(json.loads(r.value)["error"]["field"] for r in dlq) == ["$", "event_type"]

    # campaign follow-up tasks (crm.tasks.* with node campaign_followup): Today's Summary counts the customers
    # followed up on one, the home dashboard its open ones
    d0 = local_day(today(TZ), TZ).start.replace(tzinfo=UTC)
    await producer.publish_many([
        s.task_created("camp-c3", "c3", "campaign_followup", due=d0 + timedelta(days=7), at=d0 + timedelta(minutes=1),
                       assignee="m2", team="t1"),
        s.task_created("camp-c2", "c2", "campaign_followup", due=d0 + timedelta(days=7), at=d0 + timedelta(minutes=1),
                       assignee="m1", team="t1"),
        s.follow_up("f-camp", "c3", "m2", d0 + timedelta(minutes=3), task_id="camp-c3"),
        s.task_closed("camp-c3", "c3", "campaign_followup", d0 + timedelta(minutes=3))])
    admin = hdr("admin", "admin")

    async def campaign_counted():
        r = await client.get("/summary/today", headers=admin)
        return r.json()["metrics"]["campaign_follow_ups"]["today"] == 1

    await poll(campaign_counted, timeout=30, message="the campaign follow-up counted")
    nodes = (await client.get("/dashboard/nodes", headers=admin)).json()
    assert nodes["open_tasks_per_node"]["campaign_followup"] == 1
    m2 = (await client.get("/summary/today", headers=hdr("m2", "manager", "t1"))).json()["metrics"]
    assert m2["campaign_follow_ups"]["today"] == 1 and m2["pending_funding_follow_ups"]["today"] == 1
    assert (await client.get("/summary/today", headers=m1)).json()["metrics"]["campaign_follow_ups"]["today"] == 0

    # re-delivery (an upstream retry publishes the same events again) changes nothing; a new event counts
    before = await asyncio.to_thread(_fp, c)
    await producer.publish_many(envs[:20])
    await producer.publish(s.follow_up("f9", "c2", "m1", local_day(today(TZ), TZ).start.replace(tzinfo=UTC)
                                       + timedelta(minutes=5)))

    async def f9_seen():
        r = await client.get("/summary/today", headers=m1)
        return r.json()["metrics"]["pending_funding_follow_ups"]["today"] == 1  # c2 opened 23:59 yesterday

    await poll(f9_seen, timeout=30, message="the new follow-up applied")
    after = await asyncio.to_thread(_fp, c)
    changed = {k for k in after if after[k] != before[k]}
    assert changed <= {"sm_customer_history", "sm_follow_up", "sm_due_item", "sm_fact", "sm_customer_state", "sm_daily_count",
                       "sm_funnel"} and "sm_follow_up" in changed
    live = await answers(client)
    await worker.stop()
    await task

    # replay equality: wipe the read models and their positions, replay every topic from the start
    reference = await asyncio.to_thread(_fp, c)
    await asyncio.to_thread(_wipe, c)
    assert (await client.get("/summary/today", headers=m1)).json()["metrics"]["fundings"]["today"] == 0
    await replay(c, timeout_s=90)
    assert await asyncio.to_thread(_fp, c) == reference
    assert await answers(client) == live


async def test_rebuild_verify_with_events_delivered_in_reverse(service, kafka_settings, poll):
    c, producer, client = service
    envs = list(reversed(scenario()))  # late and out of order: milestones before registrations and assignments
    for i in range(0, len(envs), 7):
        await producer.publish_many(envs[i : i + 7])
    await replay(c, timeout_s=90)
    got = await answers(client)
    assert got["today_all"]["metrics"]["account_openings"]["today"] == 1
    assert got["nodes"]["customers_per_stage"]["funded"] == 1
    assert await rebuild(c, verify=True) == 0
    # the funnel aggregated in PostgreSQL gives exactly what the reference Python aggregation gives
    d0 = local_day(today(TZ), TZ)
    first, last = today(TZ) - timedelta(days=30), today(TZ)
    for group_by in GROUPS:
        for as_of in (None, d0.start, d0.start + timedelta(hours=1)):
            sql = await asyncio.to_thread(_funnel, c, first, last, group_by, as_of, True)
            ref = await asyncio.to_thread(_funnel, c, first, last, group_by, as_of, False)
            assert sql == ref, (group_by, as_of)
            if as_of is None:
                assert ref["total"]["counts"] == {"registered": 4, "opened": 3, "funded": 1, "traded": 0}
            elif as_of == d0.start + timedelta(hours=1):  # c1's deposit (02:00) not yet; its opening (00:30) yes
                assert ref["total"]["counts"] == {"registered": 4, "opened": 3, "funded": 0, "traded": 0}


async def test_conversions_credited_by_attribution_share(service, kafka_settings):
    """Issue #19 (seed 002, 业绩归属): c1's opening-stage manager m2 holds 0.6, its every-stage manager m1 the
    rest; through the broker on PostgreSQL (a daily-count table from before shares widened by `migrate`), the
    API gives m1 0.4 and m2 0.6 of today's opening, everyone 1 (Today's Summary and the funnel), and
    `rebuild --verify` holds."""
    c, producer, client = service
    with c.engine.begin() as conn:  # as created before shares: an integer counter
        conn.execute(text("ALTER TABLE sm_daily_count ALTER COLUMN n TYPE BIGINT"))
    c.migrate()
    d0 = local_day(today(TZ), TZ).start.replace(tzinfo=UTC)
    envs = s.journey("c1", "m1", "t1", d0 - timedelta(days=5), applied=d0 - timedelta(days=1),
                     opened=d0 + timedelta(minutes=30))
    envs.append(s.assigned("c1", "m2", "t2", d0 - timedelta(hours=20), stage="pending_account_opening",
                           share="0.6"))
    await producer.publish_many(list(reversed(envs)))
    await replay(c, timeout_s=90)
    got = {}
    for name, h in (("m1", hdr("m1", "manager", "t1")), ("m2", hdr("m2", "manager", "t2")),
                    ("all", hdr("admin", "admin")), ("t2", hdr("lead2", "team_lead", "t2"))):
        r = await client.get("/summary/today", headers=h)
        assert r.status_code == 200, r.text
        got[name] = r.json()["metrics"]["account_openings"]["today"]
    assert got == {"m1": 0.4, "m2": 0.6, "all": 1, "t2": 0.6}
    r = await client.get("/dashboard/shortcuts", headers=hdr("m2", "manager", "t2"))
    assert r.json()["opened_today"] == 0.6
    # the funnel credits the opening by share too: 0.4 + 0.6, the customer once in the total (both aggregations)
    r = await client.get("/analytics/funnel?group_by=manager", headers=hdr("admin", "admin"))
    assert r.status_code == 200, r.text
    assert {g["key"]: g["counts"]["opened"] for g in r.json()["groups"]} == {"m1": 0.4, "m2": 0.6}
    assert r.json()["total"]["counts"]["opened"] == 1
    first, last = today(TZ) - timedelta(days=30), today(TZ)
    for group_by in GROUPS:
        sql = await asyncio.to_thread(_funnel, c, first, last, group_by, None, True)
        assert sql == await asyncio.to_thread(_funnel, c, first, last, group_by, None, False), group_by
    r = await client.get("/analytics/funnel", headers=hdr("lead2", "team_lead", "t2"))
    assert r.json()["total"]["counts"] == {"registered": 0, "opened": 0.6, "funded": 0, "traded": 0}
    assert await rebuild(c, verify=True) == 0


def _funnel(c, first, last, group_by, as_of, in_database):
    with c.sessions() as sess:
        return funnel_report(sess, TZ, first, last, Audience(), group_by=group_by, as_of=as_of,
                             in_database=in_database)


def _fp(c):
    with c.sessions() as sess:
        return fingerprint(sess)


def _wipe(c):
    with c.sessions.begin() as sess:
        wipe(sess)
