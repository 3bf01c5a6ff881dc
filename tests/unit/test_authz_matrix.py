"""The authorization matrix (issue #20): every operation of every service's OpenAPI × the permission rule its
route states (`x-whale-permission`, from its `require` / `require_any`) × roles built from the catalogue × the
data scopes own, team, node and all — through each service's real FastAPI app with
`<NAME>_ACCESS_DIRECTORY=enforce` and the real access-directory tables (SQLite, filled with the crm.access
events the access service publishes; for the access service, its own read model).

For each operation and scope, a member holding a role with exactly the permissions the rule asks (one of an
`any_of`) must not be refused (no 401/403; 404 or 422 are expected for the dummy ids and empty bodies), unless
the rule asks a data scope the role does not have (403); a member holding every permission of the catalogue
but one the rule needs (all of an `any_of`) is refused (403). Every token claims `admin` (every permission,
scope all): were the token's claims trusted, the refusals would not happen. A stranger and an exited member
are refused (401) by every service; an unknown path parameter of a customer is never answered with the data."""

from __future__ import annotations

import hashlib
import importlib
import re
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from shared.events import registry, topics
from shared.events.crm_access import (
    AccessOrgNodeChanged,
    AccessRoleChanged,
    AccessStaffChanged,
    RoleAssignment,
)
from shared.runtime.access import CATALOGUE
from shared.runtime.access_directory import apply_access_events
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings, KafkaSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="unit-test-secret-of-at-least-32-bytes")
SERVICES = topics.SERVICES  # every service, the ones to come too
SCOPES = ("own", "team", "node", "all")
PRINCIPAL_SCOPE = {"own": "own", "team": "team", "node": "team", "all": "all"}  # a node role: the teams under it
T0 = datetime.now(UTC) - timedelta(days=1)
HEALTH = {"/healthz", "/readyz", "/metrics"}
# company → region → two branches; B has teams T1 and T2, B2 has T3. A `node` role is anchored at B.
TREE = [("C", "company", None), ("R", "region", "C"), ("B", "branch", "R"), ("B2", "branch", "R"),
        ("T1", "team", "B"), ("T2", "team", "B"), ("T3", "team", "B2")]
REFUSED = {401, 403}


def envelope(payload: Any) -> Any:
    return registry.decode(registry.envelope(payload, producer="whale-crm/access").model_dump(mode="json"))


def build(name: str, tmp_path, monkeypatch) -> Any:
    monkeypatch.setenv(f"{name.upper()}_ACCESS_DIRECTORY", "enforce")
    settings_mod = importlib.import_module(f"services.{name}.settings")
    cls = next(v for k, v in vars(settings_mod).items() if k.lower() == f"{name}settings")
    extra = {"faust_datadir": str(tmp_path / "faust")} if name == "tasks" else {}
    settings = cls(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", auth=AUTH,
                   kafka=KafkaSettings(topic_prefix="matrix."), **extra)
    c = importlib.import_module(f"services.{name}.bootstrap").bootstrap(settings)
    c.migrate()
    c.access_directory._loaded = True  # the tables below are the whole topic (no broker in a unit test)
    return c


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in sorted(schema["paths"].items()) if path not in HEALTH
            for method, op in sorted(ops.items()) if method in ("get", "post", "put", "patch", "delete")]


def role_id(perms: frozenset[str], scope: str) -> str:
    return f"r-{scope}-{hashlib.sha1(','.join(sorted(perms)).encode()).hexdigest()[:10]}"


def cases_of(rule: dict[str, Any]) -> list[tuple[frozenset[str], bool, str]]:
    """(permissions of a role, whether the rule is met by them, what is tested)."""
    if "any_of" in rule:
        needed = set(rule["any_of"])
        out = [(frozenset({p} | set(rule.get("all_of", ()))), True, f"only {p}") for p in sorted(needed)]
        out.append((frozenset(CATALOGUE - needed), False, f"all but {'/'.join(sorted(needed))}"))
        return out
    needed = set(rule["all_of"])
    out = [(frozenset(needed), True, "exactly " + ("+".join(sorted(needed)) or "no permission"))]
    out += [(frozenset(CATALOGUE - {p}), False, f"all but {p}") for p in sorted(needed)]
    return out


