"""Failed logins at the identity provider as audit records. A sign-in that fails never reaches our services (the
console signs in at Keycloak), so they cannot audit it; Keycloak records it (`LOGIN_ERROR`, kept by its event
store for the realm's events expiration). The audit worker collects those events every `AUDIT_KEYCLOAK_POLL_S`
through Keycloak's admin API, as the `whale-crm-audit` client (client credentials; a service account allowed to
view events and users), and publishes one record each to `crm.audit.records`, which its consumer chains like
any other:

- `action` `auth.sign_in_failed.<Keycloak's error>` (`invalid_user_credentials`, `user_not_found`,
  `user_disabled`, `user_temporarily_disabled`, …), `kind` sign_in, `outcome` denied, `status` 401,
  `service` keycloak, `client_ip` the address Keycloak saw, `at` the event's time;
- `staff_id`: the account's staff id (its `staff_id` attribute, read once per account) when the account exists;
  None when it does not — what was typed then is never recorded (it may be anything, a customer's e-mail
  included);
- `record_id` derived from Keycloak's event id, so an event collected twice (the overlap of two polls, a
  restart, which looks back `AUDIT_KEYCLOAK_LOOKBACK_S`) is stored once.

Nothing is kept between runs: the store's record ids are the memory.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.events import registry, topics
from shared.events.crm_audit import AuditKind, AuditOutcome, AuditRecord
from shared.runtime.audit import ENTITY_ID
from shared.runtime.health import ComponentHealth, Stuck
from shared.runtime.kafka import EventProducer
from shared.runtime.logging import get_logger

from .anchors import PRODUCER
from .settings import AuditSettings

log = get_logger("audit.signins")
NAMESPACE = uuid.UUID("4b1d7f0e-9a59-4c61-9d1e-6a8c2f3b5e70")  # record ids of collected Keycloak events
PAGE = 200
OVERLAP_MS = 5_000  # each poll reads again the last seconds before the newest event seen (the store dedupes)
_ERROR = re.compile(r"^[a-z_]{1,40}$")


class KeycloakSignInCollector:
    """A worker component (`run` / `stop`); `collect_once` is one poll."""

    def __init__(self, settings: AuditSettings, producer: EventProducer, *, http: httpx.AsyncClient | None = None):
        assert settings.keycloak_url and settings.keycloak_client_secret
        self.settings, self.producer = settings, producer
        self.base = settings.keycloak_url.rstrip("/")
        self.http = http or httpx.AsyncClient(timeout=10)
        self.since_ms = int((time.time() - settings.keycloak_lookback_s) * 1000)
        self._token: tuple[str, float] | None = None  # (access token, monotonic expiry)
        self._staff: dict[str, str | None] = {}  # Keycloak user id -> staff id (None: no staff_id attribute)
        self._sent: dict[uuid.UUID, int] = {}  # record ids published within the overlap -> event time (ms)
        self.health = ComponentHealth("audit", "keycloak-sign-ins", stall_after=6)
        self._stop = asyncio.Event()

    async def _bearer(self, *, fresh: bool = False) -> dict[str, str]:
        if fresh or self._token is None or self._token[1] <= time.monotonic():
            s = self.settings
            r = await self.http.post(f"{self.base}/realms/{s.keycloak_realm}/protocol/openid-connect/token", data={
                "grant_type": "client_credentials", "client_id": s.keycloak_client_id,
                "client_secret": s.keycloak_client_secret.get_secret_value() if s.keycloak_client_secret else ""})
            r.raise_for_status()
            body = r.json()
            self._token = (body["access_token"], time.monotonic() + max(int(body.get("expires_in", 60)) - 30, 5))
        return {"Authorization": f"Bearer {self._token[0]}"}

    async def _admin(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET on the realm's admin API; the token fetched again once if it was refused."""
        url = f"{self.base}/admin/realms/{self.settings.keycloak_realm}/{path}"
        r = await self.http.get(url, params=params, headers=await self._bearer())
        if r.status_code == 401:
            r = await self.http.get(url, params=params, headers=await self._bearer(fresh=True))
        r.raise_for_status()
        return r.json()

    async def _failed_logins(self, since_ms: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        first = 0
        while True:  # newest first, every page from `since_ms`
            page = await self._admin("events", {"type": "LOGIN_ERROR", "dateFrom": since_ms, "first": first,
                                                "max": PAGE})
            out += page
            if len(page) < PAGE:
                return out
            first += PAGE

    async def _staff_id(self, user_id: str | None) -> str | None:
        if not user_id:
            return None
        if user_id not in self._staff:
            try:
                user = await self._admin(f"users/{user_id}")
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 404:
                    raise
                user = {}  # deleted since
            found = (user.get("attributes") or {}).get(self.settings.keycloak_staff_attribute) or [None]
            self._staff[user_id] = found[0] if found[0] and ENTITY_ID.fullmatch(found[0]) else None
        return self._staff[user_id]

    async def record_of(self, event: dict[str, Any]) -> AuditRecord:
        error = str(event.get("error") or "")
        ip = event.get("ipAddress")
        key = event.get("id") or f"{event.get('time')}|{ip}|{event.get('userId')}|{error}|{event.get('sessionId')}"
        return AuditRecord(
            record_id=uuid.uuid5(NAMESPACE, f"{self.settings.keycloak_realm}|{key}"),
            staff_id=await self._staff_id(event.get("userId")), roles=[],
            action=f"auth.sign_in_failed.{error if _ERROR.fullmatch(error) else 'other'}", kind=AuditKind.sign_in,
            service="keycloak", method="POST", route=f"/realms/{self.settings.keycloak_realm}/login",
            customer_id=None, at=datetime.fromtimestamp(int(event["time"]) / 1000, UTC),
            client_ip=str(ip)[:200] if ip else None, correlation_id=None, status=401, outcome=AuditOutcome.denied)

    async def collect_once(self) -> int:
        """One poll: the failed logins since the newest seen (less an overlap) published; returns how many."""
        events = sorted(await self._failed_logins(self.since_ms), key=lambda e: int(e["time"]))
        records = [r for r in [await self.record_of(e) for e in events] if r.record_id not in self._sent]
        if not records:
            return 0
        await self.producer.publish_many(
            [registry.envelope(r, producer=PRODUCER, event_id=r.record_id, occurred_at=r.at)
             for r in records], topic=self.settings.kafka.topic(topics.CRM_AUDIT))
        newest = int(events[-1]["time"])
        self.since_ms = max(self.since_ms, newest - OVERLAP_MS)
        self._sent.update({r.record_id: int(r.at.timestamp() * 1000) for r in records})
        self._sent = {k: t for k, t in self._sent.items() if t >= self.since_ms}  # what the next poll reads again
        log.info("keycloak_failed_logins_collected", records=len(records), newest_ms=newest)
        return len(records)

    async def run(self) -> None:
        started, answered = time.monotonic(), False
        with self.health:
            try:
                while not self._stop.is_set():
                    try:
                        await self.collect_once()
                        self.health.progressed()
                        answered = True
                    except Exception as exc:  # noqa: BLE001 - Keycloak or the broker away: the next poll retries
                        if not answered and time.monotonic() - started < self.settings.keycloak_startup_grace_s:
                            # a provider starting beside us (make run): not a stall yet
                            log.warning("keycloak_not_answering_yet", error=type(exc).__name__)
                        else:
                            self.health.failed(Stuck("keycloak-sign-ins"), exc)
                    try:
                        await asyncio.wait_for(self._stop.wait(), timeout=self.settings.keycloak_poll_s)
                    except TimeoutError:
                        pass
            finally:
                await self.http.aclose()

    async def stop(self) -> None:
        self._stop.set()
