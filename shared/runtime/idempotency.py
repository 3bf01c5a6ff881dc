"""Idempotency-Key on POST commands: a retried request creates nothing twice.

A POST carrying `Idempotency-Key` (1-200 characters of A-Z a-z 0-9 . _ : -) is remembered per caller
(the token's subject) in the service's own database, table `idempotency_key`, for the retention
(`<NAME>_IDEMPOTENCY_RETENTION_HOURS`, 24 h by default):
- the first request runs; a 2xx answer is stored with a hash of the request (method, path, query, body);
  any other answer is forgotten, so the client may retry;
- a retry with the same key and the same request gets the stored answer (`Idempotent-Replayed: true`),
  nothing runs again;
- the same key with a different request is a 422; while the first request is still running, a 409;
- a first request that never finished (its process was killed mid-request) holds the key for
  `stale_after` (5 minutes) at most: then a retry of the same request runs again instead of a 409 until
  the retention ends.
Requests without the header, or without a valid bearer token (the route answers 401), pass through.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Engine, Integer, LargeBinary, MetaData, String, Table, delete, select
from sqlalchemy.exc import IntegrityError

from .http_guard import buffer_body, send_problem
from .logging import get_logger

log = get_logger("idempotency")

HEADER = "idempotency-key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")
_metadata = MetaData()
idempotency_key = Table(
    "idempotency_key", _metadata,
    Column("principal", String(200), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=True, doc="NULL while the first request runs"),
    Column("content_type", String(200), nullable=True),
    Column("body", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)


class IdempotencyStore:
    def __init__(self, engine: Engine, *, retention_hours: int = 24, purge_every: int = 500,
                 stale_after: timedelta = timedelta(minutes=5)):
        self.engine, self.retention, self.stale_after = engine, timedelta(hours=retention_hours), stale_after
        self._created = False
        self._lock = threading.Lock()
        self._purge_every, self._inserts = purge_every, 0

    def _table(self) -> None:
        if not self._created:
            with self._lock:
                if not self._created:
                    _metadata.create_all(self.engine, checkfirst=True)
                    self._created = True

    def claim(self, principal: str, key: str, request_hash: str) -> dict[str, Any] | None:
        """None when this request may run (the key is now held by it); else the stored row."""
        self._table()
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            row = conn.execute(select(idempotency_key).where(
                idempotency_key.c.principal == principal, idempotency_key.c.key == key)).mappings().first()
            if row is not None and self._abandoned(row, request_hash, now):
                # the same request again, after the first one's process died holding the key: take it over
                # (guarded on the row as read, so one of several concurrent retries wins)
                taken = conn.execute(idempotency_key.update().where(
                    idempotency_key.c.principal == principal, idempotency_key.c.key == key,
                    idempotency_key.c.status.is_(None), idempotency_key.c.created_at == row["created_at"],
                ).values(created_at=now)).rowcount
                if not taken:
                    return {"request_hash": request_hash, "status": None}
                log.warning("idempotency_key_taken_over", held_s=int((now - _aware(row["created_at"])).total_seconds()))
                return None
            if row is not None and _aware(row["created_at"]) >= now - self.retention:
                return dict(row)
            if row is not None:
                conn.execute(delete(idempotency_key).where(idempotency_key.c.principal == principal,
                                                           idempotency_key.c.key == key))
        try:
            with self.engine.begin() as conn:
                conn.execute(idempotency_key.insert().values(principal=principal, key=key,
                                                             request_hash=request_hash, created_at=now))
        except IntegrityError:  # another request with this key got there first
            return {"request_hash": request_hash, "status": None}
        self._inserts += 1
        if self._inserts % self._purge_every == 0:
            self.purge(now)
        return None

    def _abandoned(self, row: Any, request_hash: str, now: datetime) -> bool:
        return (row["status"] is None and row["request_hash"] == request_hash
                and _aware(row["created_at"]) < now - self.stale_after)

    def complete(self, principal: str, key: str, status: int, content_type: str | None, body: bytes) -> None:
        with self.engine.begin() as conn:
            if 200 <= status < 300:
                conn.execute(idempotency_key.update().where(
                    idempotency_key.c.principal == principal, idempotency_key.c.key == key,
                ).values(status=status, content_type=content_type, body=body))
            else:
                conn.execute(delete(idempotency_key).where(idempotency_key.c.principal == principal,
                                                           idempotency_key.c.key == key))

    def purge(self, now: datetime | None = None) -> int:
        """Forget keys older than the retention."""
        self._table()
        cutoff = (now or datetime.now(UTC)) - self.retention
        with self.engine.begin() as conn:
            return conn.execute(delete(idempotency_key).where(idempotency_key.c.created_at < cutoff)).rowcount


def idempotency_store(engine: Engine, settings: Any) -> IdempotencyStore:
    """The store of a service: its read-model database, its retention setting."""
    return IdempotencyStore(engine, retention_hours=settings.idempotency_retention_hours)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class IdempotencyMiddleware:
    def __init__(self, app: Any, *, store: IdempotencyStore, verifier: Any):
        self.app, self.store, self.verifier = app, store, verifier

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", ())}
        raw_key = headers.get(HEADER.encode())
        principal = self._principal(headers.get(b"authorization"))
        if raw_key is None or principal is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not KEY_PATTERN.fullmatch(key):
            await _problem(send, 400, "Bad Request", "idempotency-key: 1-200 characters of A-Z a-z 0-9 . _ : -",
                           field="header.idempotency-key")
            return
        messages, body = await buffer_body(receive) or ([], b"")  # the guard in front bounded its size
        digest = hashlib.sha256(b"\x00".join([scope.get("path", "").encode(), scope.get("query_string", b""),
                                              body])).hexdigest()
        found = await asyncio.to_thread(self.store.claim, principal, key, digest)
        if found is not None:
            await self._answer_retry(send, found, digest)
            return
        captured: dict[str, Any] = {"status": 500, "type": None, "body": []}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["type"] = dict(message.get("headers", ())).get(b"content-type", b"").decode() or None
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        async def replay() -> dict[str, Any]:
            return messages.pop(0) if messages else await receive()

        try:
            await self.app(scope, replay, capture)
        finally:
            await asyncio.to_thread(self.store.complete, principal, key, captured["status"], captured["type"],
                                    b"".join(captured["body"]))

    def _principal(self, authorization: bytes | None) -> str | None:
        if not authorization or not authorization.lower().startswith(b"bearer "):
            return None
        try:
            return self.verifier.verify(authorization[7:].decode("latin-1").strip()).user_id[:200]
        except Exception:  # noqa: BLE001 - an invalid token: the route answers 401
            return None

    async def _answer_retry(self, send: Any, found: dict[str, Any], digest: str) -> None:
        if found["request_hash"] != digest:
            await _problem(send, 422, "Unprocessable Entity",
                           "idempotency-key: already used with a different request", field="header.idempotency-key")
        elif found["status"] is None:
            await _problem(send, 409, "Conflict", "idempotency-key: the first request with this key is still running",
                           field="header.idempotency-key")
        else:
            body = found["body"] or b""
            await send({"type": "http.response.start", "status": found["status"],
                        "headers": [(b"content-type", (found["content_type"] or "application/json").encode()),
                                    (b"content-length", str(len(body)).encode()),
                                    (b"idempotent-replayed", b"true")]})
            await send({"type": "http.response.body", "body": body})


async def _problem(send: Any, status: int, title: str, detail: str, *, field: str) -> None:
    await send_problem(send, status, title, detail, type_="urn:whale-crm:problem:idempotency",
                       errors=[{"field": field, "message": detail.split(": ", 1)[1]}])
