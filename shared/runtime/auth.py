"""Authentication and authorization core shared by every service API.

Tokens are JWTs issued by the frontend gateway: HS256 with a shared secret in development, RS256 with a
public key (PEM), a JWKS file or an OpenID Connect provider's JWKS endpoint (`AUTH_JWKS_URL`) in production.
A token carries the principal: user id (`AUTH_USER_CLAIM`), roles, permissions, team and data scope; with an
access directory (`shared.runtime.access_directory`) only the user id is taken from it.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .settings import AuthSettings


class Perm(StrEnum):
    """Permissions. The first two are the source documents' names."""

    ClientProfileReadOnly = "ClientProfileReadOnly"  # view tasks, dashboard, customer pool, summary, assets
    SupportManageFull = "SupportManageFull"  # add/edit/view managers, QR codes, resign managers
    CustomerWrite = "CustomerWrite"  # remarks, tags, private notes
    CustomerPiiRead = "CustomerPiiRead"  # see unmasked phone, email, ID numbers
    CustomerVerify = "CustomerVerify"  # update customer verification status
    CustomerExport = "CustomerExport"  # export the customer list
    CustomerMerge = "CustomerMerge"  # merge / reject suspected duplicate customers, unmerge
    CustomerImport = "CustomerImport"  # import customers and leads from a file (CSV / XLSX), see past imports
    AssignmentManage = "AssignmentManage"  # assign / unassign customers, rules
    TaskWrite = "TaskWrite"  # follow-up records, tasks
    TicketManage = "TicketManage"  # tickets after account opening
    ReportWrite = "ReportWrite"  # daily reports
    KycReview = "KycReview"  # claim and decide KYC cases
    KycSecondReview = "KycSecondReview"  # four-eyes second review of high-risk cases
    KycAdmin = "KycAdmin"  # assign cases to reviewers, configure reasons / risk rules
    ChangelogPost = "ChangelogPost"  # post changelog entries on the home dashboard
    Operator = "Operator"  # SRE operations: reclaim now, rebuild, dead letters
    # User CRM: actions on the user (requests to the platform) and the user-information tabs
    UserMessageSend = "UserMessageSend"  # send a message to the user (in-app, e-mail, SMS)
    UserAccessManage = "UserAccessManage"  # block / unblock the user, reset the password
    UserInfoEdit = "UserInfoEdit"  # change requests on the user's behalf, social links
    UserMoneyRequest = "UserMoneyRequest"  # add account, deposit / withdraw, allocations
    UserMoneyApprove = "UserMoneyApprove"  # maker-checker: approve money requests above the threshold
    UserOwnerChange = "UserOwnerChange"  # change a client's / lead's owner (in scope, to a manager in scope)
    UserAccessLevelManage = "UserAccessLevelManage"  # change a user's admin access level on the platform
    UserTabGeneral = "UserTabGeneral"  # read the General tab (contact, language, time zone)
    UserTabPersonal = "UserTabPersonal"  # read Personal details (date of birth, citizenship, ID numbers)
    UserTabFinancialStatus = "UserTabFinancialStatus"  # read Financial status
    UserTabExperience = "UserTabExperience"  # read Financial experience
    UserTabBanking = "UserTabBanking"  # read Banking information
    UserTabCompliance = "UserTabCompliance"  # read Compliance (KYC documents)
    UserTabLogs = "UserTabLogs"  # read the login log
    UserReportsRead = "UserReportsRead"  # accounts, allocations, statement
    AuditRead = "AuditRead"  # the audit log of requests on users' behalf
    CommentModerate = "CommentModerate"  # delete anyone's ticket comment
    # Campaigns: planning, same-level review, execution
    CampaignRead = "CampaignRead"  # see campaigns (of the caller's teams), their history, targets, audience previews
    CampaignWrite = "CampaignWrite"  # create, edit, submit, start and close campaigns
    CampaignReview = "CampaignReview"  # approve or reject a peer's campaign (never one's own)
    AccessManage = "AccessManage"  # roles, the organisation tree, staff members and their role assignments