def access_events(sets: set[tuple[frozenset[str], str]]) -> list[Any]:
    events = [envelope(AccessOrgNodeChanged(node_id=n, kind=k, parent_id=p, name=n, version=i + 1, changed_at=T0))
              for i, (n, k, p) in enumerate(TREE)]
    for perms, scope in sorted(sets, key=lambda x: role_id(*x)):
        rid = role_id(perms, scope)
        events.append(envelope(AccessRoleChanged(role_id=rid, name=rid, permissions=sorted(perms), scope=scope,
                                                 node_id="B" if scope == "node" else None, version=1,
                                                 changed_at=T0)))
        events.append(envelope(AccessStaffChanged(
            staff_id=rid, node_id="T1", status="active", change="role_assigned", version=1, changed_at=T0,
            assignments=[RoleAssignment(assignment_id=f"a-{rid}", role_id=rid, effective_from=T0)])))
    events.append(envelope(AccessStaffChanged(staff_id="gone", node_id="T1", status="exited", change="exited",
                                              version=2, changed_at=T0, assignments=[])))
    return events


def dummy(name: str, schema: dict[str, Any]) -> str:
    fmt, typ = schema.get("format"), schema.get("type")
    if fmt == "uuid":
        return "00000000-0000-4000-8000-000000000001"
    if fmt == "date" or name.endswith("_date"):
        return date.today().isoformat()
    if typ == "integer":
        return "1"
    return f"ZZ-{name}"[:40]


def url_of(path: str, op: dict[str, Any]) -> str:
    params = {p["name"]: p.get("schema", {}) for p in op.get("parameters", []) if p.get("in") == "path"}
    return re.sub(r"\{([^}]+)\}", lambda m: dummy(m.group(1), params.get(m.group(1), {})), path)


def token(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role='admin')}"}


@pytest.mark.parametrize("name", SERVICES)
async def test_every_operation_states_its_permission_rule(name, tmp_path, monkeypatch):
    """`x-whale-permission` on every operation but the health endpoints, naming only catalogue permissions."""
    c = build(name, tmp_path, monkeypatch)
    try:
        ops = operations(c.api.openapi())
        assert ops
        for method, path, op in ops:
            rule = op.get("x-whale-permission")
            assert rule is not None, f"{method} {path} states no permission rule"
            assert set(rule.get("all_of", ())) | set(rule.get("any_of", ())) <= CATALOGUE, (method, path, rule)
            assert rule.get("scope") in (None, "all"), (method, path, rule)
    finally:
        c.engine.dispose()


@pytest.mark.parametrize("name", SERVICES)
async def test_the_authorization_matrix(name, tmp_path, monkeypatch, capsys):
    c = build(name, tmp_path, monkeypatch)
    started = time.perf_counter()
    try:
        ops = operations(c.api.openapi())
        plan = [(method, path, op, perms, met, what, scope) for method, path, op in ops
                for perms, met, what in cases_of(op["x-whale-permission"]) for scope in SCOPES]
        with c.sessions.begin() as s:
            apply_access_events(s, c.access_directory.tables,
                                access_events({(perms, scope) for *_, perms, _, _, scope in plan}))
        c.access_directory.invalidate()
        wrong: list[str] = []
        answered: Counter[str] = Counter()
        transport = httpx.ASGITransport(app=c.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://matrix") as client:
            for method, path, op, perms, met, what, scope in plan:
                rule = op["x-whale-permission"]
                allowed = (met and rule.get("scope") in (None, scope)
                           and ("scopes" not in rule or PRINCIPAL_SCOPE[scope] in rule["scopes"]))
                body = {} if method in ("POST", "PUT", "PATCH") else None
                r = await client.request(method, url_of(path, op), json=body, headers=token(role_id(perms, scope)))
                answered[f"{'met' if allowed else 'unmet'}:{r.status_code}"] += 1
                if r.status_code >= 500:
                    wrong.append(f"{method} {path} [{what}, {scope}] failed {r.status_code}: {r.text[:160]}")
                elif allowed and r.status_code in REFUSED:
                    wrong.append(f"{method} {path} [{what}, {scope}] refused {r.status_code}: {r.text[:160]}")
                elif not allowed and r.status_code != 403:
                    wrong.append(f"{method} {path} [{what}, {scope}] not refused: {r.status_code}")
            for method, path, op in ops:  # a stranger and an exited member: 401 whatever their token says
                for user in ("stranger", "gone"):
                    r = await client.request(method, url_of(path, op), headers=token(user))
                    if r.status_code != 401:
                        wrong.append(f"{method} {path} [{user}] answered {r.status_code}")
        elapsed = time.perf_counter() - started
        with capsys.disabled():
            sys.stdout.write(f"\nauthz matrix {name}: {len(ops)} operations, {len(plan) + 2 * len(ops)} cases, "
                             f"{elapsed:.1f} s; answers {dict(sorted(answered.items()))}\n")
        assert not wrong, "\n".join(wrong[:40]) + (f"\n… {len(wrong) - 40} more" if len(wrong) > 40 else "")
    finally:
        c.engine.dispose()
