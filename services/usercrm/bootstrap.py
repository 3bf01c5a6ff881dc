"""Wiring, and only wiring: `bootstrap(settings) -> Container` (`container.py`). Nothing connects at import
time; tests pass their own settings."""

from __future__ import annotations

from shared.runtime.commands import guard_outgoing_at
from shared.runtime.db import make_engine, session_factory
from shared.runtime.eventstore import build_application
from shared.runtime.projection import ProjectionRunner

from .application import UsercrmApplication
from .container import PROJECTION_NAME, SERVICE, Container
from .outbox import UsercrmOutboxMapper
from .projections import tables as t
from .projections.requests import RequestProjection
from .settings import UsercrmSettings

__all__ = ["Container", "bootstrap"]


def bootstrap(settings: UsercrmSettings | None = None, *, migrate: bool = True) -> Container:
    settings = settings or UsercrmSettings()
    app = build_application(UsercrmApplication, settings.eventstore_url)
    app.rules = settings.approval_rules()
    guard_outgoing_at(app, UsercrmOutboxMapper, service=SERVICE)
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    projection = ProjectionRunner(app, sessions, t.projection_position, RequestProjection(), name=PROJECTION_NAME,
                                  service=SERVICE)
    container = Container(settings=settings, app=app, engine=engine, sessions=sessions, projection=projection)
    if migrate:
        container.migrate()
    return container
