"""The campaigns FastAPI app (built by the shared factory: problem+json, correlation ids, health, metrics)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from shared.runtime.api import create_app
from shared.runtime.audit import audit_emitter
from shared.runtime.idempotency import idempotency_store

from .evaluation import router as evaluation_router
from .lists import UPLOAD_PATH
from .lists import router as lists_router
from .routes import router

if TYPE_CHECKING:
    from ..container import Container


def create_api(container: Container) -> FastAPI:
    app = create_app(
        service="campaigns",
        auth=container.settings.auth,
        readiness=container.readiness(),
        title="Whale CRM — Campaigns",
        max_body_bytes=container.settings.max_body_bytes,
        idempotency=idempotency_store(container.engine, container.settings),
        access_directory=container.access_directory,
        streamed_bodies={UPLOAD_PATH: container.settings.list_max_bytes},  # the list upload streams itself
        audit=audit_emitter("campaigns", container.settings, container.engine),
    )
    app.state.container = container
    app.include_router(lists_router)
    app.include_router(evaluation_router)  # first: /campaigns/compare and /reports before /campaigns/{id}
    app.include_router(router)
    return app
