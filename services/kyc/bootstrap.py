"""Wiring, and only wiring: `bootstrap(settings) -> Container` (`container.py`): the service's one database
holds the event store and the read model, whose rows are folded in the events' transactions
(`app.read_model`). Nothing connects here; tests pass their own settings."""

from __future__ import annotations

from shared.runtime.commands import guard_outgoing_at
from shared.runtime.db import make_engine, session_factory
from shared.runtime.eventstore import build_application

from .application import KycApplication
from .container import Container
from .outbox import KycOutboxMapper
from .projections.cases import CaseProjection
from .projections.tables import metadata
from .settings import KycSettings


def bootstrap(settings: KycSettings | None = None, *, migrate: bool = True) -> Container:
    settings = settings or KycSettings()
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    if migrate:  # the read-model tables first: the application's first recording may write them
        metadata.create_all(engine)
    app = build_application(KycApplication, settings.database_url, **settings.eventstore_env())
    app.rules = settings.rules()
    guard_outgoing_at(app, KycOutboxMapper, service="kyc")
    app.read_model = CaseProjection()  # rows written in the transaction that stores the events
    container = Container(settings=settings, app=app, engine=engine, sessions=sessions)
    if migrate:
        container.migrate()
    return container
