"""Wiring, and only wiring: `bootstrap(settings, clock=...) -> Container` (`container.py`): the service's one
database holds the event store and the read model, whose rows are folded in the events' transactions
(`app.read_model`). Nothing connects here."""

from __future__ import annotations

from datetime import timedelta

from shared.runtime.commands import guard_outgoing
from shared.runtime.db import make_engine, session_factory
from shared.runtime.eventstore import build_application

from .admin import Admin
from .application import AssignmentApplication
from .assigning import Assigner
from .container import SERVICE, Container
from .domain.clock import Clock, SystemClock
from .outbox import map_event
from .projections import tables as t
from .projections.apply import apply as project
from .projections.queries import Directory
from .routing import Router
from .scheduler import PoolSla, Reclaimer
from .settings import AssignmentSettings


def bootstrap(settings: AssignmentSettings | None = None, *, clock: Clock | None = None,
              migrate: bool = True) -> Container:
    settings = settings or AssignmentSettings()
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    if migrate:  # the read-model tables first: the application's first recording may write them
        t.metadata.create_all(engine)
    app = build_application(AssignmentApplication, settings.database_url)
    guard_outgoing(app, map_event, service=SERVICE)
    app.read_model = project  # rows written in the transaction that stores the events
    directory = Directory(sessions)
    days = settings.default_protection_days
    router = Router(app, clock, default_protection_days=days, default_pool_sla_minutes=settings.pool_sla_minutes)
    container = Container(
        settings=settings, clock=clock, app=app, engine=engine, sessions=sessions, directory=directory,
        admin=Admin(app),
        assigner=Assigner(app, directory, clock, default_protection_days=days, chunk_size=settings.bulk_chunk_size,
                          handover_wait_s=settings.handover_wait_s),
        router=router,
        reclaimer=Reclaimer(app, directory, clock, batch_size=settings.reclaim_batch_size,
                            grace=timedelta(seconds=settings.reclaim_grace_s), router=router,
                            default_policy=settings.reclaim_policy),
        pool_sla=PoolSla(app, directory, clock, batch_size=settings.reclaim_batch_size),
    )
    if migrate:
        container.migrate()
    return container
