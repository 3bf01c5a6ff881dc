"""Summary API in-process on SQLite: permissions and data scope, problem+json validation naming the field,
daily reports (write, edit, audit trail, team reads), changelog, and the read endpoints' shapes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.summary import samples as s
from services.summary.bootstrap import bootstrap
from services.summary.domain.clock import local_day, today
from services.summary.settings import SummarySettings
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings

AUTH = AuthSettings(jwt_secret="unit-test-secret-unit-test-secret!")
TZ = ZoneInfo("Asia/Hong_Kong")


@pytest.fixture()
async def api(tmp_path):
    settings = SummarySettings(database_url=f"sqlite:///{tmp_path / 'rm.db'}",
                               timezone="Asia/Hong_Kong",
                               auth=AUTH)
    c = bootstrap(settings)
    c.migrate()
    app = c.api
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://summary") as client:
        client.container = c  # type: ignore[attr-defined]
        yield client
    c.dispose()


def tok(user: str, role: str, team: str | None = None, **kw) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id=team, **kw)}"}


M1 = tok("m1", "manager", "t1")
M2 = tok("m2", "manager", "t1")
LEAD1 = tok("lead1", "team_lead", "t1")
LEAD2 = tok("lead2", "team_lead", "t2")
ADMIN = tok("admin", "admin")
OPERATOR = tok("ops", "operator")


async def test_authentication_permission_and_scope(api):
    assert (await api.get("/summary/today")).status_code == 401
    r = await api.get("/summary/today", headers=OPERATOR)  # no ClientProfileReadOnly
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert (await api.get("/summary/today?manager_id=m2", headers=M1)).status_code == 404
    assert (await api.get("/summary/today?team_id=t2", headers=LEAD1)).status_code == 404
    assert (await api.get("/dashboard/nodes?team_id=t1", headers=LEAD1)).status_code == 200
    assert (await api.get("/summary/today?manager_id=m2", headers=ADMIN)).status_code == 200


async def test_the_brokerage_day_is_the_summary_time_zone_s(api):
    """The console takes "today" from here, not from the browser's clock: the day the counts are made in."""
    assert (await api.get("/summary/day")).status_code == 401
    r = await api.get("/summary/day", headers=OPERATOR)  # any signed-in caller: no data in a date
    assert r.status_code == 200
    body = r.json()
    assert body["timezone"] == "Asia/Hong_Kong"
    now = datetime.fromisoformat(body["now"])
    assert now.utcoffset() == timedelta(hours=8)
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)
    assert date.fromisoformat(body["today"]) == now.date() in (today(TZ), today(TZ) - timedelta(days=1))
    assert date.fromisoformat(body["yesterday"]) == now.date() - timedelta(days=1)
    assert date.fromisoformat(body["last_week"]) == now.date() - timedelta(days=7)
    # the same days Today's Summary compares when it is asked without a date
    summary = (await api.get("/summary/today", headers=M1)).json()
    assert (summary["date"], summary["yesterday"], summary["last_week"]) == (body["today"], body["yesterday"],
                                                                             body["last_week"])


