"""What a staff member may do, over which customers, at an instant: the access rules every service shares.

The facts (roles, the organisation tree, staff members and their role assignments) are kept in four tables
of one shape (`access_tables`): the access service folds its own events into them, and every other
service's `AccessDirectory` (`shared.runtime.access_directory`) consumes `crm.access.events` into its copy.
`load_access(session, tables, user_id, now)` reads one member's rows and `effective_access` decides:

- only assignments in force at `now` count (`effective_from <= now < effective_until`), of roles not retired;
  an exited member, or one the directory does not know, has nothing;
- the permissions are the union of the roles' permissions (only names from the catalogue, `Perm`);
- the data scope is the widest of the roles': `all` > the teams under organisation nodes (`node`: the
  role's node, else the assignment's, else the member's own node; `team`: the member's team) > `own`.
  A principal has one scope, so a member holding an `own` role and a `node` role sees the node's teams with
  every permission they hold (roles are meant to be cumulative, top down).

The result is a `shared.runtime.auth.Principal` (`EffectiveAccess.principal()`), which the services already
check (`require`, `Scope.team` with `teams`), so the cut-over changes where the facts come from, not the
checks themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text, select
from sqlalchemy.orm import Session

from .auth import Perm, Principal, Scope

KINDS = ("company", "region", "branch", "team")
SCOPES = ("own", "team", "node", "all")
CATALOGUE = frozenset(str(p) for p in Perm)


@dataclass(frozen=True)
class AccessTables:
    role: Table
    node: Table
    staff: Table
    assignment: Table

    @property
    def all(self) -> tuple[Table, ...]:
        return (self.role, self.node, self.staff, self.assignment)


def access_tables(metadata: MetaData, prefix: str) -> AccessTables:
    """The four tables, named `<prefix>role`, `<prefix>org_node`, `<prefix>staff`, `<prefix>assignment`."""
    role = Table(
        f"{prefix}role", metadata,
        Column("role_id", String(64), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("permissions", Text, nullable=False),  # JSON list, sorted
        Column("scope", String(8), nullable=False),
        Column("node_id", String(64), nullable=True),
        Column("retired", Boolean, nullable=False, default=False),
        Column("version", Integer, nullable=False),
        Column("changed_at", DateTime(timezone=True), nullable=False),
    )
    node = Table(
        f"{prefix}org_node", metadata,
        Column("node_id", String(64), primary_key=True),
        Column("kind", String(16), nullable=False),
        Column("parent_id", String(64), nullable=True),
        Column("name", String(200), nullable=False),
        Column("removed", Boolean, nullable=False, default=False),
        Column("version", Integer, nullable=False),
        Column("changed_at", DateTime(timezone=True), nullable=False),
    )
    staff = Table(
        f"{prefix}staff", metadata,
        Column("staff_id", String(64), primary_key=True),
        Column("node_id", String(64), nullable=True),
        Column("status", String(8), nullable=False),
        Column("version", Integer, nullable=False),
        Column("changed_at", DateTime(timezone=True), nullable=False),
    )
    assignment = Table(
        f"{prefix}assignment", metadata,
        Column("assignment_id", String(64), primary_key=True),
        Column("staff_id", String(64), nullable=False),
        Column("role_id", String(64), nullable=False),
        Column("node_id", String(64), nullable=True),
        Column("effective_from", DateTime(timezone=True), nullable=False),
        Column("effective_until", DateTime(timezone=True), nullable=True),
        Index(f"ix_{prefix}assignment_staff", "staff_id"),
    )
    return AccessTables(role, node, staff, assignment)


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dump_permissions(perms: Iterable[str]) -> str:
    return json.dumps(sorted(set(perms)))


@dataclass(frozen=True)
class Node:
    node_id: str
    kind: str
    parent_id: str | None


@dataclass(frozen=True)
class Grant:
    """One assignment joined with its role."""

    role_id: str
    permissions: frozenset[str]
    scope: str
    node_id: str | None  # the anchor of a `node` scope: role's, else assignment's (else the member's node)
    effective_from: datetime
    effective_until: datetime | None

    def in_force(self, now: datetime) -> bool:
        return self.effective_from <= now and (self.effective_until is None or now < self.effective_until)


@dataclass(frozen=True)
class AccessFacts:
    """One member's rows: what `effective_access` decides from."""

    user_id: str
    known: bool
    active: bool
    node_id: str | None
    grants: tuple[Grant, ...]
    tree: Mapping[str, Node] = field(default_factory=dict)