# The permission catalogue (what the access service lists and roles are made of): one line per permission.
PERM_DESCRIPTIONS: dict[Perm, str] = {
    Perm.ClientProfileReadOnly: "view tasks, dashboard, customer pool, summary, assets",
    Perm.SupportManageFull: "add/edit/view managers, QR codes, resign managers",
    Perm.CustomerWrite: "remarks, tags, private notes",
    Perm.CustomerPiiRead: "see unmasked phone, email, ID numbers",
    Perm.CustomerVerify: "update customer verification status",
    Perm.CustomerExport: "export the customer list",
    Perm.CustomerMerge: "merge or reject suspected duplicate customers, unmerge",
    Perm.CustomerImport: "import customers and leads from a file (CSV / XLSX), see past imports",
    Perm.AssignmentManage: "assign / unassign customers, rules",
    Perm.TaskWrite: "follow-up records, tasks",
    Perm.TicketManage: "tickets after account opening",
    Perm.ReportWrite: "daily reports",
    Perm.KycReview: "claim and decide KYC cases",
    Perm.KycSecondReview: "four-eyes second review of high-risk cases",
    Perm.KycAdmin: "assign cases to reviewers, configure reasons / risk rules",
    Perm.ChangelogPost: "post changelog entries on the home dashboard",
    Perm.Operator: "SRE operations: reclaim now, rebuild, dead letters",
    Perm.UserMessageSend: "send a message to the user (in-app, e-mail, SMS)",
    Perm.UserAccessManage: "block / unblock the user, reset the password",
    Perm.UserInfoEdit: "change requests on the user's behalf, social links",
    Perm.UserMoneyRequest: "add account, deposit / withdraw, allocations",
    Perm.UserMoneyApprove: "maker-checker: approve money requests above the threshold",
    Perm.UserOwnerChange: "change a client's / lead's owner (in scope, to a manager in scope)",
    Perm.UserAccessLevelManage: "change a user's admin access level on the platform",
    Perm.UserTabGeneral: "read the General tab (contact, language, time zone)",
    Perm.UserTabPersonal: "read Personal details (date of birth, citizenship, ID numbers)",
    Perm.UserTabFinancialStatus: "read Financial status",
    Perm.UserTabExperience: "read Financial experience",
    Perm.UserTabBanking: "read Banking information",
    Perm.UserTabCompliance: "read Compliance (KYC documents)",
    Perm.UserTabLogs: "read the login log",
    Perm.UserReportsRead: "accounts, allocations, statement",
    Perm.AuditRead: "the audit log of requests on users' behalf",
    Perm.CommentModerate: "delete anyone's ticket comment",
    Perm.CampaignRead: "see campaigns (of the caller's teams), their history, targets, audience previews",
    Perm.CampaignWrite: "create, edit, submit, start and close campaigns",
    Perm.CampaignReview: "approve or reject a peer's campaign (never one's own)",
    Perm.AccessManage: "roles, the organisation tree, staff members and their role assignments",
}


class Scope(StrEnum):
    own = "own"
    team = "team"
    all = "all"


SCOPE_NAMES = {Scope.own: "own-customers", Scope.team: "team", Scope.all: "all-customers"}


# Each User CRM information tab has its own read permission.
USER_TABS = (Perm.UserTabGeneral, Perm.UserTabPersonal, Perm.UserTabFinancialStatus, Perm.UserTabExperience,
             Perm.UserTabBanking, Perm.UserTabCompliance, Perm.UserTabLogs)

