"""Wiring, and only wiring: `bootstrap(settings) -> Container` (`container.py`). Nothing connects here; the
event store is opened on first use."""

from __future__ import annotations

from shared.runtime.db import make_engine, session_factory

from .container import Container
from .settings import SummarySettings


def bootstrap(settings: SummarySettings | None = None) -> Container:
    settings = settings or SummarySettings()
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "postgresql":
        # batch executemany INSERTs (also ON CONFLICT ones) into multi-row VALUES pages: one round trip per
        # page instead of one statement per row (psycopg 3 defaults to per-row pipelining without RETURNING)
        engine.dialect.use_insertmanyvalues_wo_returning = True
    return Container(settings=settings, engine=engine, sessions=session_factory(engine))
