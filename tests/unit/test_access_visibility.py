"""Hierarchical visibility through the access directory (issue #20), in the customer service with
CUSTOMER_ACCESS_DIRECTORY=enforce: a role whose scope is an organisation node (a branch) sees the customers of
every team under it — in the list, the counts, the export and the details — and not those of a team under
another branch; a `team` role sees its own team only and an `own` role its own customers, whatever the token
claims (every token here says `admin`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.events.crm_access import (
    AccessOrgNodeChanged,
    AccessRoleChanged,
    AccessStaffChanged,
    RoleAssignment,
)
from shared.runtime.access_directory import apply_access_events
from tests.unit.test_customer_api import assigned, ev, registered, world  # noqa: F401 - world is a fixture

pytestmark = pytest.mark.asyncio
T0 = datetime.now(UTC) - timedelta(days=1)
TREE = [("C", "company", None), ("R", "region", "C"), ("B", "branch", "R"), ("B2", "branch", "R"),
        ("T1", "team", "B"), ("T2", "team", "B"), ("T3", "team", "B2")]
PERMS = ["ClientProfileReadOnly", "CustomerExport"]


@pytest.fixture(autouse=True)
def enforce(monkeypatch):
    monkeypatch.setenv("CUSTOMER_ACCESS_DIRECTORY", "enforce")


def staff(staff_id: str, scope: str, node: str | None = None) -> list:
    return [ev(AccessRoleChanged(role_id=f"role-{staff_id}", name=staff_id, permissions=PERMS, scope=scope,
                                 node_id=node, version=1, changed_at=T0)),
            ev(AccessStaffChanged(staff_id=staff_id, node_id="T1", status="active", change="role_assigned",
                                  version=1, changed_at=T0,
                                  assignments=[RoleAssignment(assignment_id=f"a-{staff_id}", role_id=f"role-{staff_id}",
                                                              effective_from=T0)]))]


async def test_a_node_scope_sees_every_team_under_its_node(world):  # noqa: F811 - the imported fixture
    c, feed, feed_assign, token, client = world
    directory = c.access_directory
    assert directory is not None and not directory.shadow
    directory._loaded = True  # the rows below are the whole topic (no broker in a unit test)
    with c.sessions.begin() as s:
        apply_access_events(s, directory.tables, [
            *[ev(AccessOrgNodeChanged(node_id=n, kind=k, parent_id=p, name=n, version=i + 1, changed_at=T0))
              for i, (n, k, p) in enumerate(TREE)],
            *staff("branch-head", "node", "B"), *staff("lead", "team"), *staff("rm", "own"),
            *staff("everyone", "all")])
    feed(*[registered(f"k{i}", i) for i in range(4)])
    feed_assign(assigned("k0", "rm", "T1"), assigned("k1", "m2", "T1"), assigned("k2", "m3", "T2"),
                assigned("k3", "m4", "T3"))

    async def ids(user: str) -> set[str]:
        r = await client.get("/customers", params={"limit": 100}, headers=token("admin", user))
        assert r.status_code == 200, r.text
        return {i["customer_id"] for i in r.json()["items"]}

    assert await ids("branch-head") == {"k0", "k1", "k2"}  # T1 and T2, under branch B
    assert await ids("lead") == {"k0", "k1"}  # their own team, T1
    assert await ids("rm") == {"k0"}
    assert await ids("everyone") == {"k0", "k1", "k2", "k3"}
    head = token("admin", "branch-head")
    assert (await client.get("/customers/k2", headers=head)).status_code == 200
    assert (await client.get("/customers/k3", headers=head)).status_code == 404  # out of scope: not revealed
    assert (await client.get("/customers/counts", headers=head)).json()["total"] == 3
    r = await client.get("/customers/export", headers=head)
    assert r.status_code == 200 and r.text.count("\nk") == 3
    assert (await client.get("/customers", headers=token("admin", "nobody"))).status_code == 401
