"""Demo organisation for `make run`, created through the public APIs, and a simulated staff.

- `seed`: teams, account managers (with QR / referral codes) and assignment rules (assignment API); the same
  organisation, roles and staff in the access service (`seed_access`).
- `play_staff`: KYC reviewers claim and decide cases, senior reviewers do the four-eyes second review,
  account managers record follow-ups on their open tasks, the Hong Kong team lead plans a campaign each hour
  that a peer approves (`seed_campaigns`) — so every dashboard keeps moving.
Both are idempotent and tolerate a service that is not running.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shared.runtime.auth import mint_token
from shared.runtime.logging import get_logger
from shared.runtime.settings import AuthSettings, KafkaSettings

from . import seed_access, seed_campaigns, seed_usercrm

log = get_logger("seed")

TEAMS = [
    {"team_id": "T-HK", "name": "Hong Kong", "leader_id": "M-HK-LEAD", "protection_days": 7},
    {"team_id": "T-SEA", "name": "South-East Asia", "leader_id": "M-SEA-LEAD", "protection_days": 7},
]
MANAGERS = [
    {"manager_id": "M-HK-LEAD", "name": "Ada Leung", "position": "Team lead", "team_id": "T-HK",
     "regions": ["HK"], "languages": ["zh-HK", "en"], "capacity": 200, "referral_code": "QR-HK-LEAD"},
    {"manager_id": "M-HK-1", "name": "Ben Cheung", "position": "Account manager", "team_id": "T-HK",
     "regions": ["HK", "CN", "TW"], "languages": ["zh-HK", "zh", "en"], "capacity": 400, "referral_code": "QR-HK-1"},
    {"manager_id": "M-HK-2", "name": "Cathy Ho", "position": "Account manager", "team_id": "T-HK",
     "regions": ["HK", "CN"], "languages": ["zh", "en"], "capacity": 400, "referral_code": "QR-HK-2"},
    {"manager_id": "M-SEA-LEAD", "name": "Dev Nair", "position": "Team lead", "team_id": "T-SEA",
     "regions": ["SG", "MY"], "languages": ["en", "ms"], "capacity": 200, "referral_code": "QR-SEA-LEAD"},
    {"manager_id": "M-SG-1", "name": "Elaine Tan", "position": "Account manager", "team_id": "T-SEA",
     "regions": ["SG"], "languages": ["en"], "capacity": 400, "referral_code": "QR-SG-1"},
    {"manager_id": "M-MY-1", "name": "Faiz Rahman", "position": "Account manager", "team_id": "T-SEA",
     "regions": ["MY"], "languages": ["ms", "en"], "capacity": 400, "referral_code": "QR-MY-1"},
]
RULES = [
    ("sea-region", {"position": 10, "name": "SEA residents to the SEA team", "team_id": "T-SEA",
                    "strategy": "least_loaded", "regions": ["SG", "MY"]}),
    ("greater-china", {"position": 20, "name": "Greater China to Hong Kong", "team_id": "T-HK",
                       "strategy": "round_robin", "regions": ["HK", "CN", "TW"]}),
    ("everyone-else", {"position": 1000, "name": "Everyone else to Hong Kong", "team_id": "T-HK",
                       "strategy": "least_loaded"}),
]


@dataclass(frozen=True)
class Org:
    """An organisation to create: teams, managers (with their referral / QR codes) and rules by id."""

    teams: list[dict[str, Any]]
    managers: list[dict[str, Any]]
    rules: list[tuple[str, dict[str, Any]]]


DEMO = Org(TEAMS, MANAGERS, RULES)


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def seed(ports: dict[str, int], auth: AuthSettings, names: list[str], org: Org = DEMO, *,
               strict: bool = False, kafka: KafkaSettings | None = None) -> list[str]:
    """Create the organisation (the demo one by default); returns the managers' referral (QR) codes.
    Idempotent (409 on what exists is fine); `strict` raises on any other refusal instead of logging it.
    The access service first: the other services decide from its roles and staff (their access directory),
    so they are asked only once each directory has read them (`wait_directories`)."""
    if "access" in names:
        await seed_access.seed_access(ports["access"], auth, org.teams, org.managers, strict=strict)
        await seed_access.wait_directories(kafka or KafkaSettings(), [n for n in names if n != "access"])
    if "assignment" not in names:
        return []
    base = f"http://127.0.0.1:{ports['assignment']}"
    admin = _h(mint_token(auth, user_id="admin-1", role="admin"))
    async with httpx.AsyncClient(base_url=base, headers=admin, timeout=10) as c:
        for team in org.teams:
            await _create(c, "/teams", team, strict)
        for m in org.managers:
            await _create(c, "/managers", m, strict)
        for rule_id, rule in org.rules:
            r = await c.put(f"/rules/{rule_id}", json=rule)
            if r.status_code >= 400:
                if strict:
                    raise RuntimeError(f"seeding rule {rule_id}: {r.status_code} {r.text[:300]}")
                log.warning("seed_rule_failed", rule_id=rule_id, status=r.status_code)
    return [m["referral_code"] for m in org.managers if m.get("referral_code")]


async def _create(c: httpx.AsyncClient, path: str, body: dict[str, Any], strict: bool = False) -> None:
    r = await c.post(path, json=body)
    if r.status_code not in (200, 201, 409):
        if strict:
            raise RuntimeError(f"seeding {path}: {r.status_code} {r.text[:300]}")
        log.warning("seed_create_failed", path=path, status=r.status_code)


async def play_staff(ports: dict[str, int], auth: AuthSettings, names: list[str], stop: asyncio.Event) -> None:
    rng = random.Random(11)
    reviewer = _h(mint_token(auth, user_id="kyc-ann", role="kyc_reviewer"))
    senior = _h(mint_token(auth, user_id="kyc-bob", role="kyc_senior"))
    admin = _h(mint_token(auth, user_id="admin-1", role="admin"))  # the checker of big money requests
    managers = [(m["manager_id"], _h(mint_token(auth, user_id=m["manager_id"], role="manager", team_id=m["team_id"])))
                for m in MANAGERS]
    steps = 0
    async with httpx.AsyncClient(timeout=10) as c:
        while not stop.is_set():
            steps += 1
            try:
                if "campaigns" in names and steps % 30 == 0:  # a minute in: the audience has arrived
                    await seed_campaigns.run_one(c, ports["campaigns"], auth)
                if "kyc" in names:
                    await _review_one(c, f"http://127.0.0.1:{ports['kyc']}", reviewer, senior, rng)
                if "tasks" in names:
                    manager_id, headers = rng.choice(managers)
                    await _follow_up_one(c, f"http://127.0.0.1:{ports['tasks']}", headers, rng)
                    if "usercrm" in names:
                        await seed_usercrm.act_one(c, ports, headers, admin, rng)
            except httpx.HTTPError as exc:
                log.warning("staff_step_failed", error=type(exc).__name__)
            try:
                await asyncio.wait_for(stop.wait(), timeout=2.0)
            except TimeoutError:
                pass


async def _review_one(c: httpx.AsyncClient, base: str, reviewer: dict, senior: dict, rng: random.Random) -> None:
    q = await c.get(f"{base}/kyc/queue", params={"state": "awaiting_second_review", "limit": 1}, headers=senior)
    items = q.json().get("items", []) if q.status_code == 200 else []
    if items:
        case_id = items[0]["case_id"]
        await c.post(f"{base}/kyc/cases/{case_id}/second-review", json={"decision": "approved"}, headers=senior)
        return
    q = await c.get(f"{base}/kyc/queue", params={"state": ["pending", "resubmitted"], "limit": 1}, headers=reviewer)
    items = q.json().get("items", []) if q.status_code == 200 else []
    if not items:
        return
    case_id = items[0]["case_id"]
    r = await c.post(f"{base}/kyc/cases/{case_id}/claim", headers=reviewer)
    if r.status_code != 200:
        return
    case = r.json()
    for doc in case.get("documents", []):
        if doc.get("status") != "pending":
            continue
        if rng.random() < 0.9:
            body: dict[str, Any] = {"decision": "accepted"}
        else:
            body = {"decision": "more_info_requested", "reason_code": "document_unreadable", "note": "blurred photo"}
        await c.post(f"{base}/kyc/cases/{case_id}/documents/{doc['document_id']}/decision", json=body,
                     headers=reviewer)
    await c.post(f"{base}/kyc/cases/{case_id}/submit", json={}, headers=reviewer)


async def _follow_up_one(c: httpx.AsyncClient, base: str, headers: dict, rng: random.Random) -> None:
    r = await c.get(f"{base}/tasks", params={"limit": 5}, headers=headers)
    items = r.json().get("items", []) if r.status_code == 200 else []
    if not items:
        return
    task = rng.choice(items)
    body = {
        "task_id": task["task_id"],
        "intent": rng.choice(["interested", "considering", "not_now"]),
        "tier": rng.choice(["A", "B", "C"]),
        "contact_methods": [rng.choice(["phone", "wechat", "whatsapp", "email"])],
        "tags": [rng.choice(["hk-stocks", "us-stocks", "ipo", "funds"])],
        "remarks": "called, explained the next step",
    }
    if rng.random() < 0.5:
        body["next_follow_up_at"] = (datetime.now(UTC) + timedelta(days=rng.randint(1, 5))).isoformat()
    await c.post(f"{base}/tasks/{task['task_id']}/follow-ups", json=body, headers=headers)
