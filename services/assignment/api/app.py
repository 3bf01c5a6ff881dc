"""FastAPI app of the assignment service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.runtime.api import create_app, problem_response
from shared.runtime.audit import audit_emitter
from shared.runtime.idempotency import idempotency_store

from ..domain.errors import DomainError
from . import assignments, managers, ops, pool, rules

if TYPE_CHECKING:
    from ..container import Container


def create_api(container: Container) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    app = create_app(service="assignment", auth=container.settings.auth, readiness=container.readiness(),
                     lifespan=lifespan, title="Whale CRM — assignment",
                     max_body_bytes=container.settings.max_body_bytes,
                     idempotency=idempotency_store(container.engine, container.settings),
                     access_directory=container.access_directory,
                     audit=audit_emitter("assignment", container.settings, container.engine))
    app.state.container = container

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        extra: dict[str, Any] = {"code": exc.code}
        if exc.field:
            extra["field"] = exc.field
        title = {403: "Forbidden", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity"}.get(
            exc.status, "Bad Request")
        detail = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return problem_response(exc.status, title, detail, type_=f"urn:whale-crm:problem:{exc.code}", **extra)

    for module in (managers, assignments, rules, pool, ops):
        app.include_router(module.router)
    return app
