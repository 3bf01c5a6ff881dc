"""FastAPI app factory: problem+json errors, correlation ids, /healthz, /readyz, /metrics, auth wiring."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from http import HTTPStatus
from typing import Any, TypeVar

import orjson
import psycopg
import sqlalchemy.exc as sa_exc
from eventsourcing.persistence import RecordConflictError
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import health
from .access_directory import AccessDirectory
from .audit import AuditEmitter
from .auth import TokenVerifier
from .commands import OutgoingRejected
from .errors import DomainError, is_transient
from .http_guard import RequestGuard
from .idempotency import IdempotencyMiddleware, IdempotencyStore
from .logging import bind_contextvars, clear_contextvars, get_logger
from .metrics import HTTP_LATENCY
from .openapi_problems import document_problems
from .settings import AuthSettings

PROBLEM = "application/problem+json"
log = get_logger("api")

ReadinessCheck = Callable[[], Awaitable[None]]


class Problem(Exception):
    """Raise from handlers for a problem+json answer with a stable `type`."""

    def __init__(self, status: int, title: str, detail: str | None = None, *, type_: str = "about:blank",
                 **extra: Any):
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.type, self.extra = status, title, detail, type_, extra


def validation_problem(field: str, message: str) -> Problem:
    """A 422 problem+json naming the invalid `field` (e.g. `query.filename`, `body.name`)."""
    return Problem(422, "Unprocessable Entity", f"{field}: {message}", type_="urn:whale-crm:problem:validation",
                   errors=[{"field": field, "message": message}])


def domain_problem(exc: DomainError, type_base: str) -> Problem:
    """A domain error as problem+json: its `status`, `type` `<type_base><code>`; a 422 names its field."""
    if exc.status == 422:
        return validation_problem(exc.context.get("field", "body"), exc.message)
    return Problem(exc.status, HTTPStatus(exc.status).phrase, exc.message, type_=f"{type_base}{exc.code}")


def conflict_problem(type_base: str, what: str | None = None) -> Problem:
    """A command that lost its optimistic-concurrency retries (`commands.save_retrying`): 409
    `<type_base>concurrent_change` — the caller reloads and decides again."""
    return Problem(409, "Conflict", f"{f'the {what} ' if what else ''}changed concurrently; reload and retry",
                   type_=f"{type_base}concurrent_change")


T = TypeVar("T")


async def run_command(call: Callable[[], T], type_base: str, *, what: str | None = None,
                      problem: Callable[[Exception], Problem | None] | None = None) -> T:
    """Run a synchronous application command in a worker thread; its refusal as problem+json: first what
    `problem(exc)` maps (a service's not-found), else a domain error (`domain_problem`) or a lost concurrent
    write (`conflict_problem`). Anything else propagates (503 when a database is unavailable, else 500)."""
    try:
        return await asyncio.to_thread(call)
    except Exception as exc:
        mapped = problem(exc) if problem is not None else None
        if mapped is None and isinstance(exc, DomainError):
            mapped = domain_problem(exc, type_base)
        if mapped is None and isinstance(exc, RecordConflictError):
            mapped = conflict_problem(type_base, what)
        if mapped is None:
            raise
        raise mapped from None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # as pydantic writes a Decimal in JSON
    raise TypeError(f"{type(value).__name__} is not a JSON type")


def json_response(content: Any, status_code: int = 200) -> Response:
    """A JSON answer serialised by orjson, for a hot route whose body is plain JSON types already (a Decimal
    is written as its string): FastAPI's serialisation of a `dict[str, Any]` return through pydantic was ~5%
    of the customer list's CPU. The route keeps its return annotation, which the OpenAPI documents."""
    return Response(orjson.dumps(content, default=_json_default), status_code=status_code,
                    media_type="application/json")


def problem_response(status: int, title: str, detail: Any = None, *, type_: str = "about:blank",
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def unavailable(exc: BaseException) -> bool:
    """The database / event store is unreachable right now (answered 503, not 500): the errors the
    consumers retry (`shared.runtime.errors.is_transient`) and a closed connection or exhausted pool."""
    return is_transient(exc) or isinstance(exc, _CLOSED)


_CLOSED = (sa_exc.InterfaceError, sa_exc.TimeoutError, psycopg.InterfaceError)
RETRY_AFTER_S = 5
# Correlation ids travel into stored events and logs: bounded, and only characters that cannot forge a log.
CORRELATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
CORRELATION_HEADERS = ("x-correlation-id", "x-request-id")


def unavailable_response(exc: BaseException, correlation_id: str | None = None) -> JSONResponse:
    log.warning("request_unavailable", error=type(exc).__name__)
    extra = {"correlation_id": correlation_id} if correlation_id else {}
    return problem_response(503, "Service Unavailable", "a database is unavailable; retry later",
                            headers={"Retry-After": str(RETRY_AFTER_S)}, **extra)


def correlation_id_of(request: Request) -> str:
    """The caller's correlation id (X-Correlation-ID, else X-Request-ID) or a new one; a malformed one
    raises a 400 Problem (it would otherwise be copied into events and logs)."""
    for name in CORRELATION_HEADERS:
        value = request.headers.get(name)
        if value is None:
            continue
        if not CORRELATION_ID.fullmatch(value):
            raise Problem(400, "Bad Request", f"{name}: 1-128 characters of A-Z a-z 0-9 . _ : -",
                          type_="urn:whale-crm:problem:validation",
                          errors=[{"field": f"header.{name}", "message": "1-128 characters of A-Z a-z 0-9 . _ : -"}])
        return value
    return str(uuid.uuid4())


class CorrelationMiddleware:
    """Every HTTP request: the correlation id (X-Correlation-ID, else X-Request-ID, else a new one; a malformed
    one is a 400 problem+json) bound to the logs and `request.state.correlation_id` and echoed as
    `x-correlation-id`; an unhandled error as 503 (database unavailable) or 500 problem+json; the latency
    metric and the audit record once the status is known. Plain ASGI, not `@app.middleware("http")`: Starlette's
    BaseHTTPMiddleware ran the app in a task of its own with memory streams for every request (~10% of a list
    call's CPU)."""

    def __init__(self, app: ASGIApp, *, service: str, audit: AuditEmitter | None = None) -> None:
        self.app, self.service, self.audit = app, service, audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        service = self.service
        clear_contextvars()
        request = Request(scope, receive)
        try:
            cid = correlation_id_of(request)
        except Problem as exc:
            bind_contextvars(service=service)
            await problem_response(exc.status, exc.title, exc.detail, type_=exc.type, **exc.extra)(
                scope, receive, send)
            return
        request.state.correlation_id = cid
        bind_contextvars(service=service, correlation_id=cid)
        start = time.perf_counter()
        status = 500
        started = False
        header = (b"x-correlation-id", cid.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"x-correlation-id"]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            async with self.audit.writing(request, cid) if self.audit is not None else contextlib.nullcontext():
                await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if started:  # (the answer is under way: nothing else can be sent)
                self._observe(request, status, start, cid)
                raise
            if unavailable(exc):
                response, status = unavailable_response(exc, cid), 503
            else:
                log.exception("request_failed", method=request.method, path=request.url.path)
                response = problem_response(500, "Internal Server Error",
                                            "unexpected error; see logs by correlation id", correlation_id=cid)
            await response(scope, receive, send_with_id)
        self._observe(request, status, start, cid)

    def _observe(self, request: Request, status: int, start: float, cid: str) -> None:
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        HTTP_LATENCY.labels(self.service, request.method, template, str(status)).observe(time.perf_counter() - start)
        if self.audit is not None and route is not None:
            self.audit.observe(request, route=template, status=status, correlation_id=cid)


_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Entity",
           429: "Too Many Requests", 503: "Service Unavailable"}


def create_app(
    *,
    service: str,
    auth: AuthSettings,
    readiness: Sequence[ReadinessCheck] = (),
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    title: str | None = None,
    version: str = "0.1.0",
    max_body_bytes: int = 1_048_576,
    max_header_bytes: int = 16_384,
    idempotency: IdempotencyStore | None = None,
    access_directory: AccessDirectory | None = None,
    streamed_bodies: dict[str, int] | None = None,
    audit: AuditEmitter | None = None,
) -> FastAPI:
    """`idempotency`: the service's key store; POST commands then honour `Idempotency-Key`. `access_directory`:
    the rights come from it, not from the token's claims (`shared.runtime.auth.current_principal`), and the
    API is ready once it has read the access topic to its end. `streamed_bodies`: paths whose route reads its
    body as a stream (uploads), with their own size limit. `audit`: the service's audit emitter
    (`shared.runtime.audit.audit_emitter`): every write, refusal and marked read is published as an audit
    record once its status is known; stopped with the app."""
    app = FastAPI(title=title or f"Whale CRM — {service}", version=version,
                  lifespan=_with_audit(lifespan, audit) if audit is not None else lifespan)
    app.state.token_verifier = TokenVerifier(auth)
    app.state.service = service
    app.state.audit = audit
    if access_directory is not None:
        app.state.access_directory = access_directory
        readiness = (*readiness, access_directory.ready)

    app.add_middleware(CorrelationMiddleware, service=service, audit=audit)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, type_=exc.type, **exc.extra)

    @app.exception_handler(OutgoingRejected)
    async def _unpublishable(request: Request, exc: OutgoingRejected) -> JSONResponse:
        message = f"{exc.message} (in the {exc.event_type or 'published'} event)"
        return problem_response(422, "Unprocessable Entity", f"{exc.field}: {message}",
                                type_="urn:whale-crm:problem:validation",
                                errors=[{"field": exc.field, "message": message}])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, _TITLES.get(exc.status_code, "Error"), exc.detail,
                                headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("body",)) or "body",
             "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        return problem_response(422, "Unprocessable Entity", f"{first['field']}: {first['message']}",
                                type_="urn:whale-crm:problem:validation", errors=errors)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Any:
        failures = {}
        # a stalled relay, projection or consumer of this process (a worker, or `all`) makes it not ready
        for check in (*readiness, health.components):
            try:
                await check()
            except Exception as exc:  # noqa: BLE001 - readiness reports any failure
                failures[getattr(check, "__name__", "check")] = type(exc).__name__
        if failures:
            return problem_response(503, "Service Unavailable", "not ready", checks=failures)
        return {"status": "ready"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    if idempotency is not None:
        app.add_middleware(IdempotencyMiddleware, store=idempotency, verifier=app.state.token_verifier)
    app.add_middleware(RequestGuard, max_body_bytes=max_body_bytes, max_header_bytes=max_header_bytes,
                       streamed_bodies=streamed_bodies)
    document_problems(app, idempotent_posts=idempotency is not None)
    return app


def _with_audit(lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None,
                audit: AuditEmitter) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan, then the audit emitter's stop (what is queued is published or spooled)."""

    @asynccontextmanager
    async def lifespan_with_audit(app: FastAPI) -> AsyncIterator[None]:
        try:
            if lifespan is None:
                yield
            else:
                async with lifespan(app):
                    yield
        finally:
            await audit.stop()

    return lifespan_with_audit


def not_found(what: str, ident: str) -> HTTPException:
    return HTTPException(404, detail=f"{what} {ident!r} not found")
