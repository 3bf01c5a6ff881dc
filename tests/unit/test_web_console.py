"""The web console's Python side: the development sign-in, the gateway configuration, the OpenAPI export
behind the typed clients, and the console's copy of the permission model (web/src/auth/perms.ts,
web/src/test/roles.ts) against shared/runtime/auth.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from devtools import devsignin, gateway, openapi
from shared.runtime.auth import ROLES, Perm, TokenVerifier
from shared.runtime.settings import AuthSettings

REPO = Path(__file__).resolve().parents[2]
AUTH = AuthSettings(jwt_secret="test-secret-0123456789abcdef0123456789")


def _ts_strings(block: str) -> list[str]:
    return re.findall(r'"([^"]+)"', block)


def test_console_permissions_match_the_services():
    perms_ts = (REPO / "web" / "src" / "auth" / "perms.ts").read_text()
    perms = _ts_strings(re.search(r"PERMS = \[(.*?)\] as const", perms_ts, re.S).group(1))
    roles = _ts_strings(re.search(r"ROLES = \[(.*?)\] as const", perms_ts, re.S).group(1))
    assert perms == [p.value for p in Perm]
    assert set(roles) == set(ROLES)
    roles_ts = (REPO / "web" / "src" / "test" / "roles.ts").read_text()
    table = dict(re.findall(r"^\s+(\w+): \[(.*?)\],?$", roles_ts, re.M | re.S))
    assert set(table) == set(ROLES)
    for role, spec in ROLES.items():
        assert set(_ts_strings(table[role])) == {str(p) for p in spec["perms"]}, role


def test_dev_signin_is_off_unless_switched_on(monkeypatch):
    monkeypatch.delenv(devsignin.ENV_SWITCH, raising=False)
    assert not devsignin.enabled()
    monkeypatch.setenv(devsignin.ENV_SWITCH, "true")
    assert not devsignin.enabled(), "only the exact value 1 switches it on"
    monkeypatch.setenv(devsignin.ENV_SWITCH, "1")
    assert devsignin.enabled()
    assert gateway.console_config(dev_signin=False)["devSignIn"] is False


def test_dev_signin_mints_tokens_the_services_accept_for_every_demo_role():
    client = TestClient(devsignin.create_app(AUTH))
    users = client.get("/users").json()["users"]
    assert [u["role"] for u in users] == [r for r, *_ in devsignin.DEMO_USERS]
    assert {"admin", "team_lead", "manager", "kyc_reviewer", "kyc_senior", "auditor", "operator"} <= {
        u["role"] for u in users}
    verifier = TokenVerifier(AUTH)
    for u in users:
        r = client.post("/token", json={"role": u["role"]})
        assert r.status_code == 200
        principal = verifier.verify(r.json()["access_token"])
        assert principal.user_id == u["user_id"] and principal.roles == (u["role"],)
        assert principal.permissions == {str(p) for p in ROLES[u["role"]]["perms"]}
    assert client.post("/token", json={"role": "root"}).status_code == 422
    assert client.post("/token", json={"role": "admin", "scope": "all"}).status_code == 422


def test_dev_signin_refuses_to_run_without_the_development_secret():
    with pytest.raises(RuntimeError):
        devsignin.create_app(AuthSettings(jwt_algorithm="RS256"))


def test_console_config_takes_the_identity_provider_from_the_environment(monkeypatch):
    monkeypatch.setenv("WHALE_OIDC_ISSUER", "https://id.example/realms/b")
    monkeypatch.setenv("WHALE_OIDC_CLIENT_ID", "console")
    monkeypatch.setenv("WHALE_OIDC_AUDIENCE", "whale-crm")
    cfg = gateway.console_config(dev_signin=False)
    assert cfg["oidc"] == {"issuer": "https://id.example/realms/b", "clientId": "console",
                           "scope": "openid profile", "extraParams": {"audience": "whale-crm"}}
    monkeypatch.delenv("WHALE_OIDC_ISSUER")
    assert gateway.console_config(dev_signin=True) == {"oidc": None, "devSignIn": True}


def test_gateway_routes_each_api_and_passes_request_ids():
    conf = gateway.render(gateway.GatewayConfig(
        listen="127.0.0.1:9999", root="/srv/console", upstreams={s: f"127.0.0.1:{8101 + i}" for i, s in
                                                               enumerate(gateway.SERVICES)},
        runtime_dir="/tmp/gw", access_log="/tmp/gw/a.log", error_log="/tmp/gw/e.log",
        config_json="/tmp/gw/config.json", dev_signin="127.0.0.1:8109"))
    for i, s in enumerate(gateway.SERVICES):
        assert f"upstream {s}_api {{ server 127.0.0.1:{8101 + i}; keepalive 8; }}" in conf
        assert f"location /api/{s}/ {{" in conf and f"proxy_pass http://{s}_api/;" in conf
        assert f"location ~ ^/api/{s}/(metrics|healthz|readyz)$ {{ return 404; }}" in conf
    assert "proxy_set_header X-Request-ID $whale_request_id;" in conf
    assert "proxy_set_header X-Correlation-ID $whale_request_id;" in conf
    assert "location /dev-signin/" in conf and "try_files $uri /index.html;" in conf
    prod = gateway.render(gateway.k8s_config())
    assert "dev-signin" not in prod and "user " not in prod.split("events")[0]


def test_committed_k8s_gateway_config_is_current():
    assert gateway.main(["--k8s", "--check"]) == 0, "run: python -m devtools.gateway --k8s"


def test_openapi_export_bootstraps_each_service_without_a_broker():
    doc = openapi.openapi_document("customer")
    assert "/customers" in doc["paths"] and doc["openapi"].startswith("3.")
    assert {"customer", "assignment", "tasks", "summary", "kyc"} <= set(openapi.SERVICES) == set(gateway.SERVICES)