ROLES: dict[str, dict[str, Any]] = {
    "manager": {
        "scope": Scope.own,
        "perms": [Perm.ClientProfileReadOnly, Perm.CustomerWrite, Perm.TaskWrite, Perm.TicketManage, Perm.ReportWrite,
                  Perm.UserMessageSend, Perm.UserInfoEdit, Perm.UserMoneyRequest, Perm.UserTabGeneral,
                  Perm.UserTabPersonal, Perm.UserTabFinancialStatus, Perm.UserTabExperience, Perm.UserTabCompliance,
                  Perm.UserTabLogs, Perm.UserReportsRead, Perm.CampaignRead, Perm.CampaignWrite, Perm.CampaignReview],
    },
    "team_lead": {
        "scope": Scope.team,
        "perms": [
            Perm.ClientProfileReadOnly,
            Perm.CustomerWrite,
            Perm.CustomerExport,
            Perm.CustomerMerge,
            Perm.AssignmentManage,
            Perm.TaskWrite,
            Perm.TicketManage,
            Perm.ReportWrite,
            Perm.UserMessageSend,
            Perm.UserAccessManage,
            Perm.UserInfoEdit,
            Perm.UserMoneyRequest,
            Perm.UserMoneyApprove,
            Perm.UserOwnerChange,
            *USER_TABS,
            Perm.UserReportsRead,
            Perm.CampaignRead,
            Perm.CampaignWrite,
            Perm.CampaignReview,
        ],
    },
    "admin": {
        "scope": Scope.all,
        "perms": [p for p in Perm if p not in (Perm.KycReview, Perm.KycSecondReview, Perm.Operator)],
    },
    "kyc_reviewer": {"scope": Scope.all, "perms": [Perm.ClientProfileReadOnly, Perm.KycReview,
                                                    Perm.UserTabPersonal, Perm.UserTabCompliance]},
    "kyc_senior": {
        "scope": Scope.all,
        "perms": [Perm.ClientProfileReadOnly, Perm.KycReview, Perm.KycSecondReview, Perm.KycAdmin,
                  Perm.UserTabPersonal, Perm.UserTabCompliance],
    },
    "operator": {"scope": Scope.all, "perms": [Perm.Operator, Perm.ChangelogPost]},
    "auditor": {"scope": Scope.all, "perms": [Perm.ClientProfileReadOnly, *USER_TABS, Perm.UserReportsRead,
                                              Perm.AuditRead, Perm.CampaignRead]},
}


@dataclass(frozen=True)
class Principal:
    user_id: str
    roles: tuple[str, ...] = ()
    permissions: frozenset[str] = field(default_factory=frozenset)
    team_id: str | None = None
    scope: Scope = Scope.own
    managed_team_ids: tuple[str, ...] = ()  # teams a team lead leads (defaults to their own team)

    def has(self, perm: Perm | str) -> bool:
        return str(perm) in self.permissions

    def require(self, perm: Perm | str) -> None:
        if not self.has(perm):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"missing permission {perm}")

    @property
    def teams(self) -> tuple[str, ...]:
        """Teams whose data a `team` scope covers."""
        if self.managed_team_ids:
            return self.managed_team_ids
        return (self.team_id,) if self.team_id else ()


class AuthError(Exception):
    pass


class AccessNotLoaded(Exception):
    """The access directory has not yet read the access topic up to its end: the caller may be a member it does
    not know yet (answered 503 with Retry-After, not 401)."""


VERIFIED_TOKENS = 4096  # verified tokens kept per verifier (fixed keys only), the oldest dropped first


