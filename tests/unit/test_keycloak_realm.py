"""The Keycloak realm `make run` imports (devtools.keycloak) and the services' settings beside it (devtools.run):
the demo staff are its users, the console's client is code + PKCE S256 only, tokens carry the audience and the
staff id and nothing a service would take as a right, and every service verifies them through the JWKS with the
access directory in force."""

from __future__ import annotations

from pathlib import Path

from devtools import keycloak
from devtools import run as launcher
from devtools.devsignin import DEMO_USERS
from devtools.seed import MANAGERS
from shared.runtime.settings import AuthSettings


def test_the_realm_holds_every_demo_member_with_their_exact_staff_id():
    realm = keycloak.realm(["http://127.0.0.1:8100/", "http://localhost:8100"])
    users = {u["attributes"][keycloak.STAFF_CLAIM][0]: u for u in realm["users"] if "serviceAccountClientId" not in u}
    assert {user for _, user, _, _ in DEMO_USERS} <= set(users)
    assert {m["manager_id"] for m in MANAGERS} <= set(users)
    for staff_id, u in users.items():
        assert u["username"] == staff_id.lower() and u["enabled"]
        assert u["credentials"] == [{"type": "password", "value": keycloak.PASSWORD, "temporary": False}]
    assert realm["accessTokenLifespan"] <= AuthSettings().max_token_lifetime_s
    assert '"name": "staff_id"' in realm["components"]["org.keycloak.userprofile.UserProfileProvider"][0][
        "config"]["kc.user.profile.config"][0]  # a managed attribute, edited by administrators only


def test_the_console_client_is_code_and_pkce_only_and_tokens_carry_no_rights():
    realm = keycloak.realm(["http://127.0.0.1:8100"])
    clients = {c["clientId"]: c for c in realm["clients"]}
    console = clients[keycloak.CONSOLE_CLIENT]
    assert console["publicClient"] and console["standardFlowEnabled"]
    assert not console["directAccessGrantsEnabled"] and not console["implicitFlowEnabled"]
    assert console["attributes"]["pkce.code.challenge.method"] == "S256"
    assert console["redirectUris"] == ["http://127.0.0.1:8100/*"] and console["webOrigins"] == ["http://127.0.0.1:8100"]
    for c in (clients[keycloak.CONSOLE_CLIENT], clients[keycloak.DEVTOOLS_CLIENT]):
        assert not c["fullScopeAllowed"] and "roles" not in c["defaultClientScopes"]
        mappers = {m["protocolMapper"]: m["config"] for m in c["protocolMappers"]}
        assert mappers["oidc-audience-mapper"]["included.custom.audience"] == keycloak.AUDIENCE
        assert mappers["oidc-usermodel-attribute-mapper"]["claim.name"] == keycloak.STAFF_CLAIM
        assert set(mappers) == {"oidc-audience-mapper", "oidc-usermodel-attribute-mapper"}


def test_failed_logins_are_kept_and_only_the_audit_collector_may_read_them():
    realm = keycloak.realm(["http://127.0.0.1:8100"])
    assert realm["eventsEnabled"] and realm["enabledEventTypes"] == ["LOGIN_ERROR"] and realm["eventsExpiration"] > 0
    # repeated wrong passwords lock an account for a while, never for good
    assert realm["bruteForceProtected"] and not realm["permanentLockout"]
    assert realm["failureFactor"] == keycloak.LOCKOUT_FAILURES and 0 < realm["waitIncrementSeconds"] <= 60
    assert realm["maxFailureWaitSeconds"] <= 900
    clients = {c["clientId"]: c for c in realm["clients"]}
    events = clients[keycloak.EVENTS_CLIENT]
    assert not events["publicClient"] and events["serviceAccountsEnabled"] and not events["fullScopeAllowed"]
    assert not (events["standardFlowEnabled"] or events["directAccessGrantsEnabled"] or events["implicitFlowEnabled"])
    (account,) = [u for u in realm["users"] if u.get("serviceAccountClientId") == keycloak.EVENTS_CLIENT]
    assert account["clientRoles"] == {"realm-management": ["view-events", "view-users"]}
    assert realm["clientScopeMappings"] == {"realm-management": [{"client": keycloak.EVENTS_CLIENT,
                                                                  "roles": ["view-events", "view-users"]}]}
    assert all(not c.get("serviceAccountsEnabled") for c in clients.values() if c is not events)


def test_write_realm_says_when_the_realm_changed(tmp_path: Path):
    path = tmp_path / "realm.json"
    assert keycloak.write_realm(path, ["http://127.0.0.1:8100"])
    assert not keycloak.write_realm(path, ["http://127.0.0.1:8100"])
    assert keycloak.write_realm(path, ["http://127.0.0.1:18500"])


def test_every_service_verifies_the_providers_tokens_with_the_directory_in_force(tmp_path: Path, monkeypatch):
    for name in launcher.SERVICE_ORDER:
        monkeypatch.delenv(f"{name.upper()}_ACCESS_DIRECTORY", raising=False)
    issuer = keycloak.issuer(8112)
    names = list(launcher.SERVICE_ORDER)
    for name in names:  # as start_services composes them
        env = launcher.service_env(name, tmp_path, "127.0.0.1:9092",
                                   extra={**launcher.directory_env(names), **launcher.oidc_env(issuer)})
        assert env["AUTH_JWT_ALGORITHM"] == "RS256" and env["AUTH_JWT_ISSUER"] == issuer
        assert env["AUTH_JWKS_URL"] == f"{issuer}/protocol/openid-connect/certs"
        assert env["AUTH_USER_CLAIM"] == "staff_id" and env["AUTH_JWT_AUDIENCE"] == keycloak.AUDIENCE
        assert env[f"{name.upper()}_ACCESS_DIRECTORY"] == "enforce"
        assert env[f"{name.upper()}_CURSOR_SECRET"]  # one cursor key for the service's api and worker
        assert env["AUTH_DEV_JWT_SECRET"]  # the stack's own tokens (seeding, development sign-in) beside them
    plain = launcher.service_env("kyc", tmp_path, "127.0.0.1:9092")
    assert plain["AUTH_JWT_ALGORITHM"] == "HS256" and "AUTH_JWKS_URL" not in plain


def test_without_a_jdk_for_keycloak_make_run_says_so_and_goes_on(tmp_path: Path, monkeypatch, capsys):
    """No JDK >= 21: `infra/keycloak.sh start` exits 3 at once and devtools.run falls back to the development
    sign-in, loudly, instead of waiting for a provider that will never answer."""
    import socket
    import time

    monkeypatch.setenv("KEYCLOAK_JAVA_HOME", str(tmp_path / "no-jdk-here"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    assert launcher.start_keycloak(port, tmp_path, "http://127.0.0.1:1") is None
    assert time.monotonic() - started < 30
    assert "Keycloak did not start (no JDK >= 21 on this machine)" in capsys.readouterr().err
