"""Wiring, and only wiring: `bootstrap(settings) -> Container`. Nothing connects here; tests pass their own
settings."""

from __future__ import annotations

from shared.runtime.db import make_engine, session_factory

from .container import Container
from .settings import AuditSettings


def bootstrap(settings: AuditSettings | None = None, *, migrate: bool = True) -> Container:
    settings = settings or AuditSettings()
    engine = make_engine(settings.database_url)
    container = Container(settings=settings, engine=engine, sessions=session_factory(engine))
    if migrate:
        container.migrate()
    return container
