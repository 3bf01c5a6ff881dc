"""Wiring, and only wiring: `bootstrap(settings) -> Container` (`container.py`): the service's one database
holds the event store and the read models; the request rows are folded in the events' transactions
(`app.read_model`). Nothing connects at import time; tests pass their own settings."""

from __future__ import annotations

from shared.runtime.commands import guard_outgoing_at
from shared.runtime.db import make_engine, session_factory
from shared.runtime.eventstore import build_application

from .application import UsercrmApplication
from .container import SERVICE, Container
from .outbox import UsercrmOutboxMapper
from .projections import tables as t
from .projections.requests import RequestProjection
from .settings import UsercrmSettings

__all__ = ["Container", "bootstrap"]


def bootstrap(settings: UsercrmSettings | None = None, *, migrate: bool = True) -> Container:
    settings = settings or UsercrmSettings()
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    if migrate:  # the read-model tables first: the application's first recording may write them
        t.metadata.create_all(engine)
    app = build_application(UsercrmApplication, settings.database_url)
    app.rules = settings.approval_rules()
    guard_outgoing_at(app, UsercrmOutboxMapper, service=SERVICE)
    app.read_model = RequestProjection()  # request rows written in the transaction that stores the events
    container = Container(settings=settings, app=app, engine=engine, sessions=sessions)
    if migrate:
        container.migrate()
    return container
