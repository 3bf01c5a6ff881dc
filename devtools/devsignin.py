"""Development sign-in for `make run`: the console lists the demo users and gets an HS256 token for the one
picked, minted with the development secret. Off unless WHALE_DEV_SIGNIN=1 (the end-to-end stack sets it;
`make run` signs in through Keycloak and falls back to it only when Keycloak cannot start); the gateway
routes /dev-signin/ here only then. Production signs in with OpenID Connect (see web/src/auth/oidc.ts).
"""

from __future__ import annotations

import os
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict

from shared.events.crm_audit import AuditKind, AuditOutcome, AuditRecord
from shared.runtime.api import CORRELATION_ID
from shared.runtime.audit import AuditEmitter, client_ip
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


def _checked(value: str | None) -> str | None:
    return value if value is not None and CORRELATION_ID.fullmatch(value) else None


def create_app(auth: AuthSettings, *, ttl_seconds: int = 8 * 3600, audit: AuditEmitter | None = None) -> FastAPI:
    """`audit`: each token handed out is published as an `auth.sign_in` audit record (kind `sign_in`)."""
    if auth.jwt_algorithm != "HS256" or auth.jwt_secret is None:
        raise RuntimeError("the development sign-in mints HS256 tokens: it needs AUTH_JWT_SECRET")

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        yield
        if audit is not None:
            await audit.stop()

    app = FastAPI(title="Whale CRM — development sign-in", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    users = {role: (user, team, what) for role, user, team, what in DEMO_USERS if role in ROLES}

    @app.get("/users")
    async def list_users() -> dict[str, object]:
        return {"users": [{"role": r, "user_id": u, "team_id": t, "description": w} for r, (u, t, w) in users.items()]}

    @app.post("/token")
    async def token(request: Request, body: TokenIn) -> dict[str, object]:
        if body.role not in users:
            raise HTTPException(422, detail=f"role: unknown demo role {body.role!r}")
        user, team, _ = users[body.role]
        if audit is not None:
            audit.emit(AuditRecord(
                record_id=uuid.uuid4(), staff_id=user, roles=[body.role], action="auth.sign_in", kind=AuditKind.sign_in,
                service="devsignin", method="POST", route="/token", at=datetime.now(UTC),
                client_ip=client_ip(request), correlation_id=_checked(request.headers.get("x-request-id")),
                status=200, outcome=AuditOutcome.allowed))
        return {"access_token": mint_token(auth, user_id=user, role=body.role, team_id=team, ttl_seconds=ttl_seconds),
                "token_type": "Bearer", "expires_in": ttl_seconds}

    return app
