"""Keycloak, the OpenID Connect provider of the local stack (`infra/keycloak.sh` installs and runs it): the
`whale` realm it imports at start, generated from the demo staff so its users cannot drift from them, and
the helpers `make run` and the tests use to talk to it.

The realm:
- every demo user and account manager (`devtools.seed_access.staff_plan`, the campaign peer included) as a user
  whose username is their staff id (Keycloak keeps usernames in lower case, so the exact staff id also sits in
  the read-only attribute `staff_id`, put into the tokens as the `staff_id` claim: `AUTH_USER_CLAIM=staff_id`;
  only an administrator may change it), password `whale-demo`;
- `whale-console`: the console, a public client, authorization code + PKCE S256 only, redirect URIs and web
  origins of the gateways given;
- `whale-devtools`: a public client with the direct (password) grant only, for scripts and tests acting as a
  demo user (development realm only: the direct grant exists nowhere else; `make run`'s seeding and simulated
  staff use the stack's own development tokens, `AUTH_DEV_JWT_SECRET`);
- an audience mapper on both, so access tokens carry `aud` = `AUTH_JWT_AUDIENCE`; no role, group or
  permission claims (the services take rights from the access directory, `crm.access.events`); access tokens
  live `ACCESS_TOKEN_LIFESPAN_S` (≤ `AUTH_MAX_TOKEN_LIFETIME_S`);
- login events: failed logins (`LOGIN_ERROR`) are kept 7 days, and `whale-crm-audit`, a confidential client
  with a service account allowed to view events and users (realm-management `view-events`, `view-users`),
  lets the audit service collect them as audit records (`services/audit/signins.py`; its secret here is a
  development one, `AUDIT_KEYCLOAK_CLIENT_SECRET`).

    python -m devtools.keycloak realm --out FILE [--origin http://127.0.0.1:8100 ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

REALM = "whale"
PASSWORD = "whale-demo"
CONSOLE_CLIENT = "whale-console"
DEVTOOLS_CLIENT = "whale-devtools"
EVENTS_CLIENT = "whale-crm-audit"  # the audit service's collector of failed logins (services/audit/signins.py)
EVENTS_SECRET = "whale-dev-audit-events-secret"  # development realm only
EVENTS_ROLES = ("view-events", "view-users")  # realm-management roles of its service account
STAFF_CLAIM = "staff_id"
AUDIENCE = "whale-crm"
ACCESS_TOKEN_LIFESPAN_S = 1800
LOCKOUT_FAILURES = 5  # wrong passwords in a row (within 12 h) that lock an account: 1 min, growing to 15 min
PORT_OFFSET = 12  # `make run`: Keycloak on the port base + 12 (8112)


def issuer(port: int, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{port}/realms/{REALM}"


def staff() -> list[tuple[str, str, str | None, str]]:
    """(staff id, display name, team, role) of every member the demo stack signs in as."""
    from .seed import MANAGERS
    from .seed_access import staff_plan

    return staff_plan(MANAGERS)


def _user_profile() -> str:
    """Keycloak's declarative user profile: the usual attributes (none required, so a first sign-in asks
    nothing) and `staff_id`, which users can see but only administrators can edit."""
    def attr(name: str, display: str, *, user_edit: bool = True, **extra: Any) -> dict[str, Any]:
        return {"name": name, "displayName": display, "multivalued": False,
                "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"] if user_edit else ["admin"]},
                **extra}

    return json.dumps({"attributes": [
        attr("username", "${username}", validations={"length": {"min": 1, "max": 255},
                                                       "username-prohibited-characters": {},
                                                       "up-username-not-idn-homograph": {}}),
        attr("email", "${email}", validations={"email": {}, "length": {"max": 255}}),
        attr("firstName", "${firstName}", validations={"length": {"max": 255}}),
        attr("lastName", "${lastName}", validations={"length": {"max": 255}}),
        attr(STAFF_CLAIM, "Staff id", user_edit=False),
    ], "groups": []})


def _mappers() -> list[dict[str, Any]]:
    return [
        {"name": "whale-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
         "config": {"included.custom.audience": AUDIENCE, "access.token.claim": "true",
                    "id.token.claim": "false", "introspection.token.claim": "true"}},
        {"name": "staff-id", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-attribute-mapper",
         "config": {"user.attribute": STAFF_CLAIM, "claim.name": STAFF_CLAIM, "jsonType.label": "String",
                    "access.token.claim": "true", "id.token.claim": "true", "userinfo.token.claim": "true",
                    "introspection.token.claim": "true"}},
    ]


# Client scopes of both clients: `sub` (basic), names (profile), allowed origins (web-origins), acr — not
# `roles` or `email`: the tokens name the person and nothing they may do.
CLIENT_SCOPES = ["basic", "profile", "web-origins", "acr"]


def realm(origins: list[str], *, lifespan_s: int = ACCESS_TOKEN_LIFESPAN_S) -> dict[str, Any]:
    """The `whale` realm for gateways at `origins` (e.g. http://127.0.0.1:8100)."""
    origins = sorted({o.rstrip("/") for o in origins})
    users = []
    for staff_id, name, _team, _role in staff():
        first, _, last = name.partition(" ")
        users.append({"username": staff_id.lower(), "enabled": True, "emailVerified": True,
                      "firstName": first, "lastName": last or staff_id,
                      "attributes": {STAFF_CLAIM: [staff_id]},
                      "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}]})
    common = {"protocol": "openid-connect", "publicClient": True, "implicitFlowEnabled": False,
              "serviceAccountsEnabled": False, "fullScopeAllowed": False, "frontchannelLogout": True,
              "defaultClientScopes": CLIENT_SCOPES, "optionalClientScopes": [], "protocolMappers": _mappers()}
    return {
        "realm": REALM, "enabled": True, "displayName": "Whale CRM (development)",
        "registrationAllowed": False, "resetPasswordAllowed": False, "rememberMe": False,
        "loginWithEmailAllowed": False, "duplicateEmailsAllowed": True, "sslRequired": "none",
        "accessTokenLifespan": lifespan_s, "ssoSessionIdleTimeout": 8 * 3600, "ssoSessionMaxLifespan": 10 * 3600,
        # repeated wrong passwords lock the account for a while (never for good: an administrator is not
        # needed to unlock it); a lockout is itself a LOGIN_ERROR (user_temporarily_disabled) the audit keeps
        "bruteForceProtected": True, "permanentLockout": False, "failureFactor": LOCKOUT_FAILURES,
        "waitIncrementSeconds": 60, "maxFailureWaitSeconds": 900, "maxDeltaTimeSeconds": 12 * 3600,
        "quickLoginCheckMilliSeconds": 1000, "minimumQuickLoginWaitSeconds": 60,
        # failed logins kept a week for the audit service's collector (it reads them every few seconds)
        "eventsEnabled": True, "eventsExpiration": 7 * 86400, "enabledEventTypes": ["LOGIN_ERROR"],
        "components": {"org.keycloak.userprofile.UserProfileProvider": [{
            "providerId": "declarative-user-profile", "subComponents": {},
            "config": {"kc.user.profile.config": [_user_profile()]}}]},
        "clients": [
            {**common, "clientId": CONSOLE_CLIENT, "name": "Whale CRM console", "standardFlowEnabled": True,
             "directAccessGrantsEnabled": False,
             "redirectUris": [f"{o}/*" for o in origins], "webOrigins": origins,
             "attributes": {"pkce.code.challenge.method": "S256",
                            "post.logout.redirect.uris": "##".join(p for o in origins for p in (o, f"{o}/*"))}},
            {**common, "clientId": DEVTOOLS_CLIENT, "name": "make run's demo staff (development only)",
             "standardFlowEnabled": False, "directAccessGrantsEnabled": True, "redirectUris": [], "webOrigins": [],
             "attributes": {}},
            {"clientId": EVENTS_CLIENT, "name": "Whale CRM audit: failed logins", "protocol": "openid-connect",
             "publicClient": False, "secret": EVENTS_SECRET, "serviceAccountsEnabled": True,
             "standardFlowEnabled": False, "directAccessGrantsEnabled": False, "implicitFlowEnabled": False,
             "fullScopeAllowed": False, "redirectUris": [], "webOrigins": [], "attributes": {}},
        ],
        # the collector's tokens carry those two roles and no other (its scope: just them)
        "clientScopeMappings": {"realm-management": [{"client": EVENTS_CLIENT, "roles": list(EVENTS_ROLES)}]},
        "users": [*users, {"username": f"service-account-{EVENTS_CLIENT}", "enabled": True,
                           "serviceAccountClientId": EVENTS_CLIENT,
                           "clientRoles": {"realm-management": list(EVENTS_ROLES)}}],
    }


def write_realm(path: Path, origins: list[str]) -> bool:
    """Write the realm file; True when its content changed (Keycloak imports a realm only once)."""
    text = json.dumps(realm(origins), indent=1, sort_keys=True) + "\n"
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("realm", help="write the whale realm (JSON) for --import-realm")
    r.add_argument("--out", required=True, type=Path)
    r.add_argument("--origin", action="append", default=[], help="a gateway origin (repeat); default :8100")
    args = p.parse_args()
    if args.command == "realm":
        write_realm(args.out, args.origin or ["http://127.0.0.1:8100"])


if __name__ == "__main__":
    main()
