"""Campaign evaluation through the real broker and PostgreSQL: customer, assignment and asset facts published on
their topics (funds re-published: counted once) → a campaign started through the API → conversions, deposits and
asset snapshots after its start → the cost entered (published as crm.campaigns.cost_recorded) → the scheduler's
leader computes the indicators (the clock moved by hand) → the API gives them, the control group (a customer
matching the filter who was not targeted), the ratio, the reports and the CSV → `ops rebuild campaigns --verify`
replays the store and the topics into identical tables (the evaluation facts and the cost included)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from ops.kafka_ops import read_topic
from services.campaigns.bootstrap import bootstrap
from services.campaigns.settings import CampaignsSettings
from shared.events import registry, topics
from shared.events.crm_assignment import CustomerAssigned, ManagerChanged
from shared.events.crm_customer import CustomerOnboarded, FundsMoved, StageChanged
from shared.events.upstream import AssetSnapshotTaken
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings, BrokerageSettings
from tests.conftest import ops_rebuild_verified
from tests.integration.test_campaigns_outreach import publish

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="integration-secret-of-at-least-32-bytes")
NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW - timedelta(days=2)


def headers(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role='team_lead', team_id='T-HK')}"}


def env(payload, producer="whale-crm/customer"):
    return registry.envelope(payload, producer=producer)


def customer(cid: str, manager: str, at: datetime) -> list:
    return [env(CustomerOnboarded(customer_id=cid, registered_at=at, channel="web", user_region="HK")),
            env(StageChanged(customer_id=cid, from_stage=None, to_stage="pending_funding", changed_at=at,
                             cause_event_id=f"o-{cid}", cause_event_type="account.opened")),
            env(CustomerAssigned(customer_id=cid, manager_id=manager, team_id="T-HK", reason="rule", assigned_at=at),
                "whale-crm/assignment")]


async def test_indicators_from_consumed_facts_and_replay(kafka_settings, pg_database, poll, monkeypatch):
    settings = CampaignsSettings(database_url=pg_database("campaigns"), kafka=kafka_settings, auth=AUTH,
                                 relay_interval_ms=50, scheduler_interval_s=0.2,
                                 brokerage=BrokerageSettings(currency="HKD"))  # the facts' amounts: HKD
    c = bootstrap(settings)
    clock = [NOW]
    c.executor.clock = lambda: clock[0]
    producer = EventProducer(kafka_settings, client_id="crm-sim")
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://campaigns")
    lead_a, lead_b = headers("LEAD-A"), headers("LEAD-B")
    async with running(c):
        await producer.start()
        try:
            await publish(producer, kafka_settings, [
                env(ManagerChanged(manager_id=m, name=m, team_id="T-HK", status="active", changed_at=T0),
                    "whale-crm/assignment") for m in ("M-1", "M-2")]
                + [e for i in range(6) for e in customer(f"C{i}", "M-1" if i < 3 else "M-2", T0)])

            async def consumed():
                r = (await api.post("/campaigns/audience/preview", json={"stages": ["pending_funding"]},
                                    headers=lead_a)).json()
                return r if r["size"] == 6 else None

            await poll(consumed, timeout=60, message="the audience facts consumed")
            plan = {"name": "First deposit", "start_at": (NOW - timedelta(minutes=5)).isoformat(),
                    "end_at": (NOW + timedelta(days=3)).isoformat(), "audience": {"stages": ["pending_funding"]},
                    "distribution": "assigned_manager", "channels": ["phone"], "metrics": ["funded", "net_deposits"],
                    "attribution_window_days": 14}
            cid = (await api.post("/campaigns", json=plan, headers=lead_a)).json()["campaign_id"]
            await api.post(f"/campaigns/{cid}/submit", headers=lead_a)
            await api.post(f"/campaigns/{cid}/review", json={"decision": "approve"}, headers=lead_b)
            started = (await api.post(f"/campaigns/{cid}/start", headers=lead_a)).json()
            assert started["status"] == "running" and started["audience_size"] == 6
            s = datetime.fromisoformat(started["started_at"])

            deposit = env(FundsMoved(customer_id="C1", transaction_id="tx-1", direction="deposit",
                                     amount=Decimal("1000"), currency="HKD", occurred_at=s + timedelta(hours=1),
                                     first_deposit=True))
            after = [env(StageChanged(customer_id="C1", from_stage="pending_funding", to_stage="funded",
                                      changed_at=s + timedelta(hours=1), cause_event_id="d1",
                                      cause_event_type="deposit")),
                     deposit, deposit,  # re-published: one effect
                     env(FundsMoved(customer_id="C4", transaction_id="tx-2", direction="withdrawal",
                                    amount=Decimal("200"), currency="HKD", occurred_at=s + timedelta(hours=2))),
                     *[env(AssetSnapshotTaken(customer_id="C1", account_id="A1", as_of=at, currency="HKD",
                                              total_assets=Decimal(v), cash=Decimal(v)), "brokerage/trading")
                       for at, v in ((s - timedelta(days=1), "0"), (s + timedelta(days=1), "1000"))],
                     *customer("C9", "M-2", s + timedelta(hours=1)),  # matches the filter, never targeted
                     env(FundsMoved(customer_id="C9", transaction_id="tx-9", direction="deposit",
                                    amount=Decimal("50"), currency="HKD", occurred_at=s + timedelta(hours=2)))]
            await publish(producer, kafka_settings, after)
        finally:
            await producer.stop()
        r = await api.put(f"/campaigns/{cid}/cost", json={"amount": "500", "currency": "HKD"}, headers=lead_a)
        assert r.status_code == 200, r.text

        async def assets_consumed():
            r = (await api.post("/campaigns/audience/preview", json={"stages": ["pending_funding"]},
                                headers=lead_a)).json()
            return r if r["size"] == 6 else None  # C1 funded (left the filter), C9 came in

        await poll(assets_consumed, timeout=60, message="the facts after the start consumed")
        clock[0] = s + timedelta(days=2)  # the scheduler's leader computes the indicators at its next tick

        async def computed():
            r = await api.get(f"/campaigns/{cid}/indicators", headers=lead_a)
            body = r.json() if r.status_code == 200 else None
            if body and Decimal(body["incremental_assets"]) == 1000 and body["figures"]["cost"]:
                return body
            now = asyncio.get_running_loop().time()
            if body and clock[0] < s + timedelta(days=13) and now - bumped[0] >= 3:
                # computed before the last facts were consumed (a loaded machine: the preview above saw the
                # stages, not yet the snapshot or the cost): a day later the leader's next tick computes again
                clock[0], bumped[0] = clock[0] + timedelta(days=1, seconds=1), now
            return None

        bumped = [asyncio.get_running_loop().time()]

        got = await poll(computed, timeout=60, message="the indicators computed by the scheduler")
        assert (got["targeted"], got["funded"], got["converted"], got["account_opened"]) == (6, 1, 1, 0)
        assert Decimal(got["net_deposits"]) == 800  # 1000 once, −200
        control = got["figures"]["control"]
        assert control["size"] == 1 and control["account_opened"] == 1 and Decimal(control["net_deposits"]) == 50
        assert Decimal(got["figures"]["input_output_ratio"]) == 2  # (1000 − 0 × 6) / 500
        r = await api.post(f"/campaigns/{cid}/indicators/refresh", headers=lead_a)
        assert r.status_code == 200 and r.json()["targeted"] == 6
        teams = (await api.get("/campaigns/reports", params={"dimension": "team"}, headers=lead_b)).json()
        assert [(i["key"], i["targeted"], i["funded"]) for i in teams["items"]] == [("T-HK", 6, 1)]
        text = (await api.get("/campaigns/reports.csv", params={"dimension": "manager"}, headers=lead_a)).text
        assert text.splitlines()[1].startswith("M-1,1,3,0,1,0,1,1000")

        async def cost_published():
            found = [json.loads(r.value) for r in await read_topic(kafka_settings,
                                                                   kafka_settings.topic(topics.CRM_CAMPAIGNS))]
            return [f for f in found if f["event_type"] == "crm.campaigns.cost_recorded"] or None

        published = await poll(cost_published, timeout=30, message="the cost published")
        assert published[0]["payload"]["amount"] == "500" and published[0]["payload"]["campaign_id"] == cid
    await api.aclose()

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_settings.bootstrap_servers)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", kafka_settings.topic_prefix)
    tables = await ops_rebuild_verified("campaigns", settings.database_url)
    assert tables["cp_funds"]["rows_after"] == 3 and tables["cp_asset"]["rows_after"] == 2
    assert tables["cp_campaign_cost"]["rows_after"] == 1 and tables["cp_milestone"]["rows_after"] >= 8
