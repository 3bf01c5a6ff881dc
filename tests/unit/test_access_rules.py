"""The shared access rules (`shared.runtime.access.effective_access`): assignments in force only, union of
permissions, widest data scope, the teams under an organisation node, exit and unknown members get nothing;
and the access service's aggregates refuse what the rules refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.access.domain.errors import AlreadyExists, InvalidInput, InvalidTransition, StillInUse
from services.access.domain.org import OrgTree
from services.access.domain.role import Role
from services.access.domain.staff import Staff
from shared.runtime.access import AccessFacts, Grant, Node, effective_access, teams_under
from shared.runtime.auth import Scope

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TREE = {n.node_id: n for n in (
    Node("whale", "company", None), Node("R-APAC", "region", "whale"), Node("R-EU", "region", "whale"),
    Node("B-HK", "branch", "R-APAC"), Node("B-SG", "branch", "R-APAC"), Node("B-LON", "branch", "R-EU"),
    Node("T-HK", "team", "B-HK"), Node("T-HK2", "team", "B-HK"), Node("T-SG", "team", "B-SG"),
    Node("T-LON", "team", "B-LON"),
)}


def grant(role: str, perms: set[str], scope: str, node: str | None = None, start: datetime = T0,
          until: datetime | None = None) -> Grant:
    return Grant(role, frozenset(perms), scope, node, start, until)


def facts(*grants: Grant, node: str | None = "T-HK", active: bool = True, known: bool = True) -> AccessFacts:
    return AccessFacts("M-1", known, active, node, grants, TREE)


def test_teams_under_a_node_are_every_team_of_its_subtree():
    assert teams_under(TREE, "R-APAC") == {"T-HK", "T-HK2", "T-SG"}
    assert teams_under(TREE, "whale") == {"T-HK", "T-HK2", "T-SG", "T-LON"}
    assert teams_under(TREE, "T-LON") == {"T-LON"}
    assert teams_under(TREE, "gone") == set() and teams_under(TREE, None) == set()


def test_permissions_are_the_union_and_the_scope_the_widest():
    rm = grant("rm", {"ClientProfileReadOnly", "CustomerWrite"}, "own")
    gm = grant("gm", {"ClientProfileReadOnly", "CustomerExport"}, "node", "R-APAC")
    acc = effective_access(facts(rm), T0 + timedelta(hours=1))
    assert acc.permissions == {"ClientProfileReadOnly", "CustomerWrite"} and acc.scope is Scope.own
    assert acc.teams == () and acc.team_id == "T-HK"
    acc = effective_access(facts(rm, gm), T0 + timedelta(hours=1))
    assert acc.permissions == {"ClientProfileReadOnly", "CustomerWrite", "CustomerExport"}
    assert acc.scope is Scope.team and acc.teams == ("T-HK", "T-HK2", "T-SG")
    assert acc.roles == ("gm", "rm")
    lead = grant("lead", {"AssignmentManage"}, "team")
    acc = effective_access(facts(lead), T0)
    assert acc.scope is Scope.team and acc.teams == ("T-HK",)
    everyone = grant("head", {"ClientProfileReadOnly"}, "all")
    acc = effective_access(facts(gm, everyone), T0)
    assert acc.scope is Scope.all and acc.teams == ()
    principal = acc.principal()
    assert principal.user_id == "M-1" and principal.scope is Scope.all and principal.has("CustomerExport")


def test_a_node_role_without_a_node_is_anchored_at_the_members_node():
    branch = grant("bm", {"ClientProfileReadOnly"}, "node")
    assert effective_access(facts(branch, node="B-HK"), T0).teams == ("T-HK", "T-HK2")
    assert effective_access(facts(branch, node="B-HK"), T0).team_id is None


def test_only_assignments_in_force_count_and_the_answer_says_when_it_changes():
    later = grant("rm", {"CustomerWrite"}, "own", start=T0 + timedelta(days=1), until=T0 + timedelta(days=2))
    assert effective_access(facts(later), T0).permissions == frozenset()
    assert effective_access(facts(later), T0).valid_until == T0 + timedelta(days=1)
    assert effective_access(facts(later), T0 + timedelta(days=1)).permissions == {"CustomerWrite"}
    assert effective_access(facts(later), T0 + timedelta(days=1)).valid_until == T0 + timedelta(days=2)
    assert effective_access(facts(later), T0 + timedelta(days=2)).permissions == frozenset()  # exclusive end


def test_exited_or_unknown_members_and_unknown_permissions_get_nothing():
    everyone = grant("head", {"ClientProfileReadOnly", "NotAPermission"}, "all")
    assert effective_access(facts(everyone), T0).permissions == {"ClientProfileReadOnly"}
    for acc in (effective_access(facts(everyone, active=False), T0),
                effective_access(facts(everyone, known=False), T0)):
        assert not acc.active and acc.permissions == frozenset() and acc.scope is Scope.own and acc.teams == ()


def test_roles_refuse_unknown_permissions_and_scopes():
    with pytest.raises(InvalidInput) as err:
        Role.define(role_id="r", name="R", permissions=["Nope"], scope="own", node_id=None, at=T0, by="a")
    assert err.value.field == "permissions"
    with pytest.raises(InvalidInput) as err:
        Role.define(role_id="r", name="R", permissions=[], scope="own", node_id="T-HK", at=T0, by="a")
    assert err.value.field == "node_id"
    role = Role.define(role_id="r", name="R", permissions=["TaskWrite"], scope="own", node_id=None, at=T0, by="a")
    assert not role.change(name="R", permissions=["TaskWrite"], scope="own", node_id=None, at=T0, by="a")
    assert role.retire(at=T0, by="a") and not role.retire(at=T0, by="a")
    with pytest.raises(InvalidTransition):
        role.change(name="R2", permissions=[], scope="own", node_id=None, at=T0, by="a")


def test_the_tree_keeps_its_levels():
    tree = OrgTree()
    tree.add(node_id="whale", kind="company", parent_id=None, name="Whale", at=T0, by="a")
    with pytest.raises(InvalidInput):
        tree.add(node_id="other", kind="company", parent_id=None, name="Other", at=T0, by="a")
    with pytest.raises(InvalidInput) as err:
        tree.add(node_id="T-1", kind="team", parent_id="whale", name="T", at=T0, by="a")
    assert err.value.field == "parent_id"
    tree.add(node_id="R-1", kind="region", parent_id="whale", name="R", at=T0, by="a")
    tree.add(node_id="B-1", kind="branch", parent_id="R-1", name="B", at=T0, by="a")
    tree.add(node_id="R-2", kind="region", parent_id="whale", name="R2", at=T0, by="a")
    with pytest.raises(AlreadyExists):
        tree.add(node_id="B-1", kind="branch", parent_id="R-1", name="B", at=T0, by="a")
    with pytest.raises(InvalidInput):
        tree.change(node_id="B-1", name=None, parent_id="B-1", at=T0, by="a")  # not a region: no cycle
    assert tree.change(node_id="B-1", name=None, parent_id="R-2", at=T0, by="a")
    with pytest.raises(StillInUse):
        tree.remove(node_id="R-2", at=T0, by="a")
    tree.remove(node_id="B-1", at=T0, by="a")
    assert set(tree.nodes) == {"whale", "R-1", "R-2"}


def test_exit_revokes_every_assignment_and_is_final():
    staff = Staff(staff_id="M-1", display_name="Ann", node_id=None, at=T0, by="a")
    with pytest.raises(InvalidInput) as err:
        staff.assign(assignment_id="x", role_id="rm", node_id=None, effective_from=T0, effective_until=T0,
                     at=T0, by="a")
    assert err.value.field == "effective_until"
    staff.assign(assignment_id="x", role_id="rm", node_id=None, effective_from=T0, effective_until=None, at=T0,
                 by="a")
    assert staff.exit(at=T0, by="a") and staff.assignments == {} and not staff.exit(at=T0, by="a")
    with pytest.raises(InvalidTransition):
        staff.assign(assignment_id="y", role_id="rm", node_id=None, effective_from=T0, effective_until=None,
                     at=T0, by="a")
