"""Sign-in through the local stack's OpenID Connect provider: a real Keycloak (infra/keycloak.sh, its own port
and data directory, the `whale` realm generated from the demo staff), a token obtained as a demo user by the
authorization-code flow with PKCE S256 driven over HTTP (Keycloak's own login form), and a real service API
(KYC, its rights from the access directory over the real broker and PostgreSQL) verifying it through
Keycloak's JWKS: the token is allowed; the same token tampered with, a token for another audience and an
expired one are 401 problem+json."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import secrets
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devtools import keycloak
from services.kyc.bootstrap import bootstrap
from services.kyc.settings import KycSettings
from shared.events import registry
from shared.events.crm_access import AccessRoleChanged, AccessStaffChanged, RoleAssignment
from shared.runtime.kafka import EventProducer
from shared.runtime.logging import get_logger
from shared.runtime.service import running
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "http://127.0.0.1:18599"  # a console origin the test realm allows (nothing listens: the redirect is read)
SHORT_LIVED = "whale-test-short"  # test-only clients (direct grant): 2-second tokens, another audience
OTHER_AUDIENCE = "whale-test-other"
T0 = datetime.now(UTC) - timedelta(days=1)
log = get_logger("test_oidc")


def realm_with_test_clients() -> dict:
    """The development realm plus two direct-grant clients that exist only in this test's Keycloak."""
    realm = keycloak.realm([ORIGIN])
    devtools = next(c for c in realm["clients"] if c["clientId"] == keycloak.DEVTOOLS_CLIENT)
    other_mappers = [{**m, "config": {**m["config"], "included.custom.audience": "another-api"}}
                     if m["protocolMapper"] == "oidc-audience-mapper" else m for m in devtools["protocolMappers"]]
    realm["clients"] += [
        {**devtools, "clientId": SHORT_LIVED, "attributes": {"access.token.lifespan": "2"}},
        {**devtools, "clientId": OTHER_AUDIENCE, "protocolMappers": other_mappers},
    ]
    return realm


def free_port() -> int:
    """A free port below the ephemeral range (a client's outgoing connection cannot hold it)."""
    for _ in range(200):
        port = random.randrange(20_000, 32_000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


class Keycloak:
    def __init__(self, data: Path):
        self.port = free_port()
        self.data = data
        realm_file = data / "realm.json"
        realm_file.parent.mkdir(parents=True, exist_ok=True)
        realm_file.write_text(json.dumps(realm_with_test_clients()))
        self.env = {**os.environ, "KEYCLOAK_REALM_FILE": str(realm_file)}
        self.issuer = keycloak.issuer(self.port)

    def _run(self, command: str) -> None:
        subprocess.run([str(ROOT / "infra" / "keycloak.sh"), command, str(self.port), str(self.data / "kc")],
                       env=self.env, check=True, timeout=400)


@pytest.fixture(scope="session")
def keycloak_server(tmp_path_factory):
    kc = Keycloak(tmp_path_factory.mktemp("keycloak"))
    started = time.monotonic()
    kc._run("start")  # fails the test (with Keycloak's log) when it cannot start: no JDK >= 21, no distribution
    log.warning("keycloak_started", seconds=round(time.monotonic() - started, 1), port=kc.port)  # test time added
    yield kc
    kc._run("stop")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def sign_in(issuer: str, username: str, password: str) -> dict:
    """The console's flow, by hand: authorization request with a PKCE S256 challenge, Keycloak's login form
    submitted, the code from the redirect exchanged with the verifier."""
    d = (await httpx.AsyncClient().get(f"{issuer}/.well-known/openid-configuration")).json()
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    redirect = f"{ORIGIN}/auth/callback"
    # Keycloak's cookies are `Secure; SameSite=None`: a browser keeps them for http://127.0.0.1 (a trustworthy
    # origin), httpx's jar does not, so the test carries them itself
    jar: dict[str, str] = {}

    def remember(r: httpx.Response) -> httpx.Response:
        for header in r.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
        return r

    def cookie() -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}

    async with httpx.AsyncClient(timeout=20, follow_redirects=False) as c:
        page = await c.get(d["authorization_endpoint"], params={
            "response_type": "code", "client_id": keycloak.CONSOLE_CLIENT, "redirect_uri": redirect,
            "scope": "openid profile", "state": state, "code_challenge": challenge, "code_challenge_method": "S256"})
        remember(page)
        assert page.status_code == 200, page.text[:500]
        action = unescape(re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page.text).group(1))
        done = remember(await c.post(action, data={"username": username, "password": password, "credentialId": ""},
                                     headers=cookie()))
        assert done.status_code == 302, done.text[:500]
        location = urlsplit(done.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
        q = parse_qs(location.query)
        assert q["state"] == [state]
        # without the verifier the code is refused: PKCE is enforced for the console
        no_pkce = await c.post(d["token_endpoint"], data={
            "grant_type": "authorization_code", "code": q["code"][0], "redirect_uri": redirect,
            "client_id": keycloak.CONSOLE_CLIENT, "code_verifier": secrets.token_urlsafe(48)})
        assert no_pkce.status_code == 400
        # a code is single-use: sign in again for the real exchange
        page = await c.get(d["authorization_endpoint"], params={
            "response_type": "code", "client_id": keycloak.CONSOLE_CLIENT, "redirect_uri": redirect,
            "scope": "openid profile", "state": state, "code_challenge": challenge, "code_challenge_method": "S256"},
            headers=cookie())
        assert page.status_code == 302, page.text[:500]
        code = parse_qs(urlsplit(page.headers["location"]).query)["code"][0]  # the SSO session: no form again
        tokens = await c.post(d["token_endpoint"], data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
            "client_id": keycloak.CONSOLE_CLIENT, "code_verifier": verifier})
        assert tokens.status_code == 200, tokens.text
        return tokens.json()


