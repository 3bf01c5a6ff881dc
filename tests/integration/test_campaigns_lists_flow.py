"""An audience list through the real broker and PostgreSQL: 2,000 customers consumed from crm.customer /
crm.assignment, a 117,000-row CSV (over the API's 1 MiB body limit: the upload streams itself) uploaded, validated
by the worker's leader in chunks (accepted: the known ids in the uploader's scope once; the rest in the report),
a campaign over the list previewed, and `ops rebuild campaigns --verify` still equal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.campaigns.bootstrap import bootstrap
from services.campaigns.settings import CampaignsSettings
from shared.events import registry
from shared.events.crm_assignment import CustomerAssigned
from shared.events.crm_customer import CustomerOnboarded
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings
from tests.conftest import ops_rebuild_verified

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="integration-secret-of-at-least-32-bytes")
NOW = datetime.now(UTC).replace(microsecond=0)
KNOWN = 2000
ROWS = 117_000


async def test_a_large_list_streamed_validated_and_targeted(kafka_settings, pg_database, poll, monkeypatch, tmp_path):
    settings = CampaignsSettings(database_url=pg_database("campaigns"), kafka=kafka_settings, auth=AUTH,
                                 scheduler_interval_s=0.2, list_dir=str(tmp_path))
    c = bootstrap(settings)
    lead = {"Authorization": f"Bearer {mint_token(AUTH, user_id='LEAD-A', role='team_lead', team_id='T-HK')}"}
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://campaigns", timeout=120)
    producer = EventProducer(kafka_settings, client_id="crm-sim")
    async with running(c):
        await producer.start()
        try:
            await producer.publish_many([registry.envelope(CustomerOnboarded(
                customer_id=f"C{i:07d}", registered_at=NOW, channel="web"), producer="whale-crm/customer")
                for i in range(KNOWN)], topic=kafka_settings.topic("crm.customer.events"))
            await producer.publish_many([registry.envelope(CustomerAssigned(
                customer_id=f"C{i:07d}", manager_id="M-1", team_id="T-HK" if i % 2 else "T-SG", reason="rule",
                assigned_at=NOW), producer="whale-crm/assignment") for i in range(KNOWN)],
                topic=kafka_settings.topic("crm.assignment.events"))
        finally:
            await producer.stop()

        async def consumed():
            r = (await api.post("/campaigns/audience/preview", json={}, headers={**lead})).json()
            return r if r["size"] == KNOWN // 2 else None  # the lead's team: the odd ones

        await poll(consumed, timeout=60, message="the customers consumed")
        # every known id once, then unknown ids; row 2 repeated at the end
        body = "customer_id\n" + "".join(f"C{i:07d}\n" for i in range(ROWS)) + "C0000000\n"
        assert len(body) > 1_048_576
        r = await api.post("/campaigns/audience-lists", params={"filename": "all.csv"}, content=body.encode(),
                           headers={**lead, "content-type": "text/csv"})
        assert r.status_code == 201, r.text
        lid = r.json()["list_id"]

        async def done():
            got = (await api.get(f"/campaigns/audience-lists/{lid}", headers=lead)).json()
            return got if got["state"] == "done" else None

        got = await poll(done, timeout=150, message="the list validated by the worker")
        assert (got["rows_read"], got["accepted"], got["rejected"]) == (ROWS + 1, KNOWN // 2, ROWS + 1 - KNOWN // 2)
        report = (await api.get(f"/campaigns/audience-lists/{lid}/rejects", headers=lead)).text.splitlines()
        assert report[:3] == ["row,field,reason", "2,customer_id,out_of_scope", "4,customer_id,out_of_scope"]
        assert report[-1] == f"{ROWS + 2},customer_id,out_of_scope" and len(report) == ROWS + 2 - KNOWN // 2
        assert f"{KNOWN + 2},customer_id,unknown_customer" in report
        plan = {"name": "Listed", "start_at": NOW.isoformat(), "end_at": (NOW + timedelta(days=3)).isoformat(),
                "audience": {"list_id": lid}, "distribution": "assigned_manager", "channels": ["phone"],
                "metrics": ["funded"], "attribution_window_days": 7}
        cid = (await api.post("/campaigns", json=plan, headers=lead)).json()["campaign_id"]
        preview = (await api.get(f"/campaigns/{cid}/audience/preview", headers=lead)).json()
        assert preview["size"] == KNOWN // 2
    await api.aclose()
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_settings.bootstrap_servers)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", kafka_settings.topic_prefix)
    await ops_rebuild_verified("campaigns", settings.database_url)
