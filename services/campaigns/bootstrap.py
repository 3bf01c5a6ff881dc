"""Wiring, and only wiring: `bootstrap(settings) -> Container` (`container.py`): the service's one database
holds the event store and the read models; the campaign rows are folded in the events' transactions
(`app.read_model`). Nothing connects here; tests pass their own settings."""

from __future__ import annotations

from shared.runtime.commands import guard_outgoing_at
from shared.runtime.db import make_engine, session_factory
from shared.runtime.eventstore import build_application

from .application import CampaignsApplication
from .container import Container
from .execution import Executor
from .outbox import CampaignOutboxMapper
from .projections.fold import fold
from .projections.tables import metadata
from .settings import CampaignsSettings


def bootstrap(settings: CampaignsSettings | None = None, *, migrate: bool = True) -> Container:
    settings = settings or CampaignsSettings()
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    if migrate:  # the read-model tables first: the application's first recording writes them
        metadata.create_all(engine)
    app = build_application(CampaignsApplication, settings.database_url)
    app.policy = settings.review_policy()
    guard_outgoing_at(app, CampaignOutboxMapper, service="campaigns")
    app.read_model = fold  # rows written in the transaction that stores the events
    container = Container(settings=settings, app=app, engine=engine, sessions=sessions,
                          executor=Executor(app, sessions, outreach_per_tick=settings.outreach_per_tick))
    if migrate:
        container.migrate()
    return container
