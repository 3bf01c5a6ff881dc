"""The kit's API command helpers: `run_command` maps a command's refusal to problem+json (a service's own
mapping first, then domain errors and a lost concurrent write); `require_any` types its 403s per service."""

from __future__ import annotations

import httpx
import pytest
from eventsourcing.persistence import IntegrityError
from fastapi import Depends

from shared.runtime.api import Problem, create_app, run_command
from shared.runtime.auth import Perm, Principal, Scope, mint_token, require_any
from shared.runtime.errors import DomainError
from shared.runtime.settings import AuthSettings

BASE = "urn:whale-crm:problem:svc:"
SECRET = "unit-test-secret-unit-test-secret"


class Refused(DomainError):
    status = 409
    code = "refused"


class Missing(LookupError):
    pass


def raising(exc: Exception):
    def command() -> None:
        raise exc

    return command


def missing(exc: Exception) -> Problem | None:
    return Problem(404, "Not Found", "thing not found", type_=f"{BASE}not_found") if isinstance(exc, Missing) else None


async def test_a_command_runs_in_a_thread_and_returns_its_result():
    assert await run_command(lambda: 42, BASE) == 42


@pytest.mark.parametrize(("exc", "status", "type_", "detail"), [
    (Refused("not now"), 409, f"{BASE}refused", "not now"),
    (IntegrityError("duplicate key"), 409, f"{BASE}concurrent_change", "the thing changed concurrently; reload and retry"),
    (Missing("x"), 404, f"{BASE}not_found", "thing not found"),
])
async def test_a_refusal_becomes_its_problem(exc, status, type_, detail):
    with pytest.raises(Problem) as raised:
        await run_command(raising(exc), BASE, what="thing", problem=missing)
    assert (raised.value.status, raised.value.type, raised.value.detail) == (status, type_, detail)


async def test_a_conflict_without_a_name_and_anything_else_propagates():
    with pytest.raises(Problem, match="^changed concurrently; reload and retry$"):
        await run_command(raising(IntegrityError("duplicate key")), BASE)
    with pytest.raises(ZeroDivisionError):
        await run_command(raising(ZeroDivisionError()), BASE, problem=missing)


AUTH = AuthSettings(jwt_algorithm="HS256", jwt_secret=SECRET)


def app_with(type_base: str | None):
    app = create_app(service="test", auth=AUTH)

    @app.get("/review")
    def review(p: Principal = Depends(require_any(Perm.KycReview, Perm.KycAdmin, scope=Scope.all,
                                                  type_base=type_base))) -> dict:
        return {"user": p.user_id}

    return app


async def get(app, token: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.get("/review", headers={"Authorization": f"Bearer {token}"})


def token(role: str, scope: str | None = None) -> str:
    return mint_token(AUTH, user_id="u1", role=role, scope=scope)


@pytest.mark.parametrize(("type_base", "forbidden", "scope"), [
    (BASE, f"{BASE}forbidden", f"{BASE}scope"), (None, "about:blank", "about:blank")])
async def test_require_any_answers_403_problems_of_the_service_type(type_base, forbidden, scope):
    app = app_with(type_base)
    r = await get(app, token("operator"))
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == forbidden and r.json()["detail"] == "requires one of: KycReview, KycAdmin"
    r = await get(app, token("kyc_reviewer", scope="team"))
    assert r.status_code == 403 and r.json()["type"] == scope
    assert r.json()["detail"] == "requires the all-customers data scope"
    assert (await get(app, token("admin"))).json() == {"user": "u1"}
