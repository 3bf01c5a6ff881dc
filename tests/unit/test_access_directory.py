"""The kit's access directory on SQLite: crm.access events in any order, repeated, give the same tables; the
answers follow role changes, revocations and exits (at once in the consuming process, within `refresh_s`
in another); an app with a directory refuses an exited member whatever their token claims."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import structlog
from fastapi import Depends
from sqlalchemy import select

from shared.events import registry
from shared.events.crm_access import (
    AccessOrgNodeChanged,
    AccessRoleChanged,
    AccessStaffChanged,
    RoleAssignment,
)
from shared.runtime.access_directory import AccessDirectory
from shared.runtime.api import create_app
from shared.runtime.auth import AuthError, Perm, Principal, Scope, mint_token, require
from shared.runtime.db import make_engine, session_factory
from shared.runtime.settings import AuthSettings, KafkaSettings

AUTH = AuthSettings(jwt_secret="unit-test-secret-of-at-least-32-bytes")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def event(payload):
    return registry.decode(registry.envelope(payload, producer="whale-crm/access").model_dump(mode="json"))


def node(node_id, kind, parent, version):
    return event(AccessOrgNodeChanged(node_id=node_id, kind=kind, parent_id=parent, name=node_id, version=version,
                                      changed_at=T0))


def role(role_id, perms, scope, version, *, node_id=None, retired=False):
    return event(AccessRoleChanged(role_id=role_id, name=role_id, permissions=perms, scope=scope, node_id=node_id,
                                   retired=retired, version=version, changed_at=T0))


def staff(staff_id, version, *roles, node_id="T-HK", status="active", change="updated", until=None):
    return event(AccessStaffChanged(
        staff_id=staff_id, node_id=node_id, status=status, change=change, version=version, changed_at=T0,
        assignments=[RoleAssignment(assignment_id=f"{staff_id}-{r}", role_id=r, effective_from=T0,
                                    effective_until=until) for r in roles]))


HISTORY = [
    node("whale", "company", None, 1), node("R-APAC", "region", "whale", 2), node("B-HK", "branch", "R-APAC", 3),
    node("T-HK", "team", "B-HK", 4), node("T-SG", "team", "B-HK", 5), node("T-SG", "team", "B-HK", 6),
    role("rm", ["ClientProfileReadOnly", "CustomerWrite"], "own", 1),
    role("gm", ["ClientProfileReadOnly", "CustomerExport"], "node", 1, node_id="R-APAC"),
    role("rm", ["ClientProfileReadOnly"], "own", 2),
    staff("M-1", 1, change="registered"), staff("M-1", 2, "rm"), staff("M-1", 3, "rm", "gm"),
    staff("M-2", 1, "rm", change="registered"), staff("M-2", 2, status="exited", change="exited"),
    role("old", ["TaskWrite"], "all", 1), role("old", ["TaskWrite"], "all", 2, retired=True),
]


class Dir:
    def __init__(self, tmp_path, name="svc", **kw):
        self.engine = make_engine(f"sqlite:///{tmp_path / f'{name}.db'}")
        self.now = [0.0]
        self.d = AccessDirectory(service="kyc", kafka=KafkaSettings(topic_prefix="unit."), engine=self.engine,
                                 sessions=session_factory(self.engine), clock=lambda: T0 + timedelta(hours=1),
                                 monotonic=lambda: self.now[0], **kw)
        self.d.migrate()
        self.offset = 0
        self.handler = self.d.handler()

    def feed(self, *events, partition=0):
        self.offset += len(events)
        self.handler.apply("unit.crm.access.events", partition, list(events), self.offset)
        self.d.invalidate()  # what the consumer's on_applied does

    def rows(self):
        with self.d.sessions() as s:
            return {t.name: sorted(map(tuple, s.execute(select(t)).all()), key=repr) for t in self.d.tables.all}


def test_any_order_and_repeats_give_the_same_directory(tmp_path):
    in_order = Dir(tmp_path, "ordered")
    in_order.feed(*HISTORY)
    expected = in_order.rows()
    assert len(expected["access_dir_assignment"]) == 2  # M-1's two roles; M-2 exited
    rng = random.Random(20)
    for i in range(5):
        shuffled = list(HISTORY) * 2
        rng.shuffle(shuffled)
        d = Dir(tmp_path, f"shuffled{i}")
        for k in range(0, len(shuffled), 3):  # batches of three: several statements' worth of ordering
            d.feed(*shuffled[k:k + 3], partition=k % 2)
        assert d.rows() == expected
        d.engine.dispose()
    in_order.engine.dispose()


def test_answers_follow_role_changes_revocations_and_exit(tmp_path):
    d = Dir(tmp_path)
    d.feed(*HISTORY)
    acc = d.d.access("M-1")
    assert acc.permissions == {"ClientProfileReadOnly", "CustomerExport"}  # rm v2 lost CustomerWrite
    assert acc.scope is Scope.team and acc.teams == ("T-HK", "T-SG")
    assert not d.d.access("M-2").active and not d.d.access("nobody").active
    d.feed(role("gm", ["ClientProfileReadOnly"], "team", 2))
    assert d.d.access("M-1").permissions == {"ClientProfileReadOnly"} and d.d.access("M-1").teams == ("T-HK",)
    d.feed(staff("M-1", 4, "gm"))  # rm revoked
    assert d.d.access("M-1").roles == ("gm",)
    d.feed(staff("M-1", 3, "rm", "gm"))  # a late, older state changes nothing
    assert d.d.access("M-1").roles == ("gm",)
    d.feed(staff("M-1", 5, status="exited", change="exited"))
    assert not d.d.access("M-1").active and d.d.access("M-1").permissions == frozenset()


def test_another_process_sees_a_revocation_within_refresh_s(tmp_path):
    writer = Dir(tmp_path, "shared", refresh_s=2.0)
    writer.feed(*HISTORY)
    reader = AccessDirectory(service="kyc", kafka=KafkaSettings(), engine=writer.engine, sessions=writer.d.sessions,
                             refresh_s=2.0, monotonic=lambda: writer.now[0], clock=lambda: T0 + timedelta(hours=1))
    assert reader.access("M-1").active
    writer.feed(staff("M-1", 9, status="exited", change="exited"))  # consumed in another process
    writer.now[0] = 1.9
    assert reader.access("M-1").active  # still cached
    writer.now[0] = 2.0
    assert not reader.access("M-1").active  # refreshed: refused within refresh_s


def test_an_assignment_ending_ends_the_cached_answer(tmp_path):
    d = Dir(tmp_path, refresh_s=3600)
    d.feed(*HISTORY[:7], staff("M-3", 1, "rm", change="registered", until=T0 + timedelta(hours=2)))
    assert d.d.access("M-3", T0 + timedelta(hours=1)).permissions
    assert d.d.cached("M-3", T0 + timedelta(hours=2)) is None
    assert d.d.access("M-3", T0 + timedelta(hours=2)).permissions == frozenset()


@pytest.mark.asyncio
async def test_an_app_with_a_directory_trusts_it_not_the_token(tmp_path):
    d = Dir(tmp_path)
    d.feed(*HISTORY)

    async def loaded() -> bool:  # read to the end (no broker in a unit test: the 503 before it has its own test)
        return True

    d.d.loaded = loaded
    app = create_app(service="probe", auth=AUTH)
    app.state.access_directory = d.d

    @app.get("/export")
    async def export(principal: Principal = Depends(require(Perm.CustomerExport))) -> dict:
        return {"user": principal.user_id, "scope": str(principal.scope), "teams": list(principal.teams)}

    @app.get("/write")
    async def write(principal: Principal = Depends(require(Perm.CustomerWrite))) -> dict:
        return {}

    def admin(user):  # a token claiming every permission and the whole company
        return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role='admin')}"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as client:
        r = await client.get("/export", headers=admin("M-1"))
        assert r.status_code == 200 and r.json() == {"user": "M-1", "scope": "team", "teams": ["T-HK", "T-SG"]}
        assert (await client.get("/write", headers=admin("M-1"))).status_code == 403  # the role lost it
        assert (await client.get("/export", headers=admin("M-2"))).status_code == 401  # exited
        assert (await client.get("/export", headers=admin("stranger"))).status_code == 401
        d.feed(staff("M-1", 7, status="exited", change="exited"))
        r = await client.get("/export", headers=admin("M-1"))
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    with pytest.raises(AuthError):
        await d.d.resolve(Principal(user_id="M-1"))


@pytest.mark.asyncio
async def test_shadow_mode_lets_the_token_decide_and_logs_each_difference_once_per_fresh_answer(tmp_path):
    d = Dir(tmp_path, shadow=True)
    d.feed(*HISTORY)
    app = create_app(service="probe", auth=AUTH)
    app.state.access_directory = d.d

    @app.get("/write")
    async def write(principal: Principal = Depends(require(Perm.CustomerWrite))) -> dict:
        return {"scope": str(principal.scope)}

    def token(user, role):
        return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id='T-HK')}"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as client:
        with structlog.testing.capture_logs() as logs:
            r = await client.get("/write", headers=token("M-1", "manager"))  # the directory: no CustomerWrite
            assert r.status_code == 200 and r.json() == {"scope": "own"}  # the token decided
            assert (await client.get("/write", headers=token("M-1", "manager"))).status_code == 200
            assert (await client.get("/write", headers=token("M-2", "manager"))).status_code == 200  # exited
            d.now[0] = 5.0  # the answers aged out: compared again
            assert (await client.get("/write", headers=token("M-1", "manager"))).status_code == 200
    found = [e for e in logs if e["event"] == "access_directory_mismatch"]
    assert [(e["user_id"], e["kind"]) for e in found] == [("M-1", "permissions"), ("M-2", "not_staff"),
                                                         ("M-1", "permissions")]
    assert "CustomerWrite" in found[0]["token_only"] and "CustomerExport" in found[0]["directory_only"]
    assert found[0]["directory_scope"] == "team" and found[0]["directory_teams"] == ["T-HK", "T-SG"]


@pytest.mark.asyncio
async def test_a_stranger_before_the_first_load_is_told_to_retry_not_refused(tmp_path):
    """Until the directory has read the access topic to its end, a caller it does not know gets 503 with
    Retry-After (they may be in the part not read yet) and the API is not ready; a known member is answered."""
    d = Dir(tmp_path)
    d.feed(*HISTORY)
    loaded = [False]

    async def load() -> bool:
        return loaded[0]

    d.d.loaded = load
    app = create_app(service="probe", auth=AUTH, access_directory=d.d)

    @app.get("/export")
    async def export(principal: Principal = Depends(require(Perm.CustomerExport))) -> dict:
        return {}

    def admin(user):
        return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role='admin')}"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as client:
        r = await client.get("/export", headers=admin("stranger"))
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert (await client.get("/export", headers=admin("M-1"))).status_code == 200
        assert (await client.get("/export", headers=admin("M-2"))).status_code == 401  # an exit it holds is final
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and "ready" in ready.json()["checks"]
        loaded[0] = True
        assert (await client.get("/export", headers=admin("stranger"))).status_code == 401
        assert "ready" not in (await client.get("/readyz")).json().get("checks", {})


@pytest.mark.asyncio
async def test_the_access_service_bootstraps_its_first_access_manager_by_token_only(tmp_path):
    """`bootstrap=True` (the access service on its own read model): while no active member holds AccessManage
    with the `all` scope, a caller who has not exited is judged by their token (a member without a role yet
    too: the first access manager is created, then given the role); from then on, not any more."""
    d = Dir(tmp_path, bootstrap=True)
    d.d._loaded = True  # as the access service's own read model: nothing to wait for
    d.feed(*HISTORY)
    token = Principal(user_id="admin-1", permissions=frozenset({"AccessManage"}), scope=Scope.all)
    assert await d.d.resolve(token) is token  # nobody manages access yet
    assert await d.d.resolve(Principal(user_id="M-1")) == Principal(user_id="M-1")  # a member: the token too
    with pytest.raises(AuthError):
        await d.d.resolve(Principal(user_id="M-2", permissions=frozenset({"AccessManage"})))  # exited member
    d.feed(role("access_admin", ["AccessManage"], "all", 1), staff("admin-1", 1, change="registered"))
    assert await d.d.resolve(token) is token  # registered, no role yet: still the token
    d.feed(staff("admin-1", 2, "access_admin"))
    assert (await d.d.resolve(token)).permissions == frozenset({"AccessManage"})  # now the tables
    assert (await d.d.resolve(Principal(user_id="M-1", permissions=frozenset({"AccessManage"})))
            ).permissions == frozenset({"ClientProfileReadOnly", "CustomerExport"})
    with pytest.raises(AuthError):
        await d.d.resolve(Principal(user_id="stranger", permissions=frozenset({"AccessManage"})))
