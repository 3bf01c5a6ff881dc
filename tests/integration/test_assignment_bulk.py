"""Bulk assignment of 10,000 customers through the API, with the real broker and PostgreSQL: the customers
arrive as registrations on crm.customer.events (the customer read model; routing is covered by
test_assignment_flow and, with pool aggregates in place, by bench_assignment), one bulk command assigns
them all (plus a few invalid ids reported per customer), and every customer_assigned event is published."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select
from test_assignment_flow import Running, make_service  # same directory (pytest rootdir import mode)

from services.assignment.domain.clock import FakeClock
from services.assignment.domain.model import Manager
from services.assignment.projections import tables as t
from shared.events import registry, topics
from shared.events.crm_customer import CustomerOnboarded
from shared.runtime.kafka import EventProducer

pytestmark = pytest.mark.asyncio
N = 10_000
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_bulk_assignment_of_10000_customers(kafka_settings, pg_database, poll):
    svc = make_service(kafka_settings, pg_database, FakeClock(T0))
    ids = [f"bulk-{i:05d}" for i in range(N)]
    async with Running(svc, [svc.consumers[0], svc.relay]) as run:
        admin = run.headers("admin")
        await run.http.post("/teams", json={"team_id": "T", "name": "T"}, headers=admin)
        r = await run.http.post("/managers", json={"manager_id": "m-big", "name": "M", "team_id": "T",
                                                   "capacity": N}, headers=admin)
        assert r.status_code == 201
        producer = EventProducer(kafka_settings, client_id="asg-bulk")
        await producer.start()
        try:
            await producer.publish_many([registry.envelope(
                CustomerOnboarded(customer_id=c, registered_at=T0, channel="manual_import"), producer="test")
                for c in ids])
        finally:
            await producer.stop()

        def customers_known() -> bool:
            with svc.sessions() as s:
                return s.scalar(select(func.count()).select_from(t.customers)) == N

        await poll(customers_known, timeout=60, message="10,000 customers in the read model")

        r = await run.http.post("/assignments/bulk", json={"customer_ids": [*ids, "ghost-1", "ghost-2"],
                                                           "manager_id": "m-big"}, headers=admin, timeout=300)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["counts"] == {"assigned": N, "rejected": 2}
        assert {x["customer_id"] for x in body["results"] if x["status"] == "rejected"} == {"ghost-1", "ghost-2"}
        assert svc.app.load(Manager.create_id("m-big")).load == N

        consumer = AIOKafkaConsumer(kafka_settings.topic(topics.CRM_ASSIGNMENT),
                                    bootstrap_servers=kafka_settings.bootstrap_servers, group_id=None,
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        seen: set[str] = set()
        try:
            async def all_published() -> bool:
                batch = await consumer.getmany(timeout_ms=200, max_records=5000)
                for recs in batch.values():
                    for rec in recs:
                        env = json.loads(rec.value)
                        if env["event_type"] == "crm.assignment.customer_assigned":
                            assert env["payload"]["manager_id"] == "m-big" and env["payload"]["team_id"] == "T"
                            seen.add(env["payload"]["customer_id"])
                return len(seen) == N
            await poll(all_published, timeout=120, message="10,000 customer_assigned events on the topic")
        finally:
            await consumer.stop()
        assert seen == set(ids)

        async def listed() -> bool:
            r = await run.http.get("/managers/m-big", headers=admin)
            return r.json()["load"] == N
        await poll(listed, timeout=60, message="read model shows the load")
