"""The summary API (FastAPI), built by `build_api(container)`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from shared.runtime.api import create_app
from shared.runtime.audit import audit_emitter
from shared.runtime.idempotency import idempotency_store

from . import analytics, dashboard, reports, summary

if TYPE_CHECKING:
    from ..container import Container


def build_api(c: Container) -> FastAPI:
    app = create_app(service="summary", auth=c.settings.auth, readiness=c.readiness(),
                     title="Whale CRM — summary", max_body_bytes=c.settings.max_body_bytes,
                     idempotency=idempotency_store(c.engine, c.settings), access_directory=c.access_directory,
                     audit=audit_emitter("summary", c.settings, c.engine))
    app.state.container = c
    for module in (summary, reports, dashboard, analytics):
        app.include_router(module.router)
    return app
