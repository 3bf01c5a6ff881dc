"""RS256 tokens verified through an identity provider's JWKS endpoint (`AUTH_JWKS_URL`, as Dex serves it):
keys fetched and cached, a rotated key fetched again, a token signed by a key the provider does not publish is
401, and the caller named by another claim (`AUTH_USER_CLAIM`) when the provider's `sub` is opaque."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends

from shared.runtime.api import create_app
from shared.runtime.auth import Principal, current_principal
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
ISSUER, AUDIENCE = "http://127.0.0.1:5556/dex", "whale-console"


class Provider:
    """A JWKS endpoint on 127.0.0.1 publishing the public half of the current keys; counts the fetches."""

    def __init__(self):
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                provider.fetches += 1
                body = json.dumps({"keys": [
                    {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())), "kid": kid, "use": "sig",
                     "alg": "RS256"} for kid, k in provider.keys.items()]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dex/keys"

    def rotate(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def token(self, kid: str, key: rsa.RSAPrivateKey | None = None, **claims) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "CgdhZG1pbi0xEgVsb2NhbA", "name": "admin-1",
                "email": "admin-1@whale.example", "iat": now, "exp": now + 300, **claims}
        return jwt.encode(body, key or self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def provider():
    p = Provider()
    yield p
    p.close()


def app_for(settings: AuthSettings):
    app = create_app(service="probe", auth=settings)

    @app.get("/whoami")
    async def whoami(p: Principal = Depends(current_principal)) -> dict:
        return {"user": p.user_id, "perms": sorted(p.permissions)}

    return app


async def whoami(app, token: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as c:
        return await c.get("/whoami", headers={"Authorization": f"Bearer {token}"})


async def test_tokens_of_the_provider_are_verified_through_its_jwks_endpoint(provider):
    provider.rotate("k1")
    settings = AuthSettings(jwt_algorithm="RS256", jwks_url=provider.url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
                            user_claim="name", jwks_refresh_cooldown_s=0)
    app = app_for(settings)
    r = await whoami(app, provider.token("k1"))
    assert r.status_code == 200 and r.json() == {"user": "admin-1", "perms": []}  # no rights claimed by Dex
    assert (await whoami(app, provider.token("k1"))).status_code == 200
    assert provider.fetches == 1  # cached
    provider.rotate("k2")  # the provider rotates: a token with the new key id makes the verifier fetch again
    assert (await whoami(app, provider.token("k2"))).status_code == 200 and provider.fetches == 2
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert (await whoami(app, provider.token("k1", key=stranger))).status_code == 401  # not its signature
    fetches = provider.fetches
    assert (await whoami(app, provider.token("k9", key=stranger))).status_code == 401  # a key it never published
    assert provider.fetches == fetches + 1  # looked for once (cooldown 0 here; 10 s by default)
    assert (await whoami(app, provider.token("k1", aud="another-client"))).status_code == 401
    nameless = provider.token("k1", name=None)
    assert (await whoami(app, nameless)).status_code == 401  # the user claim is required


async def test_sub_names_the_caller_by_default(provider):
    provider.rotate("k1")
    app = app_for(AuthSettings(jwt_algorithm="RS256", jwks_url=provider.url, jwt_issuer=ISSUER,
                               jwt_audience=AUDIENCE))
    r = await whoami(app, provider.token("k1"))
    assert r.status_code == 200 and r.json()["user"] == "CgdhZG1pbi0xEgVsb2NhbA"
    for kid in ("made-up-1", "made-up-2", "made-up-3"):  # unknown key ids within the cooldown: no new fetch
        assert (await whoami(app, provider.token(kid, key=provider.keys["k1"]))).status_code == 401
    assert provider.fetches == 1


async def test_the_development_secret_admits_the_stacks_own_tokens_beside_the_providers(provider):
    """`make run`: Keycloak's RS256 tokens through its JWKS, and with AUTH_DEV_JWT_SECRET the stack's own HS256
    tokens (development sign-in, seeding) too — only those signed with that secret by the development issuer, for
    the same audience; without the setting an HS256 token is refused."""
    from shared.runtime.auth import mint_token

    provider.rotate("k1")
    secret = "dev-secret-of-at-least-32-bytes-0123456789"
    rs256 = dict(jwt_algorithm="RS256", jwks_url=provider.url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
                 user_claim="name")
    dev = mint_token(AuthSettings(jwt_secret=secret, jwt_audience=AUDIENCE), user_id="M-HK-1", role="manager")
    both = app_for(AuthSettings(**rs256, dev_jwt_secret=secret))
    assert (await whoami(both, provider.token("k1"))).json()["user"] == "admin-1"
    r = await whoami(both, dev)
    assert r.status_code == 200 and r.json()["user"] == "M-HK-1" and "TaskWrite" in r.json()["perms"]
    forged = mint_token(AuthSettings(jwt_secret="another-secret-of-at-least-32-bytes-0123", jwt_audience=AUDIENCE),
                        user_id="M-HK-1", role="admin")
    assert (await whoami(both, forged)).status_code == 401
    elsewhere = mint_token(AuthSettings(jwt_secret=secret, jwt_audience=AUDIENCE, jwt_issuer=ISSUER),
                           user_id="M-HK-1", role="admin")
    assert (await whoami(both, elsewhere)).status_code == 401  # HS256 claiming to be the provider's
    other_aud = mint_token(AuthSettings(jwt_secret=secret, jwt_audience="another"), user_id="M-HK-1", role="admin")
    assert (await whoami(both, other_aud)).status_code == 401
    assert (await whoami(app_for(AuthSettings(**rs256)), dev)).status_code == 401  # not without the setting
