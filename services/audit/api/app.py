"""The audit store's FastAPI app (the shared factory: problem+json, correlation ids, health, metrics)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from shared.runtime.api import create_app
from shared.runtime.audit import audit_emitter

from .routes import router

if TYPE_CHECKING:
    from ..container import Container


def create_api(container: Container) -> FastAPI:
    app = create_app(service="audit", auth=container.settings.auth, readiness=container.readiness(),
                     title="Whale CRM — audit log", max_body_bytes=container.settings.max_body_bytes,
                     access_directory=container.access_directory,
                     audit=audit_emitter("audit", container.settings, container.engine))
    app.state.container = container
    app.include_router(router)
    return app
