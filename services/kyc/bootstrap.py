"""Wiring, and only wiring: `bootstrap(settings) -> Container` (`container.py`). Nothing connects here;
tests pass their own settings."""

from __future__ import annotations

from shared.runtime.commands import guard_outgoing_at
from shared.runtime.db import make_engine, session_factory
from shared.runtime.eventstore import build_application
from shared.runtime.projection import ProjectionRunner

from .application import KycApplication
from .container import PROJECTION_NAME, Container
from .outbox import KycOutboxMapper
from .projections.cases import CaseProjection
from .projections.tables import projection_position
from .settings import KycSettings


def bootstrap(settings: KycSettings | None = None, *, migrate: bool = True) -> Container:
    settings = settings or KycSettings()
    app = build_application(KycApplication, settings.eventstore_url, **settings.eventstore_env())
    app.rules = settings.rules()
    guard_outgoing_at(app, KycOutboxMapper, service="kyc")
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    projection = ProjectionRunner(
        app, sessions, projection_position, CaseProjection(), name=PROJECTION_NAME, service="kyc"
    )
    container = Container(settings=settings, app=app, engine=engine, sessions=sessions, projection=projection)
    if migrate:
        container.migrate()
    return container