class TokenVerifier:
    def __init__(self, settings: AuthSettings):
        self.settings = settings
        self._keys: list[Any] | None = None
        # An identity provider's JWKS endpoint: the key set cached 5 minutes (a key the provider withdrew is
        # refused after that), fetched again for an unknown key id at most once per cooldown.
        self._jwks = (jwt.PyJWKClient(settings.jwks_url, lifespan=300, timeout=5,
                                      cooldown_duration=settings.jwks_refresh_cooldown_s)
                      if settings.jwks_url and settings.jwt_algorithm == "RS256" else None)
        # With keys fixed for the process (a secret, key files — not a JWKS endpoint, whose withdrawn keys must
        # be refused once its set is fetched again) a token verified once stays valid until its `exp`: the
        # verified principal is kept by token string (bounded) instead of decoding the JWT on every request
        # (~7% of a customer list call's CPU). The caller still checks the access directory every request.
        self._verified: dict[str, tuple[Principal, int]] = {}

    @property
    def remote(self) -> bool:
        """Verifying may fetch the provider's keys over the network (call it off the event loop)."""
        return self._jwks is not None

    def _verification_keys(self) -> list[Any]:
        if self._keys is not None:
            return self._keys
        s = self.settings
        if s.jwt_algorithm == "HS256":
            if not s.jwt_secret:
                raise AuthError("AUTH_JWT_SECRET is not configured")
            self._keys = [s.jwt_secret.get_secret_value()]
        elif s.jwks_file:
            doc = json.loads(s.jwks_file.read_text())
            self._keys = [jwt.PyJWK(k).key for k in doc.get("keys", [])]
        elif s.jwt_public_key_file:
            self._keys = [s.jwt_public_key_file.read_text()]
        else:
            raise AuthError("RS256 needs AUTH_JWT_PUBLIC_KEY_FILE, AUTH_JWKS_FILE or AUTH_JWKS_URL")
        return self._keys

    def _keys_for(self, token: str) -> list[Any]:
        if self._jwks is None:
            return self._verification_keys()
        try:
            return [self._jwks.get_signing_key_from_jwt(token).key]
        except jwt.PyJWKClientError as exc:  # no key with that id, the provider unreachable, a malformed token
            raise AuthError(type(exc).__name__) from None
        except jwt.PyJWTError as exc:
            raise AuthError(type(exc).__name__) from None

    def verify(self, token: str) -> Principal:
        s = self.settings
        if self._jwks is None:
            hit = self._verified.get(token)
            if hit is not None:
                if hit[1] > time.time() - s.leeway_seconds:  # (PyJWT: expired once exp <= now - leeway)
                    return hit[0]
                self._verified.pop(token, None)  # expired: decoded again, which refuses it
        if s.dev_jwt_secret is not None and s.jwt_algorithm == "RS256" and _header_alg(token) == "HS256":
            # development only (`make run`): the stack's own HS256 tokens beside the identity provider's
            principal, exp = self._decode(token, [s.dev_jwt_secret.get_secret_value()], "HS256", s.dev_jwt_issuer,
                                          "sub")
        else:
            principal, exp = self._decode(token, self._keys_for(token), s.jwt_algorithm, s.jwt_issuer, s.user_claim)
        if self._jwks is None:
            if len(self._verified) >= VERIFIED_TOKENS:
                self._verified.pop(next(iter(self._verified)), None)  # the oldest
            self._verified[token] = (principal, exp)
        return principal

    def _decode(self, token: str, keys: list[Any], algorithm: str, issuer: str,
                user_claim: str) -> tuple[Principal, int]:
        s = self.settings
        last: Exception | None = None
        for key in keys:
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=[algorithm],
                    audience=s.jwt_audience,
                    issuer=issuer,
                    leeway=s.leeway_seconds,
                    options={"require": ["exp", "iat", "sub", user_claim]},
                )
                if int(claims["exp"]) - int(claims["iat"]) > s.max_token_lifetime_s:
                    raise AuthError("token lifetime exceeds AUTH_MAX_TOKEN_LIFETIME_S")
                return principal_from_claims(claims, user_claim=user_claim), int(claims["exp"])
            except jwt.PyJWTError as exc:
                last = exc
        raise AuthError(type(last).__name__ if last else "invalid token")


def _header_alg(token: str) -> str | None:
    try:
        return jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        return None


def principal_from_claims(claims: dict[str, Any], *, user_claim: str = "sub") -> Principal:
    scope = claims.get("scope", "own")
    if "perms" not in claims and scope not in set(Scope):
        # an identity provider's token (no permissions): its `scope` is the OAuth scope granted ("openid
        # profile", RFC 9068), not a data scope, and grants nothing here (the access directory decides)
        scope = Scope.own
    try:
        scope = Scope(scope)
    except ValueError:
        raise AuthError("invalid scope claim") from None
    perms = claims.get("perms", [])
    roles = claims.get("roles", [])
    if not isinstance(perms, list) or not isinstance(roles, list):
        raise AuthError("invalid perms/roles claim")
    return Principal(
        user_id=str(claims[user_claim]),
        roles=tuple(str(r) for r in roles),
        permissions=frozenset(str(p) for p in perms),
        team_id=claims.get("team"),
        scope=scope,
        managed_team_ids=tuple(claims.get("teams", []) or ()),
    )


