"""Demo staff, campaigns part: the Hong Kong team lead plans a campaign for the team's customers waiting for
their first deposit, a peer team lead approves it, and the scheduler starts it (one follow-up request per
customer, round-robin among the team's managers) and closes it at its end time — once per hour of demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings

LEAD, PEER, TEAM = "M-HK-LEAD", "M-HK-LEAD-2", "T-HK"  # two team leads of one team: peers


def plan(hour: datetime) -> dict[str, object]:
    """The campaign of the hour that starts at `hour` (it ends an hour later)."""
    return {"name": f"First deposit {hour:%Y-%m-%d %H}:00", "purpose": "Help Hong Kong customers with an opened "
            "account make their first deposit", "start_at": hour.isoformat(),
            "end_at": (hour + timedelta(hours=1)).isoformat(),
            "audience": {"stages": ["pending_funding"], "team_ids": [TEAM]}, "distribution": "round_robin",
            "team_id": TEAM, "channels": ["phone", "in_app"], "metrics": ["funded", "net_deposits"],
            "attribution_window_days": 14, "control_pct": 10,  # a 10% hold-out: the evaluation's control group
            "messages": [{"channel": "in_app", "template_id": "first-deposit-1", "subject": "Your first deposit",
                          "body": "Your account is open: make your first deposit in the app to start trading."}]}


async def run_one(c: httpx.AsyncClient, port: int, auth: AuthSettings, now: datetime | None = None) -> str | None:
    """Plan, submit and approve this hour's campaign unless it exists; returns its id (None: nothing to do)."""
    hour = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    base = f"http://127.0.0.1:{port}/campaigns"
    lead = {"Authorization": f"Bearer {mint_token(auth, user_id=LEAD, role='team_lead', team_id=TEAM)}"}
    peer = {"Authorization": f"Bearer {mint_token(auth, user_id=PEER, role='team_lead', team_id=TEAM)}"}
    body = plan(hour)
    listed = await c.get(base, params={"limit": 20}, headers=lead)
    if listed.status_code != 200 or any(i["name"] == body["name"] for i in listed.json()["items"]):
        return None
    created = await c.post(base, json=body, headers=lead)
    if created.status_code != 201:
        return None
    campaign_id = str(created.json()["campaign_id"])
    await c.post(f"{base}/{campaign_id}/submit", headers=lead)
    await c.post(f"{base}/{campaign_id}/review", json={"decision": "approve", "comment": "go ahead"}, headers=peer)
    return campaign_id
