"""Building an `eventsourcing` application on SQLite (embedded default) or PostgreSQL (production).

The application's recorder is a *process recorder*: new domain events can be stored atomically with a
`Tracking` record (topic/partition/offset of the Kafka record that caused them), which is how the
Kafka consumers get exactly-once effect, and how the outbox relay and projections remember positions.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from eventsourcing.application import Application
from eventsourcing.persistence import ProcessRecorder

TApp = TypeVar("TApp", bound=Application)  # type: ignore[type-arg]

EVENT_NAMESPACE = uuid.UUID("5b0c7a6e-6b8e-4e57-9f3a-3f1d2b7e9a10")


def eventstore_env(url: str) -> dict[str, str]:
    """eventsourcing environment for `sqlite:///path`, `sqlite:///:memory:` or `postgresql://…`."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ":memory:"
        if path in ("", ":memory:"):
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path, "SQLITE_LOCK_TIMEOUT": "30"}
    if url.startswith("postgres"):
        u = urlparse(url.replace("postgresql+psycopg://", "postgresql://"))
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": u.path.lstrip("/"),
            "POSTGRES_HOST": u.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(u.port or 5432),
            "POSTGRES_USER": unquote(u.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(u.password or ""),
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "5",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_PRE_PING": "y",
        }
        return env
    if url.startswith("memory"):
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    raise ValueError(f"unsupported event store URL scheme: {url.split(':', 1)[0]}")


class TrackingApplication(Application):  # type: ignore[type-arg]
    """An Application whose recorder also stores tracking records (a ProcessRecorder)."""

    def construct_recorder(self) -> ProcessRecorder:  # type: ignore[override]
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        return self.recorder  # type: ignore[return-value]


def build_application(cls: type[TApp], url: str, **extra_env: Any) -> TApp:
    env = eventstore_env(url)
    env.update({k: str(v) for k, v in extra_env.items()})
    return cls(env=env)


def deterministic_event_id(originator_id: object, originator_version: int, index: int = 0) -> uuid.UUID:
    """Stable envelope id for the `index`-th message published for one stored domain event, so a
    re-published outbox event carries the same id and consumers de-duplicate it."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{originator_id}:{originator_version}:{index}")
