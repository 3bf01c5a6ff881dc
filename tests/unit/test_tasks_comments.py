"""Comments across all tickets: search and view in the caller's ticket visibility, delete your own, and an
admin (CommentModerate) deletes anyone's (one SQLite database)."""

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
    container = bootstrap(TasksSettings(database_url=sqlite_url("comments"), auth=AUTH))
    container.migrate()
    with container.sessions.begin() as s:
        for cid, manager, team in (("c1", "m1", "t1"), ("c2", "m2", "t2")):
            s.execute(customers.insert().values(customer_id=cid, name="Ann Lee", manager_id=manager, team_id=team,
                                                stage="pending_funding", registered_at=datetime(2026, 1, 1, tzinfo=UTC)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=container.api), base_url="http://t") as c:
        yield c, container
    await container.stop()


async def _ticket(client, customer: str, headers: dict[str, str], comments: list[tuple[str, dict[str, str]]]):
    r = await client.post("/tickets", json={"customer_id": customer, "title": f"about {customer}"}, headers=headers)
    assert r.status_code == 201, r.text
    tid = r.json()["ticket_id"]
    ids = []
    for body, h in comments:
        r = await client.post(f"/tickets/{tid}/comments", json={"body": body}, headers=h)
        assert r.status_code == 201, r.text
        ids.append(r.json()["comment_id"])
    return tid, ids


async def test_search_view_and_delete_across_tickets(api):
    client, container = api
    m1, lead, m2, admin = bearer("m1"), bearer("lead", "team_lead"), bearer("m2", team="t2"), bearer("adm", "admin", None)
    _, (own, leads) = await _ticket(client, "c1", m1, [("called the customer", m1), ("Escalated 100%", lead)])
    _, (other,) = await _ticket(client, "c2", m2, [("called about c2", m2)])

    page = (await client.get("/comments", headers=m1)).json()
    assert [c["comment_id"] for c in page["items"]] == [leads, own]  # newest first, only c1's tickets
    assert page["items"][0]["ticket_title"] == "about c1" and page["items"][0]["author_id"] == "lead"
    everything = (await client.get("/comments", headers=admin, params={"q": "CALLED"})).json()["items"]
    assert {c["comment_id"] for c in everything} == {own, other}
    assert (await client.get("/comments", headers=admin, params={"q": "100%"})).json()["items"][0]["comment_id"] \
        == leads
    first = (await client.get("/comments", headers=admin, params={"limit": 2})).json()
    rest = (await client.get("/comments", headers=admin, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert len(first["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert (await client.get("/comments", headers=m1, params={"cursor": "!!"})).status_code == 422
    assert (await client.get(f"/comments/{own}", headers=m1)).json()["body"] == "called the customer"
    assert (await client.get(f"/comments/{other}", headers=m1)).status_code == 404  # not in scope

    assert (await client.delete(f"/comments/{leads}", headers=m1)).status_code == 403  # not the author
    assert (await client.delete(f"/comments/{own}", headers=m1)).status_code == 204
    assert (await client.delete(f"/comments/{other}", headers=admin)).status_code == 204  # moderator
    left = (await client.get("/comments", headers=admin)).json()["items"]
    assert [c["comment_id"] for c in left] == [leads]
    assert (await client.delete(f"/comments/{own}", headers=m1)).status_code == 404
    assert (await client.get("/comments", headers=bearer("aud", "auditor", None))).status_code == 403
