"""Wiring, and only wiring: `bootstrap(settings) -> Container` (`container.py`): the service's one database
holds the event store and the read model, whose rows are folded in the events' transactions
(`app.read_model`). Nothing connects here; tests pass their own settings."""

from __future__ import annotations

from shared.runtime.commands import guard_outgoing_at
from shared.runtime.db import make_engine, session_factory
from shared.runtime.eventstore import build_application

from .application import AccessApplication
from .container import Container
from .outbox import AccessOutboxMapper
from .projections.fold import AccessProjection
from .projections.queries import node_in_use
from .projections.tables import metadata
from .settings import AccessSettings


def bootstrap(settings: AccessSettings | None = None, *, migrate: bool = True) -> Container:
    settings = settings or AccessSettings()
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    if migrate:  # the read-model tables first: the application's first recording writes them
        metadata.create_all(engine)
    app = build_application(AccessApplication, settings.database_url)
    guard_outgoing_at(app, AccessOutboxMapper, service="access")
    app.read_model = AccessProjection()  # rows written in the transaction that stores the events
    app.node_in_use = lambda node_id: node_in_use(sessions, node_id)
    container = Container(settings=settings, app=app, engine=engine, sessions=sessions)
    if migrate:
        container.migrate()
    return container
