"""The demo staff's User CRM steps are valid requests to the real API (in-process, SQLite): messages,
deposits and allocations are accepted, big ones wait for approval, and the checker's decisions go through."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from devtools import seed_usercrm
from services.usercrm.bootstrap import bootstrap
from services.usercrm.projections.info import apply_info
from services.usercrm.settings import UsercrmSettings
from shared.events import encode, registry
from shared.events import upstream as up
from shared.events.crm_assignment import CustomerAssigned
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="unit-secret-of-at-least-32-bytes-long")


async def test_staff_steps_are_accepted_by_the_api(tmp_path: Path):
    c = bootstrap(UsercrmSettings(database_url=f"sqlite:///{tmp_path / 'rm.db'}", auth=AUTH))
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    events = [up.CustomerRegistered(customer_id="C1", registered_at=t0, channel="organic", name="Ann"),
              CustomerAssigned(customer_id="C1", manager_id="M1", team_id="T1", reason="manual", assigned_at=t0),
              up.AccountOpened(customer_id="C1", account_id="A1", opened_at=t0)]
    with c.sessions.begin() as s:
        apply_info(s, [registry.decode(encode(registry.envelope(p, producer="platform"))) for p in events])
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://uc")
    statuses: list[tuple[str, int]] = []

    async def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/tasks":
            return httpx.Response(200, json={"items": [{"customer_id": "C1"}]})
        r = await api.request(request.method, request.url.path, params=request.url.params,
                              headers=request.headers, content=request.content)
        statuses.append((f"{request.method} {request.url.path}", r.status_code))
        return httpx.Response(r.status_code, content=r.content, headers=r.headers)

    manager = {"Authorization": f"Bearer {mint_token(AUTH, user_id='M1', role='manager', team_id='T1')}"}
    checker = {"Authorization": f"Bearer {mint_token(AUTH, user_id='admin-1', role='admin')}"}
    rng = random.Random(4)
    async with httpx.AsyncClient(transport=httpx.MockTransport(route)) as client:
        for _ in range(40):
            await seed_usercrm.act_one(client, {"usercrm": 1, "tasks": 2}, manager, checker, rng)
    await api.aclose()
    c.engine.dispose()
    c.app.close()
    assert statuses and all(code < 400 for _, code in statuses), [s for s in statuses if s[1] >= 400]
    kinds = {path.rsplit("/", 1)[-1] for path, _ in statuses}
    assert {"messages", "deposits", "allocations", "approvals"} <= kinds and kinds & {"approve", "decline"}
