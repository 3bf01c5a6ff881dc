"""Wiring, and only wiring: settings → the service's one database (event store + read models, the read-model
fold run in the events' transactions), consumers, outbox relay, API, in `bootstrap(settings) -> Container`
(`container.py`). Nothing connects here; tests pass their own settings.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from psycopg.types.json import set_json_loads
from sqlalchemy import Engine, create_engine, event

from shared.runtime.async_reader import AsyncReader, conninfo_of
from shared.runtime.commands import guard_outgoing
from shared.runtime.db import make_engine, normalise_url, session_factory
from shared.runtime.eventstore import build_application

from .application import CustomerApplication, IngestCache
from .container import SERVICE, Container
from .domain.customer import Customer
from .domain.matching import MatchKeyer
from .matching import Matcher
from .outbox import CustomerOutboxMapper
from .projections.customer_view import make_apply
from .projections.tables import build_tables
from .settings import CustomerSettings

READ_OPTIONS = "-c plan_cache_mode=force_custom_plan -c TimeZone=UTC"  # the reader's session settings (see read_engine)


def read_engine(url: str, engine: Engine) -> Engine:
    """The API's read-only engine. On PostgreSQL: autocommit (no BEGIN/ROLLBACK round trips around each
    query) and no pre-ping (no extra SELECT 1 per checkout); a read that meets a dropped connection is
    retried once by `api.deps.read`, which is safe because reads are idempotent. Every statement planned for its
    own parameters (`plan_cache_mode=force_custom_plan`): psycopg prepares a statement from its 5th run, and
    PostgreSQL's generic plan of a list filtered by ranges (ADA band and age) took 0.5-2.2 s against 2-8 ms
    planned with the values, at 1,000,000 customers (the detail's and the 360's lookups by customer id are the
    exception: `api.deps.fetch_all(plan_once=True)` runs them on their generic plans). Session time zone `UTC`
    (the server's default is `Etc/UTC`, the same instant): psycopg then gives `datetime.timezone.utc` values
    instead of `ZoneInfo('Etc/UTC')` ones, which load and convert faster (the list's 6 times per row). A
    connection is kept an hour (`pool_recycle`): a new backend plans the 360's prepared lookups again (9-24 ms at
    1,000,000 customers), which every 5 minutes per pooled connection showed as periodic p99 spikes. SQLite:
    the main engine."""
    if engine.dialect.name != "postgresql":
        return engine
    reader = create_engine(normalise_url(url), pool_size=10, max_overflow=10, pool_pre_ping=False,
                           pool_recycle=3600, isolation_level="AUTOCOMMIT",
                           connect_args={"options": READ_OPTIONS})

    @event.listens_for(reader, "connect")
    def _json_loads(dbapi_connection: Any, _record: Any) -> None:
        set_json_loads(_loads, dbapi_connection)

    return reader


def async_reader(reader: Engine) -> AsyncReader | None:
    """The list's reads awaited on the event loop (PostgreSQL; `shared.runtime.async_reader`), on connections
    set up as the sync reader's: the same session settings, autocommit, the same JSON loader, as many."""
    if reader.dialect.name != "postgresql":
        return None
    return AsyncReader(conninfo_of(reader.url), options=READ_OPTIONS, size=reader.pool.size(),  # type: ignore[attr-defined]
                       configure=lambda conn: set_json_loads(_loads, conn))


_LONG_DIGITS = re.compile(rb"\d{19}")  # a number orjson might not keep exact (beyond 64 bits: a float)


def _loads(data: Any) -> Any:
    """JSON column values, parsed by orjson straight from the driver's buffer (a fifth of the time of `json`,
    which was a tenth of a list call's CPU). What orjson refuses and `json` takes (a lone surrogate's escape),
    and a value with a run of 19 digits or more (orjson turns an integer beyond 64 bits into a float), is
    parsed by `json`, as before."""
    if _LONG_DIGITS.search(data) is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(bytes(data).decode())


def bootstrap(settings: CustomerSettings | None = None, *, migrate: bool = True) -> Container:
    settings = settings or CustomerSettings()
    tables = build_tables()
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    if migrate:  # the read-model tables first: the application's first recording may write them
        tables.metadata.create_all(engine)
    app = build_application(CustomerApplication, settings.database_url)
    guard_outgoing(app, CustomerOutboxMapper(settings.brokerage.phone_hash_key.get_secret_value()), service=SERVICE)
    app.snapshotting_intervals = {Customer: settings.snapshot_interval}  # type: ignore[misc]
    keyer = MatchKeyer(settings.match_secret())
    app.read_model = make_apply(tables, settings.brokerage.tz, keyer)  # rows written in the events' transaction
    reader = read_engine(settings.database_url, engine)
    read_sessions = session_factory(reader)
    container = Container(settings, tables, engine, sessions, app, IngestCache(settings.aggregate_cache_size),
                          read_sessions, Matcher(sessions, tables, keyer), async_reader=async_reader(reader))
    if migrate:
        container.migrate()
    return container