async def direct_grant(issuer: str, client_id: str, username: str) -> str:
    async with httpx.AsyncClient(timeout=20) as c:
        r = await c.post(f"{issuer}/protocol/openid-connect/token", data={
            "grant_type": "password", "client_id": client_id, "username": username.lower(),
            "password": keycloak.PASSWORD, "scope": "openid"})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def claims(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def envelope(payload):
    return registry.envelope(payload, producer="whale-crm/access")


async def test_console_flow_token_is_verified_through_jwks(keycloak_server, kafka_settings, pg_database, poll):
    issuer = keycloak_server.issuer
    auth = AuthSettings(jwt_algorithm="RS256", jwks_url=f"{issuer}/protocol/openid-connect/certs",
                        jwt_issuer=issuer, jwt_audience=keycloak.AUDIENCE, user_claim=keycloak.STAFF_CLAIM,
                        max_token_lifetime_s=3600, leeway_seconds=0)
    settings = KycSettings(database_url=pg_database("kyc"), kafka=kafka_settings, auth=auth, relay_interval_ms=50,
                           access_directory="enforce", access_refresh_s=0.2)
    c = bootstrap(settings)
    producer = EventProducer(kafka_settings, client_id="access-sim")
    await producer.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://kyc")

    async def queue(token: str) -> httpx.Response:
        return await client.get("/kyc/queue", headers={"Authorization": f"Bearer {token}"})

    try:
        async with running(c):
            await producer.publish_many([
                envelope(AccessRoleChanged(role_id="kyc-reviewer", name="KYC reviewer", scope="all", version=1,
                                           permissions=["ClientProfileReadOnly", "KycReview"], changed_at=T0)),
                envelope(AccessStaffChanged(staff_id="kyc-ann", status="active", change="registered", version=1,
                                            changed_at=T0, assignments=[RoleAssignment(
                                                assignment_id="a-1", role_id="kyc-reviewer", effective_from=T0)])),
            ])
            await poll(lambda: c.access_directory.access("kyc-ann").active, timeout=30, message="directory filled")
            await check_tokens(keycloak_server.issuer, queue, poll)
    finally:
        await client.aclose()
        await producer.stop()


async def check_tokens(issuer: str, queue, poll) -> None:
    """The console's token is allowed; the same tampered with, another audience's, an expired one are 401."""
    tokens = await sign_in(issuer, "kyc-ann", keycloak.PASSWORD)
    token = tokens["access_token"]
    got = claims(token)
    assert got["staff_id"] == "kyc-ann" and got["aud"] == keycloak.AUDIENCE and got["iss"] == issuer
    assert got["azp"] == keycloak.CONSOLE_CLIENT
    assert got["exp"] - got["iat"] <= keycloak.ACCESS_TOKEN_LIFESPAN_S
    # the token names the person, nothing they may do: no permission, data scope, team or role claims
    assert not {"perms", "teams", "team", "roles", "realm_access", "resource_access", "groups"} & set(got)
    assert tokens["id_token"]

    allowed = await queue(token)
    assert allowed.status_code == 200, allowed.text  # verified through JWKS, the rights from the directory

    head, body, sig = token.split(".")
    forged = {**got, "staff_id": "admin-1"}
    tampered = f"{head}.{b64url(json.dumps(forged).encode())}.{sig}"
    other = await direct_grant(issuer, OTHER_AUDIENCE, "kyc-ann")
    assert claims(other)["aud"] == "another-api"
    short = await direct_grant(issuer, SHORT_LIVED, "kyc-ann")
    await poll(lambda: time.time() > claims(short)["exp"] + 1, timeout=10, interval=0.2, message="expired")
    for what, bad in (("tampered", tampered), ("other audience", other), ("expired", short),
                      ("unsigned", f"{head}.{body}.")):
        r = await queue(bad)
        assert r.status_code == 401, (what, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), what
        assert r.json()["status"] == 401 and "invalid token" in r.json()["detail"], what
    # a demo user the directory does not know signs in fine but is refused by the service
    stranger = await direct_grant(issuer, keycloak.DEVTOOLS_CLIENT, "audit-1")
    assert (await queue(stranger)).status_code == 401


async def test_realm_users_are_the_demo_staff(keycloak_server):
    """Every demo user and account manager signs in with the demo password; their token names their staff id
    exactly (Keycloak keeps usernames in lower case); a wrong password is refused."""
    for staff_id, *_ in keycloak.staff():
        assert claims(await direct_grant(keycloak_server.issuer, keycloak.DEVTOOLS_CLIENT, staff_id))[
            keycloak.STAFF_CLAIM] == staff_id
    async with httpx.AsyncClient(timeout=20) as c:
        r = await c.post(f"{keycloak_server.issuer}/protocol/openid-connect/token", data={
            "grant_type": "password", "client_id": keycloak.DEVTOOLS_CLIENT, "username": "admin-1",
            "password": "wrong"})
        assert r.status_code == 401
        # the console's client has no direct grant: only the browser flow with PKCE
        r = await c.post(f"{keycloak_server.issuer}/protocol/openid-connect/token", data={
            "grant_type": "password", "client_id": keycloak.CONSOLE_CLIENT, "username": "admin-1",
            "password": keycloak.PASSWORD})
        assert r.status_code in (400, 401)


async def test_repeated_wrong_passwords_lock_the_account_for_a_while(keycloak_server):
    """LOCKOUT_FAILURES wrong passwords in a row: the right one is refused too, for a while (Keycloak says
    nothing about the lock to the caller). Last in this module: the account stays locked for a minute."""
    staff_id = keycloak.staff()[-1][0]
    token = f"{keycloak_server.issuer}/protocol/openid-connect/token"
    assert claims(await direct_grant(keycloak_server.issuer, keycloak.DEVTOOLS_CLIENT, staff_id))[
        keycloak.STAFF_CLAIM] == staff_id

    async def attempt(c: httpx.AsyncClient, password: str) -> httpx.Response:
        return await c.post(token, data={"grant_type": "password", "client_id": keycloak.DEVTOOLS_CLIENT,
                                         "username": staff_id.lower(), "password": password})

    async with httpx.AsyncClient(timeout=20) as c:
        for _ in range(keycloak.LOCKOUT_FAILURES):
            assert (await attempt(c, "wrong")).status_code == 401
        locked = await attempt(c, keycloak.PASSWORD)
        assert locked.status_code in (400, 401) and "access_token" not in locked.text, locked.text
