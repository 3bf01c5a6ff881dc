"""The demo organisation in the access service (`make run`): the tree (company → regions → branches → the demo
teams), one role per built-in role of `shared.runtime.auth.ROLES` (same permissions and scope), and every demo
user and account manager as a staff member holding the role their ready-made token names. So the access
service's answers (`GET /access/staff/{id}/effective`) match the demo tokens, and a service reading its rights
from the access directory (`KYC_ACCESS_DIRECTORY=true`) lets the demo staff do what they did before.
Idempotent: what exists is left as it is."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from shared.events import topics
from shared.runtime.auth import ROLES, mint_token
from shared.runtime.logging import get_logger
from shared.runtime.replay import at_end, end_offsets, group_offsets
from shared.runtime.settings import AuthSettings, KafkaSettings

from .devsignin import DEMO_USERS
from .seed_campaigns import LEAD, PEER, TEAM

log = get_logger("seed_access")
COMPANY = "whale"
NODES = [  # (node id, kind, parent, name); the teams are those of devtools.seed.TEAMS
    (COMPANY, "company", None, "Whale Securities"),
    ("R-APAC", "region", COMPANY, "Asia-Pacific"),
    ("B-HK", "branch", "R-APAC", "Hong Kong branch"),
    ("B-SEA", "branch", "R-APAC", "South-East Asia branch"),
]
TEAM_BRANCH = {"T-HK": "B-HK", "T-SEA": "B-SEA"}


def staff_plan(managers: list[dict[str, Any]]) -> list[tuple[str, str, str | None, str]]:
    """(staff id, display name, team or None, role) for every demo user and account manager, and the peer team
    lead who approves the demo's campaigns (`devtools.seed_campaigns.PEER`: with the access directory enforced,
    a reviewer who is not a staff member is refused)."""
    out = {user: (user, what, team, role) for role, user, team, what in DEMO_USERS if role in ROLES}
    for m in managers:
        if m["manager_id"] not in out:
            role = "team_lead" if m.get("position") == "Team lead" else "manager"
            out[m["manager_id"]] = (m["manager_id"], m["name"], m["team_id"], role)
    if PEER not in out and LEAD in out:
        lead = out[LEAD]
        out[PEER] = (PEER, f"{lead[1]} (peer)", TEAM, lead[3])
    return list(out.values())


async def _post(c: httpx.AsyncClient, path: str, body: dict[str, Any], strict: bool) -> None:
    r = await c.post(path, json=body)
    if r.status_code not in (200, 201, 409):
        if strict:
            raise RuntimeError(f"seeding access {path}: {r.status_code} {r.text[:300]}")
        log.warning("seed_access_failed", path=path, status=r.status_code)


async def seed_access(port: int, auth: AuthSettings, teams: list[dict[str, Any]], managers: list[dict[str, Any]],
                      *, strict: bool = False) -> None:
    admin = {"Authorization": f"Bearer {mint_token(auth, user_id='admin-1', role='admin')}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=admin, timeout=10) as c:
        for node_id, kind, parent, name in NODES:
            await _post(c, "/access/org/nodes", {"node_id": node_id, "kind": kind, "parent_id": parent,
                                                 "name": name}, strict)
        for team in teams:
            await _post(c, "/access/org/nodes", {"node_id": team["team_id"], "kind": "team", "name": team["name"],
                                                 "parent_id": TEAM_BRANCH.get(team["team_id"], "B-HK")}, strict)
        for role, spec in ROLES.items():
            await _post(c, "/access/roles", {"role_id": role, "name": role.replace("_", " ").capitalize(),
                                             "permissions": sorted(str(p) for p in spec["perms"]),
                                             "scope": str(spec["scope"])}, strict)
        for staff_id, name, team, role in staff_plan(managers):
            await _post(c, "/access/staff", {"staff_id": staff_id, "display_name": name,
                                             "node_id": team or COMPANY}, strict)
            held = await c.get(f"/access/staff/{staff_id}")
            if held.status_code == 200 and role not in {a["role_id"] for a in held.json()["assignments"]}:
                await _post(c, f"/access/staff/{staff_id}/roles", {"role_id": role}, strict)


async def wait_directories(kafka: KafkaSettings, services: list[str], *, timeout_s: float = 120) -> None:
    """Until the access directory of each service (consumer group `whale-<service>-access`) has committed the
    access topic up to its end as it is now (the seed just published); a service that runs without a directory
    has no such group and is waited for until the deadline, then named in the error."""
    ends = await end_offsets(kafka, [kafka.topic(topics.CRM_ACCESS)])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    waiting = list(services)
    while waiting:
        behind = []
        for svc in waiting:
            if not at_end({}, await group_offsets(kafka, f"{kafka.topic_prefix}whale-{svc}-access"), ends):
                behind.append(svc)
        waiting = behind
        if waiting and loop.time() > deadline:
            raise RuntimeError(f"the access directory of {', '.join(waiting)} did not catch up in {timeout_s}s")
        if waiting:
            await asyncio.sleep(0.2)  # polling the groups' commits under the deadline above
    log.info("access_directories_caught_up", services=services)
