"""Wiring, and only wiring: `bootstrap(settings) -> Container` (`container.py`): the service's one database
holds the event store, the read models and the positions; the tasks, follow-ups and tickets rows are folded
in the events' transactions (`app.read_model`). Nothing connects here."""

from __future__ import annotations

from sqlalchemy import Engine, event

from shared.events import topics
from shared.runtime.commands import guard_outgoing
from shared.runtime.db import Tracker, make_engine, session_factory
from shared.runtime.eventstore import build_application
from shared.runtime.kafka import EventProducer
from shared.runtime.logging import get_logger
from shared.runtime.outbox import OutboxRelay
from shared.runtime.pipeline import Pipeline

from .application import TasksApplication
from .captures import CaptureHandler
from .consumers import GROUP, INPUT_TOPICS, EngineHandler, cards_handler
from .container import Container
from .domain.nodes import Policy
from .outbox import to_messages
from .projections import tables
from .projections.readmodel import apply_stored_events, open_campaign_customers
from .settings import TasksSettings

log = get_logger("tasks")


def _async_commit(engine: Engine) -> None:
    """The SQLAlchemy engine's transactions only (the customer cards: each stores its position with its rows,
    every effect is idempotent, so losing the last commits in a PostgreSQL crash only means re-applying
    them). The event store's transactions — the source of truth, the outbox and the rows folded in them —
    keep synchronous commits."""

    @event.listens_for(engine, "connect")
    def _set(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        with dbapi_conn.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
        dbapi_conn.commit()


def bootstrap(settings: TasksSettings | None = None) -> Container:
    settings = settings or TasksSettings()
    kafka = settings.kafka
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "postgresql" and settings.readmodel_async_commit:
        _async_commit(engine)
    sessions = session_factory(engine)
    app = build_application(TasksApplication, settings.database_url)
    guard_outgoing(app, to_messages, service="tasks")
    app.read_model = apply_stored_events  # task, follow-up and ticket rows written in the events' transaction
    app.campaign_customers = open_campaign_customers(sessions)  # type: ignore[method-assign]
    app.policy = Policy(due_hours=dict(settings.due_hours),
                        large_withdrawal_thresholds=dict(settings.large_withdrawal_thresholds))
    producer = EventProducer(kafka, client_id="tasks")
    relay = OutboxRelay(app, producer, to_messages, service="tasks", batch_size=settings.relay_batch_size,
                        interval_s=settings.relay_interval_ms / 1000)
    input_topics = [kafka.topic(t) for t in INPUT_TOPICS]
    handlers = [
        cards_handler(sessions, Tracker(tables.consumer_position, tables.processed_event, f"{GROUP}-cards")),
        EngineHandler(app, f"{GROUP}-engine", input_topics),
        CaptureHandler(app, f"{GROUP}-captures", input_topics, sessions,
                       settings.brokerage.phone_hash_key.get_secret_value()),
    ]

    # the engine and the cards write different tables (their own transactions): in parallel, in the pipeline's
    # own threads. The relay is handed the engine's new events by the recording itself (`on_recordings`).
    pipeline = Pipeline(handlers, producer=producer, dead_letter_topic=kafka.topic(topics.dead_letter_topic("tasks")),
                        service="tasks", group=GROUP, attempts=settings.consumer_retries,
                        threads=16)
    return Container(settings=settings, app=app, engine=engine, sessions=sessions, producer=producer, relay=relay,
                     pipeline=pipeline, input_topics=input_topics)