async def test_validation_errors_name_the_field(api):
    r = await api.get("/summary/today?date=yesterday", headers=M1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.date"
    r = await api.get("/dashboard/account-opening?from=2024-06-10&to=2024-06-01", headers=M1)
    assert r.status_code == 422 and r.json()["detail"].startswith("from:")
    r = await api.get("/analytics/funnel?from=2020-01-01&to=2024-06-01", headers=M1)
    assert r.status_code == 422 and r.json()["detail"].startswith("to:")
    r = await api.get("/analytics/funnel?group_by=planet", headers=M1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.group_by"
    r = await api.get("/summary/follow-ups?cursor=%%%", headers=M1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.cursor"
    r = await api.get("/summary/follow-ups?limit=0", headers=M1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit"


async def test_daily_report_write_edit_history_and_team_reads(api):
    day = today(TZ).isoformat()
    r = await api.put(f"/summary/reports/{day}", json={"summary": "called 12 customers"}, headers=M1)
    assert r.status_code == 201 and r.json()["version"] == 1 and r.json()["team_id"] == "t1"
    r = await api.put(f"/summary/reports/{day}", json={"summary": "called 14 customers", "next_plan": "visit",
                                                       "expected_version": 1}, headers=M1)
    assert r.status_code == 200 and r.json()["version"] == 2
    same = await api.put(f"/summary/reports/{day}", json={"summary": "called 14 customers", "next_plan": "visit"},
                         headers=M1)
    assert same.json()["version"] == 2  # an identical re-submission records nothing
    stale = await api.put(f"/summary/reports/{day}", json={"summary": "x", "expected_version": 1}, headers=M1)
    assert stale.status_code == 409
    hist = (await api.get(f"/summary/reports/{day}/history", headers=M1)).json()
    assert [(v["version"], v["action"], v["summary"]) for v in hist["versions"]] == [
        (1, "written", "called 12 customers"), (2, "edited", "called 14 customers")]
    assert (await api.get(f"/summary/reports/{day}", headers=M1)).json()["summary"] == "called 14 customers"
    await api.put(f"/summary/reports/{day}", json={"summary": "m2 report"}, headers=M2)
    # a manager never sees another's report; the team lead sees the team's; another team's lead does not
    assert (await api.get(f"/summary/reports/{day}?manager_id=m2", headers=M1)).status_code == 404
    assert (await api.get(f"/summary/reports/{day}?manager_id=m2", headers=LEAD1)).status_code == 200
    assert (await api.get(f"/summary/reports/{day}?manager_id=m2", headers=LEAD2)).status_code == 404
    listing = (await api.get(f"/summary/reports?date={day}", headers=LEAD1)).json()
    assert [(i["manager_id"], i["version"]) for i in listing["items"]] == [("m1", 2), ("m2", 1)]
    assert (await api.get(f"/summary/reports?date={day}", headers=LEAD2)).json()["items"] == []
    mine = (await api.get(f"/summary/reports?date={day}", headers=M2)).json()["items"]
    assert [i["manager_id"] for i in mine] == ["m2"]
    page = (await api.get(f"/summary/reports?date={day}&limit=1", headers=ADMIN)).json()
    assert page["next_cursor"] == "m1"
    shortcuts = (await api.get("/dashboard/shortcuts", headers=M1)).json()
    assert shortcuts["my_report_written_today"] is True


async def test_daily_report_rules(api):
    day = today(TZ)
    future = (day + timedelta(days=1)).isoformat()
    r = await api.put(f"/summary/reports/{future}", json={"summary": "x"}, headers=M1)
    assert r.status_code == 422 and r.json()["detail"].startswith("report_date:")
    old = (day - timedelta(days=8)).isoformat()
    assert (await api.put(f"/summary/reports/{old}", json={"summary": "x"}, headers=M1)).status_code == 409
    r = await api.put(f"/summary/reports/{day}", json={"summary": ""}, headers=M1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "summary"
    r = await api.put(f"/summary/reports/{day}", json={"summary": "x", "mood": "great"}, headers=M1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "mood"
    auditor = tok("aud", "auditor")
    assert (await api.put(f"/summary/reports/{day}", json={"summary": "x"}, headers=auditor)).status_code == 403
    assert (await api.get(f"/summary/reports/{day}", headers=M1)).status_code == 404


async def test_changelog_post_list_withdraw(api):
    assert (await api.post("/dashboard/changelog", json={"title": "t", "body": "b"}, headers=M1)).status_code == 403
    ids = []
    for i in range(3):
        r = await api.post("/dashboard/changelog", json={"title": f"release {i}", "body": "notes",
                                                         "version_label": f"2024.6.{i}"}, headers=OPERATOR)
        assert r.status_code == 201
        ids.append(r.json()["entry_id"])
    page1 = (await api.get("/dashboard/changelog?limit=2", headers=M1)).json()
    page2 = (await api.get(f"/dashboard/changelog?limit=2&cursor={page1['next_cursor']}", headers=M1)).json()
    assert [e["title"] for e in page1["items"] + page2["items"]] == ["release 2", "release 1", "release 0"]
    assert (await api.post(f"/dashboard/changelog/{ids[1]}/withdraw", headers=OPERATOR)).status_code == 200
    titles = [e["title"] for e in (await api.get("/dashboard/changelog", headers=M1)).json()["items"]]
    assert titles == ["release 2", "release 0"]
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await api.post(f"/dashboard/changelog/{missing}/withdraw", headers=OPERATOR)).status_code == 404
    r = await api.post("/dashboard/changelog", json={"title": "", "body": "b"}, headers=OPERATOR)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "title"


async def test_read_endpoints_answer_from_the_read_models(api):
    c = api.container
    # one hour into today's local date: inside "today" whatever the time of the run
    now = local_day(today(TZ), TZ).start.replace(tzinfo=UTC) + timedelta(hours=1, seconds=5)
    events = s.journey("cx", "m1", "t1", now - timedelta(days=3), applied=now - timedelta(days=2),
                       opened=now - timedelta(seconds=5))
    events.append(s.task_created("tk", "cx", "pending_funding", due=now - timedelta(days=1),
                                 at=now - timedelta(days=1), assignee="m1", team="t1"))
    c.handler.apply("crm.test", 0, [s.as_event(e) for e in events], len(events))
    summary = (await api.get("/summary/today", headers=M1)).json()
    assert summary["metrics"]["account_openings"]["today"] == 1
    assert summary["timezone"] == "Asia/Hong_Kong"
    other = (await api.get("/summary/today", headers=M2)).json()
    assert other["metrics"]["account_openings"]["today"] == 0
    nodes = (await api.get("/dashboard/nodes", headers=M1)).json()
    assert nodes["customers_per_stage"]["pending_funding"] == 1 and nodes["open_tasks_per_node"] == {
        "pending_funding": 1}
    due = (await api.get("/summary/follow-ups?overdue=true", headers=M1)).json()
    assert [i["item_id"] for i in due["items"]] == ["task:tk"] and due["items"][0]["overdue"] is True
    assert (await api.get("/summary/follow-ups", headers=M2)).json()["items"] == []
    ao = (await api.get("/dashboard/account-opening", headers=LEAD1)).json()
    assert ao["opened"] == 1 and ao["success_rate"] == 1.0
    assert ao["avg_seconds_submitted_to_opened"] == 2 * 86400 - 5
    funnel = (await api.get("/analytics/funnel?group_by=manager", headers=ADMIN)).json()
    assert funnel["groups"][0]["key"] == "m1" and funnel["total"]["counts"]["opened"] == 1
    sc = (await api.get("/dashboard/shortcuts", headers=M1)).json()
    assert (sc["follow_ups_overdue"], sc["open_tasks"], sc["opened_today"]) == (1, 1, 1)


def test_migrate_from_environment_only(tmp_path, monkeypatch):
    import sqlalchemy

    from services.summary.__main__ import main

    monkeypatch.chdir(tmp_path)  # the defaults put the one database under ./var/summary/
    for var in ("SUMMARY_DATABASE_URL", "SUMMARY_EVENTSTORE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SUMMARY_TIMEZONE", "Asia/Hong_Kong")
    assert main(["migrate"]) == 0
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'var' / 'summary' / 'readmodel.db'}")
    names = set(sqlalchemy.inspect(engine).get_table_names())
    engine.dispose()
    assert {"sm_fact", "sm_follow_up", "sm_node_count", "consumer_position", "sm_daily_report"} <= names
    assert {"stored_events", "tracking"} <= names  # the event store of reports and changelog, in the same database
    monkeypatch.setenv("SUMMARY_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="time zone"):
        main(["migrate"])
