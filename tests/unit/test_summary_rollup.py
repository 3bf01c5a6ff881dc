"""Today's Summary by organisation level on SQLite: the tree from crm.access events folded by the summary's own
access directory, the team figures from the customer / assignment events folded by its handler; a node's
figures are the sums of the teams under it, one row per child, only the teams the caller may see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.summary import samples as s
from services.summary.bootstrap import bootstrap
from services.summary.domain.clock import local_day, today
from services.summary.settings import SummarySettings
from shared.events import registry
from shared.events.crm_access import AccessOrgNodeChanged
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings

AUTH = AuthSettings(jwt_secret="unit-test-secret-unit-test-secret!")
TZ = ZoneInfo("Asia/Hong_Kong")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TREE = [("whale", "company", None), ("R-A", "region", "whale"), ("R-E", "region", "whale"),
        ("B-HK", "branch", "R-A"), ("B-SG", "branch", "R-A"), ("B-LD", "branch", "R-E"),
        ("T-HK", "team", "B-HK"), ("T-HK2", "team", "B-HK"), ("T-SG", "team", "B-SG"), ("T-LD", "team", "B-LD")]


def node_event(node_id, kind, parent, version):
    payload = AccessOrgNodeChanged(node_id=node_id, kind=kind, parent_id=parent, name=f"{node_id} name",
                                   version=version, changed_at=T0)
    return registry.decode(registry.envelope(payload, producer="whale-crm/access").model_dump(mode="json"))


def tok(user: str, role: str, team: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id=team)}"}


@pytest.fixture()
async def api(tmp_path):
    settings = SummarySettings(database_url=f"sqlite:///{tmp_path / 'rm.db'}", timezone="Asia/Hong_Kong",
                               auth=AUTH, access_directory="shadow")
    c = bootstrap(settings)
    c.migrate()
    events = [node_event(n, k, p, v) for v, (n, k, p) in enumerate(TREE, 1)]
    c.access_directory.handler().apply("crm.access.events", 0, events, len(events))
    now = local_day(today(TZ), TZ).start.replace(tzinfo=UTC) + timedelta(hours=1, seconds=5)
    opened = []  # one account opening today in T-HK, two in T-HK2, one in T-SG, four in T-LD
    for i, (team, n) in enumerate([("T-HK", 1), ("T-HK2", 2), ("T-SG", 1), ("T-LD", 4)]):
        for j in range(n):
            opened += s.journey(f"c{i}{j}", f"m-{team}", team, now - timedelta(days=3), applied=now - timedelta(days=2),
                                opened=now - timedelta(seconds=5))
    c.handler.apply("crm.test", 0, [s.as_event(e) for e in opened], len(opened))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://summary") as client:
        yield client
    c.dispose()


def figures(body):
    return ({body["node"]["node_id"]: body["node"]["metrics"]["account_openings"]["today"]},
            {r["node_id"]: r["metrics"]["account_openings"]["today"] for r in body["children"]})


async def test_the_company_rolls_up_its_regions_and_a_region_its_branches(api):
    admin = tok("admin", "admin")
    r = await api.get("/summary/rollup", headers=admin)
    assert r.status_code == 200, r.text
    assert figures(r.json()) == ({"whale": 8}, {"R-A": 4, "R-E": 4})
    body = (await api.get("/summary/rollup?node_id=R-A", headers=admin)).json()
    assert figures(body) == ({"R-A": 4}, {"B-HK": 3, "B-SG": 1})
    assert body["node"]["kind"] == "region" and body["node"]["name"] == "R-A name"
    assert body["node"]["teams"] == ["T-HK", "T-HK2", "T-SG"]
    assert figures((await api.get("/summary/rollup?node_id=B-HK", headers=admin)).json()) == (
        {"B-HK": 3}, {"T-HK": 1, "T-HK2": 2})
    team = (await api.get("/summary/rollup?node_id=T-HK2", headers=admin)).json()
    assert figures(team) == ({"T-HK2": 2}, {})
    assert team["node"]["metrics"]["account_openings"]["change_vs_yesterday"] == 2
    # the same totals as Today's Summary for the whole company
    summary = (await api.get("/summary/today", headers=admin)).json()
    assert summary["metrics"]["account_openings"]["today"] == 8


async def test_only_the_teams_in_scope_count_and_an_own_scope_has_no_rollup(api):
    lead = tok("lead", "team_lead", "T-HK")  # team scope: T-HK only
    body = (await api.get("/summary/rollup", headers=lead)).json()
    assert figures(body) == ({"whale": 1}, {"R-A": 1})  # Europe has no team of theirs: left out
    assert body["node"]["teams"] == ["T-HK"]
    assert (await api.get("/summary/rollup?node_id=R-E", headers=lead)).status_code == 404
    assert (await api.get("/summary/rollup?node_id=nowhere", headers=tok("admin", "admin"))).status_code == 404
    r = await api.get("/summary/rollup", headers=tok("m1", "manager", "T-HK"))
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert (await api.get("/summary/rollup?date=1800-01-01", headers=lead)).status_code == 422
