"""Auth core: 401 for missing/expired/tampered tokens, 403 for missing permissions, role isolation, RS256."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends
from pydantic import BaseModel, Field

from shared.runtime.api import create_app
from shared.runtime.auth import ROLES, Perm, Principal, Scope, mint_token, require
from shared.runtime.settings import AuthSettings

SECRET = "unit-test-secret-unit-test-secret"


def make_app(settings: AuthSettings):
    app = create_app(service="test", auth=settings)

    @app.get("/profile")
    def profile(p: Principal = Depends(require(Perm.ClientProfileReadOnly))) -> dict:
        return {"user": p.user_id, "scope": p.scope, "teams": list(p.teams)}

    @app.post("/managers")
    def manage(p: Principal = Depends(require(Perm.SupportManageFull))) -> dict:
        return {"ok": True}

    @app.post("/kyc/decide")
    def decide(p: Principal = Depends(require(Perm.KycReview))) -> dict:
        return {"ok": True}

    return app


@pytest.fixture()
def hs() -> AuthSettings:
    return AuthSettings(jwt_algorithm="HS256", jwt_secret=SECRET)


async def call(app, method: str, path: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.request(method, path, headers=headers)


async def test_missing_token_is_401_problem_json(hs) -> None:
    r = await call(make_app(hs), "GET", "/profile")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 401 and r.headers["www-authenticate"].startswith("Bearer")


async def test_expired_token_is_401(hs) -> None:
    token = mint_token(hs, user_id="m1", role="manager", now=time.time() - 10 * 3600, ttl_seconds=60)
    r = await call(make_app(hs), "GET", "/profile", token)
    assert r.status_code == 401 and "ExpiredSignature" in r.json()["detail"]


async def test_tampered_token_is_401(hs) -> None:
    token = mint_token(hs, user_id="m1", role="manager")
    header, payload, sig = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["scope"] = "all"
    forged = ".".join([header, jwt.utils.base64url_encode(json.dumps(claims).encode()).decode(), sig])
    assert (await call(make_app(hs), "GET", "/profile", forged)).status_code == 401
    other = mint_token(AuthSettings(jwt_secret="another-secret-another-secret-another"), user_id="m1", role="admin")
    assert (await call(make_app(hs), "GET", "/profile", other)).status_code == 401


async def test_wrong_audience_or_issuer_is_401(hs) -> None:
    token = mint_token(AuthSettings(jwt_secret=SECRET, jwt_audience="someone-else"), user_id="m1", role="admin")
    assert (await call(make_app(hs), "GET", "/profile", token)).status_code == 401
    token = mint_token(AuthSettings(jwt_secret=SECRET, jwt_issuer="evil"), user_id="m1", role="admin")
    assert (await call(make_app(hs), "GET", "/profile", token)).status_code == 401


async def test_missing_permission_is_403_and_roles_do_not_leak(hs) -> None:
    app = make_app(hs)
    manager = mint_token(hs, user_id="m1", role="manager", team_id="T1")
    assert (await call(app, "GET", "/profile", manager)).json() == {"user": "m1", "scope": "own", "teams": ["T1"]}
    r = await call(app, "POST", "/managers", manager)
    assert r.status_code == 403 and "SupportManageFull" in r.json()["detail"]
    assert (await call(app, "POST", "/kyc/decide", manager)).status_code == 403
    admin = mint_token(hs, user_id="a1", role="admin")
    assert (await call(app, "POST", "/managers", admin)).status_code == 200
    assert (await call(app, "POST", "/kyc/decide", admin)).status_code == 403  # admins do not review KYC
    reviewer = mint_token(hs, user_id="r1", role="kyc_reviewer")
    assert (await call(app, "POST", "/kyc/decide", reviewer)).status_code == 200
    assert (await call(app, "POST", "/managers", reviewer)).status_code == 403
    operator = mint_token(hs, user_id="o1", role="operator")
    assert (await call(app, "GET", "/profile", operator)).status_code == 403


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_each_role_reaches_exactly_its_permissions(hs, role) -> None:
    app = make_app(hs)
    token = mint_token(hs, user_id="u", role=role, team_id="T1")
    perms = {str(p) for p in ROLES[role]["perms"]}
    for path, method, perm in [("/profile", "GET", Perm.ClientProfileReadOnly),
                               ("/managers", "POST", Perm.SupportManageFull),
                               ("/kyc/decide", "POST", Perm.KycReview)]:
        r = await call(app, method, path, token)
        assert r.status_code == (200 if str(perm) in perms else 403), (role, path)


async def test_rs256_with_public_key_and_jwks(tmp_path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    (tmp_path / "pub.pem").write_text(pub)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    for settings in (AuthSettings(jwt_algorithm="RS256", jwt_public_key_file=tmp_path / "pub.pem"),
                     AuthSettings(jwt_algorithm="RS256", jwks_file=tmp_path / "jwks.json")):
        token = mint_token(settings, user_id="L1", role="team_lead", team_id="T9", private_key=pem)
        r = await call(make_app(settings), "GET", "/profile", token)
        assert r.status_code == 200 and r.json()["scope"] == Scope.team
        # an HS256 token signed with the public key as secret (algorithm confusion) must fail
        forged = jwt.encode({"sub": "x", "scope": "all", "perms": ["ClientProfileReadOnly"], "iat": int(time.time()),
                             "exp": int(time.time()) + 60, "iss": "whale-gateway", "aud": "whale-crm"},
                            "not-the-key-not-the-key-not-the-key", algorithm="HS256")
        assert (await call(make_app(settings), "GET", "/profile", forged)).status_code == 401


class Body(BaseModel):
    amount: int = Field(gt=0)


async def test_validation_errors_are_problem_json_naming_the_field(hs) -> None:
    app = create_app(service="t", auth=hs)

    @app.post("/things")
    def things(body: Body) -> dict:
        return {}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/things", json={"amount": -1})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "amount" and "amount" in r.json()["detail"]


async def test_a_token_valid_longer_than_the_maximum_lifetime_is_refused(hs) -> None:
    app = make_app(hs)
    ok = mint_token(hs, user_id="m1", role="manager", ttl_seconds=hs.max_token_lifetime_s)
    assert (await call(app, "GET", "/profile", ok)).status_code == 200
    too_long = mint_token(hs, user_id="m1", role="manager", ttl_seconds=hs.max_token_lifetime_s + 1)
    r = await call(app, "GET", "/profile", too_long)
    assert r.status_code == 401 and "lifetime" in r.json()["detail"]


def test_an_identity_providers_oauth_scope_is_no_data_scope():
    """An OpenID Connect access token's `scope` is the OAuth scope granted ("openid profile"): with no `perms`
    it grants nothing (own scope, no permission); a token with permissions and an unknown data scope is refused."""
    from shared.runtime.auth import AuthError, Scope, principal_from_claims

    p = principal_from_claims({"sub": "x", "staff_id": "M-HK-1", "scope": "openid profile"}, user_claim="staff_id")
    assert (p.user_id, p.scope, p.permissions) == ("M-HK-1", Scope.own, frozenset())
    with pytest.raises(AuthError):
        principal_from_claims({"sub": "x", "scope": "openid profile", "perms": ["CustomerWrite"]})


def test_a_verified_token_is_kept_until_it_expires(hs, monkeypatch) -> None:
    """Fixed keys: a token verified once is not decoded again until its exp (+ leeway) passes, then it is
    decoded again (and refused); a tampered or foreign token is still refused."""
    from shared.runtime import auth as auth_module

    verifier = auth_module.TokenVerifier(hs)
    now = time.time()
    token = mint_token(hs, user_id="m1", role="manager", now=now, ttl_seconds=120)
    first = verifier.verify(token)
    decodes: list[int] = []
    original = jwt.decode
    monkeypatch.setattr(auth_module.jwt, "decode", lambda *a, **kw: decodes.append(1) or original(*a, **kw))
    assert verifier.verify(token) is first and decodes == []
    with pytest.raises(auth_module.AuthError):
        verifier.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    foreign = mint_token(AuthSettings(jwt_algorithm="HS256", jwt_secret="another-secret-another-secret-xx"),
                         user_id="m1", role="manager", now=now, ttl_seconds=120)
    with pytest.raises(auth_module.AuthError):
        verifier.verify(foreign)
    assert decodes == [1, 1]
    # a kept token whose exp has passed (issued 10 hours ago for a minute): dropped, decoded again, refused
    expired = mint_token(hs, user_id="m1", role="manager", now=now - 10 * 3600, ttl_seconds=60)
    verifier._verified[expired] = (first, int(now - 10 * 3600 + 60))
    with pytest.raises(auth_module.AuthError):
        verifier.verify(expired)
    assert expired not in verifier._verified and decodes == [1, 1, 1]
    # the clock passing a kept token's exp + leeway: decoded again
    monkeypatch.setattr(auth_module.time, "time", lambda: now + 120 + hs.leeway_seconds + 1)
    verifier._verified[token] = (first, int(now) + 120)
    verifier.verify(token)  # (PyJWT's own clock still accepts it: decoded and kept again)
    assert decodes == [1, 1, 1, 1]

def test_verified_tokens_are_bounded(hs, monkeypatch) -> None:
    from shared.runtime import auth as auth_module

    monkeypatch.setattr(auth_module, "VERIFIED_TOKENS", 3)
    verifier = auth_module.TokenVerifier(hs)
    tokens = [mint_token(hs, user_id=f"m{i}", role="manager") for i in range(5)]
    for t in tokens:
        assert verifier.verify(t).user_id == f"m{tokens.index(t)}"
    assert list(verifier._verified) == tokens[2:]
