"""The demo organisation in the access service (devtools.seed_access, what `make run` seeds): every demo user's
effective access there is what their ready-made token claims (same permissions, same scope), and seeding twice
changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from devtools import seed_access, seed_campaigns
from devtools.devsignin import DEMO_USERS
from devtools.seed import MANAGERS, TEAMS
from services.access.bootstrap import bootstrap
from services.access.projections.queries import effective, staff_row
from services.access.settings import AccessSettings
from shared.runtime.auth import ROLES
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="unit-test-secret-of-at-least-32-bytes")


@pytest.mark.parametrize("directory", ["off", "enforce"])
async def test_demo_staff_get_in_the_access_service_what_their_tokens_say(tmp_path, monkeypatch, directory):
    """With ACCESS_ACCESS_DIRECTORY=enforce (as `make run` starts it) the seed's admin token is trusted only
    until the admin holds the admin role (the bootstrap of the first access manager), then the read model
    decides: the seed still goes through, twice."""
    monkeypatch.setenv("ACCESS_ACCESS_DIRECTORY", directory)
    c = bootstrap(AccessSettings(database_url=f"sqlite:///{tmp_path / 'access.db'}", auth=AUTH))
    transport = httpx.ASGITransport(app=c.api)
    real = httpx.AsyncClient

    def in_process(*args, **kwargs):  # the seed talks HTTP to 127.0.0.1:<port>; here, to the app in-process
        return real(*args, **{**kwargs, "transport": transport})

    monkeypatch.setattr(seed_access.httpx, "AsyncClient", in_process)
    try:
        await seed_access.seed_access(8108, AUTH, TEAMS, MANAGERS, strict=True)
        await seed_access.seed_access(8108, AUTH, TEAMS, MANAGERS, strict=True)  # idempotent
        with c.sessions() as s:
            for role, user, team, _ in DEMO_USERS:
                if role not in ROLES:
                    continue
                acc = effective(s, user, datetime.now(UTC))
                assert acc.permissions == {str(p) for p in ROLES[role]["perms"]}, user
                assert acc.scope == ROLES[role]["scope"], user
                if role == "team_lead":
                    assert acc.teams == (team,)
                # the match review queue's merge / reject / unmerge: team leads and admins, not managers
                assert ("CustomerMerge" in acc.permissions) == (role in ("team_lead", "admin")), user
                assert len(staff_row(s, user)["assignments"]) == 1
            assert all(staff_row(s, m["manager_id"]) for m in MANAGERS)
            # the peer who approves the demo's campaigns (devtools.seed_campaigns) is a team lead of the same team:
            # with the directory enforced, a reviewer who is not a staff member would be refused
            peer = effective(s, seed_campaigns.PEER, datetime.now(UTC))
            lead = effective(s, seed_campaigns.LEAD, datetime.now(UTC))
            assert peer.active and peer.permissions == lead.permissions and peer.teams == (seed_campaigns.TEAM,)
    finally:
        c.engine.dispose()