def mint_token(
    settings: AuthSettings,
    *,
    user_id: str,
    role: str,
    team_id: str | None = None,
    ttl_seconds: int = 8 * 3600,
    private_key: str | None = None,
    extra_perms: list[str] | None = None,
    scope: str | None = None,
    teams: list[str] | None = None,
    now: float | None = None,
) -> str:
    """Development tokens (the gateway issues real ones). HS256 with the configured secret, or RS256
    with `private_key`."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; known: {sorted(ROLES)}")
    spec = ROLES[role]
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": user_id,
        "roles": [role],
        "perms": sorted({str(p) for p in spec["perms"]} | set(extra_perms or [])),
        "scope": str(scope or spec["scope"]),
        "team": team_id,
        "teams": teams or ([team_id] if team_id else []),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if settings.jwt_algorithm == "HS256":
        if not settings.jwt_secret:
            raise AuthError("AUTH_JWT_SECRET is not configured")
        return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    if not private_key:
        raise AuthError("RS256 minting needs a private key")
    return jwt.encode(claims, private_key, algorithm="RS256")


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    """Route dependency: 401 for a missing, expired or tampered token. Async on purpose: verifying a JWT
    is a few microseconds of CPU, cheaper than the thread-pool hop FastAPI gives a sync dependency."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail="missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    verifier: TokenVerifier = request.app.state.token_verifier
    directory = getattr(request.app.state, "access_directory", None)  # shared.runtime.access_directory
    try:
        if verifier.remote:  # may fetch the provider's keys: not on the event loop
            principal = await asyncio.to_thread(verifier.verify, credentials.credentials)
        else:
            principal = verifier.verify(credentials.credentials)
        if directory is not None:  # the rights come from the access directory, not from the token's claims
            principal = await directory.resolve(principal)
    except AuthError as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=f"invalid token ({exc})",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    except AccessNotLoaded:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="the access directory is still loading",
                            headers={"Retry-After": "1"}) from None
    request.state.principal = principal
    return principal


# A route's permission rule, machine-readable: `require` and `require_any` mark their dependency with it and the
# app's OpenAPI states it on each operation as `x-whale-permission` (`openapi_problems.permission_rules`):
# {"all_of": [...]} (every one; [] = any signed-in member) or {"any_of": [...], "scope": "all"} (one of them,
# and with `scope` that data scope); either with "scopes": [...] (the data scopes the route serves at all).
PERMISSION_RULE = "__whale_permission__"


def require(*perms: Perm | str, scopes: tuple[Scope, ...] | None = None):
    """Route dependency: the principal, after 401/403 checks for every permission named and (with `scopes`)
    a 403 unless its data scope is one of them (e.g. figures by team mean nothing to an own-customers scope)."""

    async def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        for perm in perms:
            principal.require(perm)
        if scopes is not None and principal.scope not in scopes:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="requires one of the data scopes: " + ", ".join(
                SCOPE_NAMES.get(s, str(s)) for s in scopes))
        return principal

    rule: dict[str, Any] = {"all_of": sorted({str(p) for p in perms})}
    if scopes is not None:
        rule["scopes"] = sorted(str(s) for s in scopes)
    setattr(dependency, PERMISSION_RULE, rule)
    return dependency


def require_any(*perms: Perm | str, scope: Scope | None = None, type_base: str | None = None):
    """Route dependency: the principal, after a 401 check, a 403 unless it holds one of `perms`, and (with
    `scope`) a 403 unless its data scope is that one (a service whose data is not split by team or manager
    cannot honour a narrower scope). With `type_base` the 403s are typed `<type_base>forbidden` and
    `<type_base>scope` (the service's own problem types), else `about:blank`."""

    def forbidden(detail: str, code: str) -> Exception:
        if type_base is None:
            return HTTPException(status.HTTP_403_FORBIDDEN, detail=detail)
        from .api import Problem  # api imports this module

        return Problem(403, "Forbidden", detail, type_=f"{type_base}{code}")

    async def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if not any(principal.has(p) for p in perms):
            raise forbidden(f"requires one of: {', '.join(str(p) for p in perms)}", "forbidden")
        if scope is not None and principal.scope != scope:
            raise forbidden(f"requires the {SCOPE_NAMES.get(scope, scope)} data scope", "scope")
        return principal

    rule: dict[str, Any] = {"any_of": sorted({str(p) for p in perms})}
    if scope is not None:
        rule["scope"] = str(scope)
    setattr(dependency, PERMISSION_RULE, rule)
    return dependency
