"""A client/lead owner change through the real broker and PostgreSQL, across three services: the team lead
asks in the User CRM → `crm.usercrm.requests` → the platform completes it on `brokerage.request_results` →
`crm.usercrm.owner_change_confirmed` → the assignment service gives the customer to the new owner (reason
`owner_change`, the request as the "why") → `crm.assignment.*` → the customer service and the User CRM move the
customer from the old manager's scope into the new one's."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.assignment.bootstrap import bootstrap as assignment_bootstrap
from services.assignment.settings import AssignmentSettings
from services.customer.bootstrap import bootstrap as customer_bootstrap
from services.customer.settings import CustomerSettings
from services.usercrm.bootstrap import bootstrap as usercrm_bootstrap
from services.usercrm.settings import UsercrmSettings
from shared.events import registry
from shared.events import upstream as up
from shared.runtime.auth import mint_token
from shared.runtime.kafka import EventProducer
from shared.runtime.service import running
from tests.integration.test_usercrm_flow import AUTH, Platform

pytestmark = pytest.mark.asyncio


def headers(user: str, role: str, team: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id=team)}"}


ADMIN = headers("admin-1", "admin")
LEAD = headers("L1", "team_lead", "T1")
M1, M2 = headers("M1", "manager", "T1"), headers("M2", "manager", "T1")


async def test_a_confirmed_owner_change_moves_the_customer_into_the_new_owners_scope(kafka_settings, pg_database,
                                                                                     poll):
    common = {"kafka": kafka_settings, "auth": AUTH, "relay_interval_ms": 50}
    asg = assignment_bootstrap(AssignmentSettings(database_url=pg_database("own_asg"), **common))
    cust = customer_bootstrap(CustomerSettings(database_url=pg_database("own_cust"), **common))
    uc = usercrm_bootstrap(UsercrmSettings(database_url=pg_database("own_uc"), **common))
    producer = EventProducer(kafka_settings, client_id="platform-owner")
    await producer.start()
    platform = Platform(kafka_settings, producer, fail_actions=set())
    ptask = asyncio.create_task(platform.run())
    cid = f"C{uuid.uuid4().hex[:8]}"
    try:
        async with running(asg), running(cust), running(uc), \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=asg.api), base_url="http://asg") as a, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=cust.api), base_url="http://cust") as c, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=uc.api), base_url="http://uc") as u:
            assert (await a.post("/teams", headers=ADMIN, json={"team_id": "T1", "name": "HK"})).status_code == 201
            for mid in ("M1", "M2"):
                r = await a.post("/managers", headers=ADMIN, json={"manager_id": mid, "name": mid, "team_id": "T1",
                                                                   "capacity": 10})
                assert r.status_code == 201, r.text
            await producer.publish(registry.envelope(up.CustomerRegistered(
                customer_id=cid, registered_at=datetime.now(UTC) - timedelta(minutes=5), channel="organic",
                name="Wing Chan", residence_country="HK", language="zh-HK"), producer="platform",
                correlation_id=str(uuid.uuid4())))

            async def assignable() -> bool:
                r = await a.post("/assignments", headers=ADMIN, json={"customer_id": cid, "manager_id": "M1"})
                return r.status_code == 200 and r.json()["status"] == "assigned"

            await poll(assignable, timeout=60, message="customer known to the assignment service and given to M1")

            async def in_scope(client: httpx.AsyncClient, path: str, who: dict[str, str]) -> bool:
                r = await client.get(path, headers=who)
                if path == "/customers":
                    return r.status_code == 200 and cid in {i["customer_id"] for i in r.json()["items"]}
                return r.status_code == 200

            profile = f"/usercrm/customers/{cid}/profile"

            async def m1_holds() -> bool:
                return await in_scope(c, "/customers", M1) and await in_scope(u, profile, M1)

            await poll(m1_holds, timeout=60, message="M1's customer in the customer service and the User CRM")

            async def m2_known() -> str | None:  # usercrm learns the managers from crm.assignment.manager_changed
                r = await u.post(f"/usercrm/customers/{cid}/owner", headers=LEAD,
                                 json={"owner_id": "M2", "reason": "M1 on leave"})
                if r.status_code == 422:
                    return None
                assert r.status_code == 202, r.text
                return r.json()["request_id"]

            request_id = await poll(m2_known, timeout=60, message="owner change accepted for M2")

            async def completed() -> bool:
                r = await u.get(f"/usercrm/requests/{request_id}", headers=LEAD)
                return r.status_code == 200 and r.json()["state"] == "completed"

            await poll(completed, timeout=60, message="the platform completed the owner change")

            async def reassigned() -> dict | None:
                r = await a.get(f"/customers/{cid}/assignments", headers=ADMIN)
                slots = r.json()["slots"] if r.status_code == 200 else []
                return slots[0] if slots and slots[0]["manager_id"] == "M2" else None

            slot = await poll(reassigned, timeout=60, message="the assignment followed the owner change")
            assert slot["reason"] == "owner_change" and slot["assigned_by"] == "L1"
            history = (await a.get(f"/customers/{cid}/assignment-history", headers=ADMIN)).json()["items"]
            why = history[-1]
            assert (why["action"], why["reason"], why["actor"], why["previous_manager_id"]) == (
                "assigned", "owner_change", "L1", "M1")
            assert why["inputs"]["request_id"] == request_id and why["inputs"]["reason"] == "M1 on leave"

            async def moved() -> bool:
                return (await in_scope(c, "/customers", M2) and not await in_scope(c, "/customers", M1)
                        and await in_scope(u, profile, M2) and not await in_scope(u, profile, M1))

            await poll(moved, timeout=60, message="the customer in M2's scope and no longer in M1's")
            owner = (await u.get(profile, headers=M2)).json()["owner"]
            assert owner["manager_id"] == "M2"
            detail = (await c.get(f"/customers/{cid}", headers=M2)).json()
            assert detail["customer_id"] == cid
            assert (await c.get(f"/customers/{cid}", headers=M1)).status_code == 404
            sent = [r["payload"] for r in platform.received if r["payload"]["request_id"] == request_id]
            assert sent and sent[0]["owner"]["previous_owner_id"] == "M1"
    finally:
        await platform.stop()
        await ptask
        await producer.stop()