@dataclass(frozen=True)
class EffectiveAccess:
    user_id: str
    active: bool  # a known member who has not exited
    roles: tuple[str, ...]
    permissions: frozenset[str]
    scope: Scope
    teams: tuple[str, ...]  # the teams a `team` scope covers
    team_id: str | None  # the member's own team (their node, if it is a team)
    valid_until: datetime | None  # the next instant a grant starts or ends (the answer may change then)
    known: bool = True  # the directory holds the member (an exited member is known and not active)

    def principal(self) -> Principal:
        return Principal(user_id=self.user_id, roles=self.roles, permissions=self.permissions,
                         team_id=self.team_id, scope=self.scope, managed_team_ids=self.teams)


def teams_under(tree: Mapping[str, Node], node_id: str | None) -> set[str]:
    """Team nodes at or under `node_id` (removed nodes are not in `tree`)."""
    if node_id is None or node_id not in tree:
        return set()
    children: dict[str, list[str]] = {}
    for n in tree.values():
        if n.parent_id is not None:
            children.setdefault(n.parent_id, []).append(n.node_id)
    found, todo, seen = set(), [node_id], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        if tree[current].kind == "team":
            found.add(current)
        todo.extend(children.get(current, ()))
    return found


def effective_access(facts: AccessFacts, now: datetime) -> EffectiveAccess:
    now = utc(now)  # type: ignore[assignment]
    own_team = facts.node_id if facts.node_id in facts.tree and facts.tree[facts.node_id].kind == "team" else None
    boundaries = [t for g in facts.grants for t in (g.effective_from, g.effective_until) if t is not None and t > now]
    valid_until = min(boundaries) if boundaries else None
    if not facts.known or not facts.active:
        return EffectiveAccess(facts.user_id, facts.known and facts.active, (), frozenset(), Scope.own, (), None,
                               None, known=facts.known)
    grants = [g for g in facts.grants if g.in_force(now)]
    perms = frozenset(p for g in grants for p in g.permissions if p in CATALOGUE)
    scope, teams = Scope.own, set()
    for g in grants:
        if g.scope == "all":
            scope = Scope.all
        elif g.scope == "team" and own_team:
            teams.add(own_team)
        elif g.scope == "node":
            teams |= teams_under(facts.tree, g.node_id or facts.node_id)
    if scope is not Scope.all and teams:
        scope = Scope.team
    roles = tuple(sorted({g.role_id for g in grants}))
    return EffectiveAccess(facts.user_id, True, roles, perms, scope,
                           tuple(sorted(teams)) if scope is Scope.team else (), own_team, valid_until)


def load_tree(session: Session, tables: AccessTables) -> dict[str, Node]:
    n = tables.node
    rows = session.execute(select(n.c.node_id, n.c.kind, n.c.parent_id).where(n.c.removed.is_(False)))
    return {r.node_id: Node(r.node_id, r.kind, r.parent_id) for r in rows}


def load_facts(session: Session, tables: AccessTables, user_id: str, *,
               tree: Mapping[str, Node] | None = None) -> AccessFacts:
    """One member's rows (three queries; the tree is a fourth unless the caller keeps one)."""
    s, a, r = tables.staff, tables.assignment, tables.role
    staff = session.execute(select(s.c.node_id, s.c.status).where(s.c.staff_id == user_id)).first()
    tree = load_tree(session, tables) if tree is None else tree
    if staff is None:
        return AccessFacts(user_id, False, False, None, (), tree)
    rows = session.execute(
        select(a.c.role_id, a.c.node_id, a.c.effective_from, a.c.effective_until, r.c.permissions, r.c.scope,
               r.c.node_id.label("role_node"))
        .join(r, r.c.role_id == a.c.role_id)
        .where(a.c.staff_id == user_id, r.c.retired.is_(False))
    ).all()
    grants = tuple(
        Grant(row.role_id, frozenset(json.loads(row.permissions)), row.scope, row.role_node or row.node_id,
              utc(row.effective_from), utc(row.effective_until))  # type: ignore[arg-type]
        for row in rows
    )
    return AccessFacts(user_id, True, staff.status == "active", staff.node_id, grants, tree)


def load_access(session: Session, tables: AccessTables, user_id: str, now: datetime) -> EffectiveAccess:
    return effective_access(load_facts(session, tables, user_id), now)


