"""Access API on SQLite (event store and read model in one database): who may read and change access,
problem+json statuses naming the field, the whole flow (tree, roles, staff, assignments, exit) and the effective
access it gives, keyset pages, the published contracts (no names), rebuild equality, no names in logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import structlog
from sqlalchemy import select

from services.access.bootstrap import bootstrap
from services.access.outbox import AccessOutboxMapper
from services.access.projections.tables import READ_MODEL_TABLES
from services.access.settings import AccessSettings
from shared.events import registry
from shared.runtime.auth import mint_token
from shared.runtime.logging import configure_logging
from shared.runtime.settings import AuthSettings, KafkaSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="unit-test-secret-of-at-least-32-bytes")
TREE = [("whale", "company", None), ("R-APAC", "region", "whale"), ("B-HK", "branch", "R-APAC"),
        ("T-HK", "team", "B-HK"), ("T-HK2", "team", "B-HK")]


class Harness:
    def __init__(self, tmp_path):
        self.settings = AccessSettings(database_url=f"sqlite:///{tmp_path / 'access.db'}", auth=AUTH,
                                       kafka=KafkaSettings(topic_prefix="unit."))
        self.c = bootstrap(self.settings)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.c.api), base_url="http://access")

    @staticmethod
    def token(role: str, user: str = "admin-1") -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role)}"}

    async def call(self, method: str, path: str, json=None, role: str = "admin", **params) -> httpx.Response:
        return await self.client.request(method, path, json=json, params=params, headers=self.token(role))

    async def ok(self, method: str, path: str, json=None, status: int = 200, **params):
        r = await self.call(method, path, json, **params)
        assert r.status_code == status, r.text
        return r.json() if r.content else None

    async def tree(self) -> None:
        for node_id, kind, parent in TREE:
            await self.ok("POST", "/access/org/nodes", {"node_id": node_id, "kind": kind, "parent_id": parent,
                                                        "name": node_id.lower()}, status=201)


@pytest.fixture()
async def h(tmp_path):
    harness = Harness(tmp_path)
    yield harness
    await harness.client.aclose()
    harness.c.engine.dispose()


def problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


async def test_reading_needs_access_manage_or_audit_read_and_changing_access_manage(h):
    assert (await h.client.get("/access/roles")).status_code == 401
    problem(await h.call("GET", "/access/roles", role="manager"), 403)
    problem(await h.call("GET", "/access/staff", role="team_lead"), 403)
    assert (await h.call("GET", "/access/roles", role="auditor")).status_code == 200
    problem(await h.call("POST", "/access/roles", {"role_id": "x", "name": "X", "permissions": [], "scope": "own"},
                         role="auditor"), 403)
    perms = (await h.ok("GET", "/access/permissions"))["items"]
    names = {p["name"] for p in perms}
    assert {"CustomerExport", "CustomerPiiRead", "AssignmentManage", "KycSecondReview", "AccessManage"} <= names
    assert all(p["description"] for p in perms)


async def test_invalid_input_is_422_naming_the_field_unknown_ids_404_duplicates_409(h):
    await h.tree()
    role = {"role_id": "rm", "name": "RM", "permissions": ["CustomerWrite"], "scope": "own"}
    err = problem(await h.call("POST", "/access/roles", {**role, "permissions": ["Nope"]}), 422)
    assert err["errors"][0]["field"] == "permissions"
    err = problem(await h.call("POST", "/access/roles", {**role, "scope": "node", "node_id": "nowhere"}), 422)
    assert err["errors"][0]["field"] == "node_id"
    problem(await h.call("POST", "/access/roles", {**role, "extra": 1}), 422)
    await h.ok("POST", "/access/roles", role, status=201)
    problem(await h.call("POST", "/access/roles", role), 409)
    problem(await h.call("GET", "/access/roles/nope"), 404)
    err = problem(await h.call("POST", "/access/org/nodes", {"node_id": "T-X", "kind": "team", "parent_id": "whale",
                                                            "name": "x"}), 422)
    assert err["errors"][0]["field"] == "parent_id"
    problem(await h.call("POST", "/access/org/nodes", {"node_id": "T-HK", "kind": "team", "parent_id": "B-HK",
                                                      "name": "x"}), 409)
    problem(await h.call("PATCH", "/access/org/nodes/T-HK", {"name": None}), 422)
    problem(await h.call("PATCH", "/access/org/nodes/nope", {"name": "x"}), 404)
    problem(await h.call("POST", "/access/staff/nobody/roles", {"role_id": "rm"}), 404)
    await h.ok("POST", "/access/staff", {"staff_id": "M-1", "display_name": "Ann Lee", "node_id": "T-HK"}, 201)
    problem(await h.call("POST", "/access/staff", {"staff_id": "M-1", "display_name": "Other"}), 409)
    err = problem(await h.call("POST", "/access/staff/M-1/roles", {"role_id": "none"}), 422)
    assert err["errors"][0]["field"] == "role_id"
    err = problem(await h.call("POST", "/access/staff/M-1/roles", {
        "role_id": "rm", "effective_from": "2026-03-02T00:00:00Z", "effective_until": "2026-03-01T00:00:00Z"}), 422)
    assert err["errors"][0]["field"] == "effective_until"
    problem(await h.call("POST", "/access/staff/M-1/roles", {"role_id": "rm", "effective_from": "2026-03-02T00:00"}),
            422)  # no time zone
    problem(await h.call("DELETE", "/access/staff/M-1/roles/nope"), 404)
    problem(await h.call("DELETE", "/access/org/nodes/T-HK"), 409)  # M-1 is there
    problem(await h.call("DELETE", "/access/org/nodes/B-HK"), 409)  # has children


async def test_roles_assignments_and_exit_decide_the_effective_access(h):
    await h.tree()
    await h.ok("POST", "/access/roles", {"role_id": "rm", "name": "Relationship Manager",
                                         "permissions": ["ClientProfileReadOnly", "CustomerWrite"], "scope": "own"}, 201)
    await h.ok("POST", "/access/roles", {"role_id": "bm", "name": "Branch Manager",
                                         "permissions": ["CustomerExport"], "scope": "node"}, 201)
    await h.ok("POST", "/access/staff", {"staff_id": "M-1", "display_name": "Ann Lee", "node_id": "T-HK"}, 201)
    staff = await h.ok("POST", "/access/staff/M-1/roles", {"role_id": "rm"}, 201)
    assert [a["role_id"] for a in staff["assignments"]] == ["rm"]
    eff = await h.ok("GET", "/access/staff/M-1/effective")
    assert eff["permissions"] == ["ClientProfileReadOnly", "CustomerWrite"] and eff["scope"] == "own"
    assert eff["team_id"] == "T-HK" and eff["active"]
    # the member asks for their own answer (what the console shows): no access permission needed
    mine = (await h.client.get("/access/me", headers=h.token("manager", user="M-1"))).json()
    assert {k: mine[k] for k in ("staff_id", "permissions", "scope", "active")} == {
        "staff_id": "M-1", "permissions": eff["permissions"], "scope": "own", "active": True}
    assert (await h.client.get("/access/me")).status_code == 401
    staff = await h.ok("POST", "/access/staff/M-1/roles", {"role_id": "bm", "node_id": "B-HK"}, 201)
    eff = await h.ok("GET", "/access/staff/M-1/effective")
    assert eff["scope"] == "team" and eff["teams"] == ["T-HK", "T-HK2"] and "CustomerExport" in eff["permissions"]
    # a role change reaches every holder; a retired role grants nothing
    await h.ok("PUT", "/access/roles/rm", {"name": "RM", "permissions": ["ClientProfileReadOnly"], "scope": "own"})
    assert "CustomerWrite" not in (await h.ok("GET", "/access/staff/M-1/effective"))["permissions"]
    retired = await h.ok("DELETE", "/access/roles/bm")
    assert retired["retired"] and retired["version"] == 2
    eff = await h.ok("GET", "/access/staff/M-1/effective")
    assert eff["scope"] == "own" and eff["permissions"] == ["ClientProfileReadOnly"]
    problem(await h.call("POST", "/access/staff/M-1/roles", {"role_id": "bm"}), 409)  # retired
    # effective from / until; the answer at another instant
    start = datetime.now(UTC) + timedelta(days=1)
    await h.ok("POST", "/access/roles", {"role_id": "lead", "name": "Team Lead", "permissions": ["AssignmentManage"],
                                         "scope": "team"}, 201)
    await h.ok("POST", "/access/staff/M-1/roles", {"role_id": "lead", "effective_from": start.isoformat(),
                                                   "effective_until": (start + timedelta(days=1)).isoformat()}, 201)
    assert "AssignmentManage" not in (await h.ok("GET", "/access/staff/M-1/effective"))["permissions"]
    later = await h.ok("GET", "/access/staff/M-1/effective", at=(start + timedelta(hours=1)).isoformat())
    assert "AssignmentManage" in later["permissions"] and later["teams"] == ["T-HK"]
    # revoke one, then exit: nothing left
    rm = next(a for a in (await h.ok("GET", "/access/staff/M-1"))["assignments"] if a["role_id"] == "rm")
    staff = await h.ok("DELETE", f"/access/staff/M-1/roles/{rm['assignment_id']}")
    assert "rm" not in {a["role_id"] for a in staff["assignments"]}
    staff = await h.ok("POST", "/access/staff/M-1/exit")
    assert staff["status"] == "exited" and staff["assignments"] == []
    eff = await h.ok("GET", "/access/staff/M-1/effective", at=(start + timedelta(hours=1)).isoformat())
    assert not eff["active"] and eff["permissions"] == [] and eff["roles"] == []
    problem(await h.call("POST", "/access/staff/M-1/roles", {"role_id": "rm"}), 409)
    unknown = await h.ok("GET", "/access/staff/nobody/effective")
    assert not unknown["active"] and unknown["permissions"] == []


async def test_lists_are_keyset_pages(h):
    await h.tree()
    for i in range(5):
        await h.ok("POST", "/access/staff", {"staff_id": f"M-{i}", "display_name": f"n{i}", "node_id": "T-HK2"}, 201)
    seen, cursor = [], None
    while True:
        page = await h.ok("GET", "/access/staff", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [s["staff_id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"M-{i}" for i in range(5)]
    assert len((await h.ok("GET", "/access/staff", node_id="T-HK"))["items"]) == 0
    err = problem(await h.call("GET", "/access/staff", cursor="forged"), 422)
    assert "cursor" in json.dumps(err)
    nodes = await h.ok("GET", "/access/org/nodes", limit=3)
    assert len(nodes["items"]) == 3 and nodes["next_cursor"]


async def test_every_stored_event_publishes_a_valid_contract_without_names(h):
    await h.tree()
    await h.ok("POST", "/access/roles", {"role_id": "rm", "name": "RM", "permissions": ["CustomerWrite"],
                                         "scope": "own"}, 201)
    await h.ok("POST", "/access/staff", {"staff_id": "M-1", "display_name": "Ann Lee", "node_id": "T-HK"}, 201)
    await h.ok("POST", "/access/staff/M-1/roles", {"role_id": "rm"}, 201)
    await h.ok("PATCH", "/access/org/nodes/T-HK2", {"name": "renamed"})
    await h.ok("DELETE", "/access/org/nodes/T-HK2", status=204)
    await h.ok("POST", "/access/staff/M-1/exit")
    app = h.c.app
    mapper = AccessOutboxMapper(h.c.aggregate_at)
    notifications = app.process_recorder.select_notifications(start=1, limit=1000)
    out = [o for n in notifications for o in mapper(app.mapper.to_domain_event(n))]
    wire = [registry.envelope(o.payload, producer="t").model_dump(mode="json") for o in out]
    types = [w["event_type"] for w in wire]
    assert types.count("crm.access.org_node_changed") == 7 and types.count("crm.access.role_changed") == 1
    staff = [w["payload"] for w in wire if w["event_type"] == "crm.access.staff_changed"]
    assert [s["change"] for s in staff] == ["registered", "role_assigned", "exited"]
    assert staff[1]["assignments"][0]["role_id"] == "rm" and staff[2]["assignments"] == []
    assert [s["version"] for s in staff] == [1, 2, 3] and staff[2]["status"] == "exited"
    removed = [w["payload"] for w in wire if w["event_type"] == "crm.access.org_node_changed"][-1]
    assert removed == {**removed, "node_id": "T-HK2", "removed": True, "name": "renamed", "kind": "team"}
    assert "Ann Lee" not in json.dumps(wire)


def _rows(h: Harness) -> dict[str, list]:
    with h.c.sessions() as s:
        return {t.name: sorted(map(tuple, s.execute(select(t)).all()), key=repr) for t in READ_MODEL_TABLES}


async def test_rebuild_gives_the_same_rows(h):
    await h.tree()
    await h.ok("POST", "/access/roles", {"role_id": "rm", "name": "RM", "permissions": ["CustomerWrite"],
                                         "scope": "own"}, 201)
    await h.ok("POST", "/access/roles", {"role_id": "x", "name": "X", "permissions": [], "scope": "all"}, 201)
    await h.ok("DELETE", "/access/roles/x")
    for i in range(3):
        await h.ok("POST", "/access/staff", {"staff_id": f"M-{i}", "display_name": f"n{i}", "node_id": "T-HK"}, 201)
        await h.ok("POST", f"/access/staff/M-{i}/roles", {"role_id": "rm"}, 201)
    await h.ok("PATCH", "/access/staff/M-1", {"node_id": "T-HK2", "display_name": "moved"})
    await h.ok("POST", "/access/staff/M-2/exit")
    await h.ok("PATCH", "/access/org/nodes/B-HK", {"name": "Hong Kong"})
    before = _rows(h)
    assert before["access_assignment"] and before["access_staff_profile"]
    assert h.c.rebuild_read_model() > 10
    assert _rows(h) == before


async def test_staff_names_are_never_logged(h, capsys):
    saved = structlog.get_config()
    configure_logging("DEBUG")
    try:
        await h.tree()
        await h.ok("POST", "/access/staff", {"staff_id": "M-1", "display_name": "Zelda Quokka", "node_id": "T-HK"},
                   201)
        await h.ok("PATCH", "/access/staff/M-1", {"display_name": "Zelda Wombat"})
        await h.ok("POST", "/access/staff/M-1/exit")
        out = capsys.readouterr().out
    finally:
        structlog.configure(**saved)
    events = {json.loads(line)["event"] for line in out.splitlines() if line.startswith("{")}
    assert {"access_staff_registered", "access_staff_updated", "access_staff_exited"} <= events
    assert "Zelda" not in out


async def test_a_command_that_loses_a_concurrent_write_runs_again_on_the_fresh_state(h):
    await h.tree()
    await h.ok("POST", "/access/roles", {"role_id": "rm", "name": "RM", "permissions": [], "scope": "own"}, 201)
    await h.ok("POST", "/access/staff", {"staff_id": "M-1", "display_name": "n", "node_id": "T-HK"}, 201)
    app = h.c.app
    stale = app.get_staff("M-1")  # loaded before another request's exit was stored
    await h.ok("POST", "/access/staff/M-1/exit")
    fresh_loader = app.get_staff
    loads = iter([stale])
    app.get_staff = lambda staff_id: next(loads, None) or fresh_loader(staff_id)
    try:
        from services.access.domain.errors import InvalidTransition

        with pytest.raises(InvalidTransition):  # conflict on save -> reload -> exited: refused
            app.assign_role("M-1", assignment_id="a1", role_id="rm", node_id=None, effective_from=datetime.now(UTC),
                            effective_until=None, at=datetime.now(UTC), by="admin-1")
    finally:
        app.get_staff = fresh_loader
    assert (await h.ok("GET", "/access/staff/M-1"))["assignments"] == []
