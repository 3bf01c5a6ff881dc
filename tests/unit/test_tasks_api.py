"""API edges without a broker: authentication, permissions, scope, validation (one SQLite database)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from services.tasks.bootstrap import bootstrap
from services.tasks.projections.tables import customers
from services.tasks.settings import TasksSettings
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret=SecretStr("unit-secret-unit-secret-unit-secret"))


def bearer(user: str, role: str = "manager", team: str | None = "t1") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id=team)}"}


@pytest.fixture()
async def api(sqlite_url):
    container = bootstrap(TasksSettings(database_url=sqlite_url("api"), auth=AUTH))
    container.migrate()
    with container.sessions.begin() as s:
        s.execute(customers.insert().values(customer_id="c1", name="Ann Lee", manager_id="m1", team_id="t1",
                                            stage="registered", registered_at=datetime(2026, 1, 1, tzinfo=UTC)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=container.api), base_url="http://t") as c:
        yield c
    await container.stop()


async def test_authentication_and_permissions(api):
    assert (await api.get("/tasks")).status_code == 401
    assert (await api.get("/tasks", headers={"Authorization": "Bearer nonsense"})).status_code == 401
    r = await api.post("/customers/c1/follow-ups", json={"remarks": "hi"}, headers=bearer("aud", role="auditor"))
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert (await api.get("/tickets", headers=bearer("aud", role="auditor"))).status_code == 403


async def test_scope_and_validation(api):
    m1, m2 = bearer("m1"), bearer("m2", team="t2")
    assert (await api.get("/tasks", params={"view": "all"}, headers=m1)).status_code == 403
    bad_node = await api.get("/tasks", params={"node": "nope"}, headers=m1)
    assert bad_node.status_code == 422 and bad_node.json()["errors"][0]["field"] == "query.node"
    assert (await api.get("/tasks", params={"cursor": "!!"}, headers=m1)).status_code == 422
    assert (await api.get("/tasks/unknown", headers=m1)).status_code == 404
    counts = (await api.get("/tasks/counts", headers=m1)).json()
    assert {c["node"] for c in counts} >= {"tmt_registration", "pending_funding"} and all(
        c["open"] == 0 for c in counts)
    # customer-level resources: own customer yes, someone else's customer is "not found"
    assert (await api.get("/customers/c1/follow-ups", headers=m1)).status_code == 200
    assert (await api.get("/customers/c1/follow-ups", headers=m2)).status_code == 404
    assert (await api.get("/customers/c1/follow-ups", headers=bearer("lead", role="team_lead"))).status_code == 200
    r = await api.post("/customers/c1/follow-ups", json={"remarks": "first call", "contact_methods": ["phone"]},
                       headers=m1)
    assert r.status_code == 201 and r.json()["completed_task_id"] is None
    unknown_task = await api.post("/customers/c1/follow-ups",
                                  json={"remarks": "x", "task_id": "3f0e6f7e-0000-4000-8000-000000000000"},
                                  headers=m1)
    assert unknown_task.status_code == 404
    empty = await api.post("/customers/c1/follow-ups", json={}, headers=m1)
    assert empty.status_code == 422
    # tickets are for opened accounts only, and only for customers in scope
    assert (await api.post("/tickets", json={"customer_id": "c1", "title": "t"}, headers=m1)).status_code == 409
    assert (await api.post("/tickets", json={"customer_id": "c1", "title": "t"}, headers=m2)).status_code == 404
    long_title = await api.post("/tickets", json={"customer_id": "c1", "title": "x" * 201}, headers=m1)
    assert long_title.status_code == 422 and long_title.json()["errors"][0]["field"] == "title"
    assert (await api.get("/tickets/not-a-ticket", headers=m1)).status_code == 404


async def test_one_database_refuses_a_separate_event_store(monkeypatch):
    """TASKS_EVENTSTORE_URL is gone: accepted only when it is TASKS_DATABASE_URL (the manifests set both)."""
    from pydantic import ValidationError

    assert TasksSettings(database_url="sqlite:///var/t.db", eventstore_url="sqlite:///var/t.db").eventstore_url
    monkeypatch.setenv("TASKS_DATABASE_URL", "postgresql://crm@db/tasks")
    monkeypatch.setenv("TASKS_EVENTSTORE_URL", "postgresql://crm@db/tasks_events")
    with pytest.raises(ValidationError, match="TASKS_EVENTSTORE_URL is no longer used"):
        TasksSettings()
