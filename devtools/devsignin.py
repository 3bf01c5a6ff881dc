"""Development sign-in for `make run`: the console lists the demo users and gets an HS256 token for the one
picked, minted with the development secret. Off unless WHALE_DEV_SIGNIN=1 (the end-to-end stack sets it;
`make run` signs in through Keycloak and falls back to it only when Keycloak cannot start); the gateway
routes /dev-signin/ here only then. Production signs in with OpenID Connect (see web/src/auth/oidc.ts).
"""

from __future__ import annotations

import os

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict

from shared.runtime.auth import ROLES, mint_token
from shared.runtime.settings import AuthSettings

ENV_SWITCH = "WHALE_DEV_SIGNIN"

# (role, user id, team, who) — the people of the demo organisation (devtools.seed creates their teams)
DEMO_USERS: list[tuple[str, str, str | None, str]] = [
    ("admin", "admin-1", None, "head of client services (scope: all)"),
    ("team_lead", "M-HK-LEAD", "T-HK", "Hong Kong team lead (scope: team)"),
    ("manager", "M-HK-1", "T-HK", "account manager (scope: own)"),
    ("kyc_reviewer", "kyc-ann", None, "KYC reviewer"),
    ("kyc_senior", "kyc-bob", None, "senior KYC reviewer (four-eyes)"),
    ("auditor", "audit-1", None, "auditor (read-only, personal data masked)"),
    ("operator", "sre-1", None, "SRE / operator"),
]


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH) == "1"


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str


def create_app(auth: AuthSettings, *, ttl_seconds: int = 8 * 3600) -> FastAPI:
    if auth.jwt_algorithm != "HS256" or auth.jwt_secret is None:
        raise RuntimeError("the development sign-in mints HS256 tokens: it needs AUTH_JWT_SECRET")
    app = FastAPI(title="Whale CRM — development sign-in", docs_url=None, redoc_url=None, openapi_url=None)
    users = {role: (user, team, what) for role, user, team, what in DEMO_USERS if role in ROLES}

    @app.get("/users")
    async def list_users() -> dict[str, object]:
        return {"users": [{"role": r, "user_id": u, "team_id": t, "description": w} for r, (u, t, w) in users.items()]}

    @app.post("/token")
    async def token(body: TokenIn) -> dict[str, object]:
        if body.role not in users:
            raise HTTPException(422, detail=f"role: unknown demo role {body.role!r}")
        user, team, _ = users[body.role]
        return {"access_token": mint_token(auth, user_id=user, role=body.role, team_id=team, ttl_seconds=ttl_seconds),
                "token_type": "Bearer", "expires_in": ttl_seconds}

    return app
