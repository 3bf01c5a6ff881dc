"""The wealth calendar through the real broker and PostgreSQL: every new fact on `brokerage.wealth` (IPO windows,
subscriptions, corporate actions, positions, maturities; re-published, with a malformed record) → the customer
service's wealth tables → `GET /customers/{id}/calendar`, `GET /calendar`, `?holds=` → the worker's leader sends
the reminders due within CUSTOMER_WEALTH_REMINDER_DAYS (published once as `crm.customer.wealth_event_due`) → the
tasks service opens one "wealth event" task per customer and event for the owner. The malformed record is
dead-lettered naming its field; `ops rebuild customer --verify` rebuilds the wealth tables from their journal."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from services.customer.settings import CustomerSettings
from services.tasks.bootstrap import bootstrap as tasks_bootstrap
from services.tasks.projections import tables as task_tables
from services.tasks.settings import TasksSettings
from shared.events import encode, registry, topics
from shared.events.crm_assignment import CustomerAssigned
from shared.events.upstream import CustomerRegistered
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.service import running
from tests.conftest import ops_rebuild_verified
from tests.integration.test_customer_pipeline import AUTH, Service
from tests.kafka_helpers import read_topic
from tests.unit.test_customer_wealth_calendar import T0, facts

pytestmark = pytest.mark.asyncio


def wealth_rows(svc: Service) -> dict:
    w = svc.container.tables.wealth
    with svc.container.sessions() as s:
        return {t.name: sorted(map(tuple, s.execute(select(t)))) for t in [*w.consumer_fed(), w.reminder]}


async def test_wealth_facts_to_calendar_reminders_and_tasks(kafka_settings, pg_database, poll):
    await ensure_topics(kafka_settings, [kafka_settings.topic(x) for x in topics.UPSTREAM_TOPICS + (
        topics.WEALTH, topics.CRM_ASSIGNMENT, topics.CRM_CUSTOMER, topics.CRM_TASKS, topics.CRM_KYC,
        topics.CRM_CAMPAIGNS, topics.dead_letter_topic("customer"), topics.dead_letter_topic("tasks"))])
    today = datetime.now(CustomerSettings().brokerage.tz).date()
    wealth = [registry.envelope(p, producer="brokerage-test") for p in facts(today)]
    producer = EventProducer(kafka_settings, client_id="test")
    await producer.start()
    await producer.publish_many([registry.envelope(CustomerRegistered(customer_id=c, registered_at=T0,
                                                                      channel="organic", name=f"N {c}"),
                                                   producer="brokerage-test") for c in ("w1", "w2")])
    await producer.publish_many([registry.envelope(CustomerAssigned(customer_id=c, manager_id=m, team_id="team-a",
                                                                    reason="rule", assigned_at=T0), producer="t")
                                 for c, m in (("w1", "m-1"), ("w2", "m-2"))])
    await producer.publish_many(list(reversed(wealth)))  # the newer snapshot / announcement first
    await producer.publish_many(wealth[:4])  # re-published: same event ids
    bad = json.loads(encode(wealth[0]))
    bad["payload"]["close_date"] = "soon"
    await producer.send_raw(kafka_settings.topic(topics.WEALTH), json.dumps(bad).encode(), key=b"ipo1")
    await producer.stop()

    url = pg_database("cwealth")
    svc = Service(kafka_settings, url)
    svc.container.settings.wealth_reminder_interval_s = 0.2  # the leader looks for due reminders every 0.2 s
    await svc.start()
    tasks_settings = TasksSettings(database_url=pg_database("twealth"), kafka=kafka_settings, auth=AUTH,
                                   relay_interval_ms=50)
    tasks = tasks_bootstrap(tasks_settings)
    try:
        async def calendar():
            r = await svc.get("/customers/w1/calendar", **{"from": today.isoformat()})
            assert r.status_code == 200, r.text
            body = r.json()
            keys = [(i["event_key"], i["scope"]) for i in body["items"]]
            assert keys == [("corporate_action:ca1", "customer"), ("ipo_closes:ipo1", "customer"),
                            ("ipo_opens:ipo2", "brokerage"), ("ipo_closes:ipo2", "brokerage"),
                            ("ipo_listing:ipo1", "customer")], keys
            assert [(h["security"], h["quantity"]) for h in body["holdings"]] == [("0700.HK", "300")], body
            return body

        await poll(calendar, timeout=60, message="w1's calendar")
        mine = (await svc.get("/calendar", role="manager", user="m-2", team="team-a",
                              **{"from": today.isoformat()})).json()
        assert [(i["customer_id"], i["event_key"]) for i in mine["items"]] == [
            ("w2", "maturity:m1"), ("w2", "corporate_action:ca2")]
        assert [i["customer_id"] for i in (await svc.get("/customers", holds="0005.HK")).json()["items"]] == ["w2"]
        wealth = (await svc.get("/customers/w1/360")).json()["wealth"]  # read in the 360's one round trip
        assert wealth["holdings"][0]["security"] == "0700.HK"
        same = [{k: v for k, v in i.items() if k != "name"}  # (the calendar's items carry a name, None here)
                for i in (await svc.get("/customers/w1/calendar")).json()["items"]]
        assert wealth["upcoming"] and wealth["upcoming"] == same

        dlq = await read_topic(kafka_settings, kafka_settings.topic(topics.dead_letter_topic("customer")), expect=1)
        assert [json.loads(r.value)["error"]["field"] for r in dlq] == ["payload.close_date"]

        async def reminded():  # the scheduler's leader sends them; the relay publishes them
            records = await read_topic(kafka_settings, kafka_settings.topic(topics.CRM_CUSTOMER), expect=10_000,
                                       timeout=2)
            found = sorted((m["payload"]["customer_id"], m["payload"]["event_key"]) for m in map(
                lambda r: json.loads(r.value), records) if m["event_type"] == "crm.customer.wealth_event_due")
            assert len(found) >= 3, found
            return found

        found = await poll(reminded, timeout=40, message="wealth_event_due published")
        # within 3 days: ca1 (day 1) and ipo1's close (day 3) for w1, m1 (day 3) for w2; once each
        assert found == [("w1", "corporate_action:ca1"), ("w1", "ipo_closes:ipo1"), ("w2", "maturity:m1")]

        async with running(tasks):
            async def opened():  # the assignments may reach the tasks service after the reminders: the
                # tasks are opened for no one, then follow the owner when it is known
                with tasks.sessions() as s:
                    rows = sorted(map(tuple, s.execute(select(
                        task_tables.tasks.c.customer_id, task_tables.tasks.c.event_key, task_tables.tasks.c.assignee_id,
                        task_tables.tasks.c.status).where(task_tables.tasks.c.node == "wealth_event")).all()))
                assert rows == [("w1", "corporate_action:ca1", "m-1", "open"), ("w1", "ipo_closes:ipo1", "m-1", "open"),
                                ("w2", "maturity:m1", "m-2", "open")], rows
                return rows

            await poll(opened, timeout=60, message="wealth tasks opened for the owners")

        before = wealth_rows(svc)
        assert len(before["customer_wealth_reminder"]) == 3 and len(before["customer_wealth_holding"]) == 2
        await svc.stop_worker()
        verified = await ops_rebuild_verified("customer", url)
        assert verified["customer_wealth_holding"]["rows_after"] == 2
        assert verified["customer_wealth_reminder"]["rows_after"] == 3
        assert wealth_rows(svc) == before
    finally:
        await svc.stop()

