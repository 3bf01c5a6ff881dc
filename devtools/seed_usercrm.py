"""Demo staff, User CRM part: account managers act on their customers' behalf (messages, deposits — some
above the approval threshold, allocations) and an admin works through the maker-checker queue."""

from __future__ import annotations

import random
from typing import Any

import httpx

TEMPLATES = ("welcome", "kyc_reminder", "funding_reminder")


async def act_one(c: httpx.AsyncClient, ports: dict[str, int], manager: dict[str, str], checker: dict[str, str],
                  rng: random.Random) -> None:
    """One step: the checker decides the oldest pending approval, or a manager asks something for one of
    their customers (found through their task list)."""
    base = f"http://127.0.0.1:{ports['usercrm']}/usercrm"
    pending = await c.get(f"{base}/approvals", params={"limit": 1}, headers=checker)
    items = pending.json().get("items", []) if pending.status_code == 200 else []
    if items and rng.random() < 0.7:
        verb = "approve" if rng.random() < 0.8 else "decline"
        body: dict[str, Any] | None = {"note": "call the client first"} if verb == "decline" else None
        await c.post(f"{base}/requests/{items[0]['request_id']}/{verb}", json=body, headers=checker)
        return
    tasks = await c.get(f"http://127.0.0.1:{ports['tasks']}/tasks", params={"limit": 5}, headers=manager)
    customers = [t["customer_id"] for t in (tasks.json().get("items", []) if tasks.status_code == 200 else [])]
    if not customers:
        return
    cid = rng.choice(customers)
    accounts = await c.get(f"{base}/customers/{cid}/accounts", headers=manager)
    opened = [a for a in (accounts.json().get("items", []) if accounts.status_code == 200 else [])
              if a["status"] == "open"]
    if not opened or rng.random() < 0.4:
        await c.post(f"{base}/customers/{cid}/messages", headers=manager,
                     json={"channel": rng.choice(["in_app", "email", "sms"]), "template_id": rng.choice(TEMPLATES)})
        return
    account, currency = opened[0]["account_id"], opened[0]["currency"] or "USD"
    amount = str(rng.choice([500, 2_000, 50_000, 150_000]))  # the big ones wait for a second person
    if rng.random() < 0.6:
        await c.post(f"{base}/customers/{cid}/accounts/{account}/deposits", headers=manager,
                     json={"amount": amount, "currency": currency})
    else:
        await c.post(f"{base}/customers/{cid}/allocations", headers=manager,
                     json={"account_id": account, "fund_id": rng.choice(["F-ASIA", "F-TECH", "F-INC"]),
                           "amount": amount, "currency": "USD"})
