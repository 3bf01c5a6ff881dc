"""Today's Summary by organisation level through the real broker on PostgreSQL: the organisation tree arrives on
crm.access.events (the summary's access directory consumes it), the team figures on crm.customer/assignment
events (its worker); GET /summary/rollup sums the teams under each node. A node moved in the access service
moves its figures with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.summary import samples as s
from services.summary.bootstrap import bootstrap
from services.summary.consumers import consumed_topics, dead_letter_topic
from services.summary.domain.clock import local_day, today
from services.summary.settings import SummarySettings
from shared.events import registry, topics
from shared.events.crm_access import AccessOrgNodeChanged
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer, ensure_topics
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="integration-secret-integration-secret")
TZ = ZoneInfo("Asia/Hong_Kong")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ADMIN = {"Authorization": f"Bearer {mint_token(AUTH, user_id='admin', role='admin')}"}


def node(node_id: str, kind: str, parent: str | None, version: int):
    return registry.envelope(AccessOrgNodeChanged(node_id=node_id, kind=kind, parent_id=parent, name=node_id,
                                                  version=version, changed_at=T0), producer="whale-crm/access")


async def test_rollup_follows_the_tree_from_the_access_topic(kafka_settings, pg_database, poll):
    settings = SummarySettings(database_url=pg_database("summary"), timezone="Asia/Hong_Kong", auth=AUTH,
                               kafka=kafka_settings, consumer_batch_size=100, access_directory="shadow")
    c = bootstrap(settings)
    await ensure_topics(kafka_settings, [*consumed_topics(settings), dead_letter_topic(settings),
                                         kafka_settings.topic(topics.CRM_ACCESS)])
    producer = EventProducer(kafka_settings, client_id="summary-rollup-test")
    await producer.start()
    d0 = local_day(today(TZ), TZ).start.replace(tzinfo=UTC)
    events = []
    for i, (team, n) in enumerate([("t1", 1), ("t2", 2), ("t3", 3)]):  # openings today per team
        for j in range(n):
            events += s.journey(f"c{i}{j}", f"m-{team}", team, d0 - timedelta(days=3), applied=d0 - timedelta(days=2),
                                opened=d0 + timedelta(minutes=30))
    tree = [("W", "company", None), ("R1", "region", "W"), ("R2", "region", "W"), ("B1", "branch", "R1"),
            ("B2", "branch", "R1"), ("B3", "branch", "R2"), ("t1", "team", "B1"), ("t2", "team", "B2"),
            ("t3", "team", "B3")]
    await producer.publish_many([node(n, k, p, v) for v, (n, k, p) in enumerate(tree, 1)] + events)
    try:
        async with running(c), httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api),
                                                  base_url="http://summary") as client:
            async def rollup(path: str) -> dict[str, int] | None:
                r = await client.get(path, headers=ADMIN)
                if r.status_code != 200:
                    return None
                body = r.json()
                return {x["node_id"]: x["metrics"]["account_openings"]["today"]
                        for x in [body["node"], *body["children"]]}

            async def settled() -> bool:
                return await rollup("/summary/rollup") == {"W": 6, "R1": 3, "R2": 3}

            await poll(settled, timeout=60, message="the tree and the figures applied")
            assert await rollup("/summary/rollup?node_id=R1") == {"R1": 3, "B1": 1, "B2": 2}
            lead = {"Authorization": f"Bearer {mint_token(AUTH, user_id='lead', role='team_lead', team_id='t2')}"}
            r = await client.get("/summary/rollup", headers=lead)
            assert [x["node_id"] for x in r.json()["children"]] == ["R1"] and r.json()["node"]["teams"] == ["t2"]

            # the access service moves branch B2 under region R2: its team's figures move with it
            await producer.publish(node("B2", "branch", "R2", len(tree) + 1))

            async def moved() -> bool:
                return await rollup("/summary/rollup") == {"W": 6, "R1": 1, "R2": 5}

            await poll(moved, timeout=30, message="the moved branch rolled up under its new region")
    finally:
        await producer.stop()
        c.dispose()
