"""The User CRM FastAPI app (built by the shared factory: problem+json, correlation ids, health, metrics)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI

from shared.runtime.api import create_app
from shared.runtime.audit import audit_emitter
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.idempotency import idempotency_store

from . import actions, info, management, paging, reports, requests


def create_api(container: Any) -> FastAPI:
    app = create_app(service="usercrm", auth=container.settings.auth, readiness=container.readiness(),
                     title="Whale CRM — User CRM",
                     max_body_bytes=container.settings.max_body_bytes,
                     idempotency=idempotency_store(container.engine, container.settings),
                     access_directory=container.access_directory,
                     audit=audit_emitter("usercrm", container.settings, container.engine))
    app.state.container = container
    paging.configure(container.settings)

    @app.get("/usercrm/message-templates", tags=["actions"], summary="Message templates and their placeholders")
    async def templates(principal: Annotated[Principal, Depends(require(Perm.UserMessageSend))]) -> dict[str, Any]:
        return {"items": [{"template_id": k, **v} for k, v in sorted(container.settings.message_templates.items())]}

    for module in (actions, management, requests, info, reports):
        app.include_router(module.router)
    return app
