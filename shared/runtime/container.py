"""The shared body of an event-sourced service's composition root (`ServiceContainer` in `service.py`).

A service whose commands are stored in its own event store and published by an outbox relay has the same
producer, relay, wake-up, start, stop and readiness everywhere; its container (a dataclass with `settings`,
`app`, `engine` and `projection`) subclasses `OutboxContainer` and supplies only what differs: `SERVICE`,
`outbox_mapper()`, `topics()`, `worker_components()` and `create_api()`. A service whose read model is
folded in the events' transactions (`app.read_model`, one database) has no projection (`projection = None`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, ClassVar

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .access_directory import AccessDirectory, directory_for
from .kafka import BatchConsumer, EventProducer, ensure_topics
from .outbox import OutboxRelay
from .projection import ProjectionRunner
from .service import Check, Component, store_checks


class AccessDirectoryWiring:
    """The access directory of a service's container (`shared.runtime.access_directory`): none when
    `<NAME>_ACCESS_DIRECTORY=off`. Needs `SERVICE`, `settings`, `engine` and `sessions` (the service's one
    database)."""

    SERVICE: ClassVar[str]
    settings: Any
    engine: Engine
    sessions: sessionmaker[Session]

    @cached_property
    def access_directory(self) -> AccessDirectory | None:
        return directory_for(self.SERVICE, self.settings, self.engine, self.sessions)

    def migrate_directory(self) -> None:
        if self.access_directory is not None:
            self.access_directory.migrate()

    def directory_topics(self) -> list[str]:
        """crm.access.events when the directory consumes it (created when missing, like the other topics)."""
        d = self.access_directory
        return [d.topic] if d is not None and d.consumes else []

    def directory_components(self, producer: EventProducer) -> list[BatchConsumer]:
        """The directory's consumer (dead letters through `producer`), once per container."""
        d = self.access_directory
        if d is None or not d.consumes:
            return []
        if "_directory_consumer" not in self.__dict__:
            self.__dict__["_directory_consumer"] = d.consumer(producer)
        return [self.__dict__["_directory_consumer"]]


class OutboxContainer(AccessDirectoryWiring):
    SERVICE: ClassVar[str]
    # Project what is stored before the worker's components start (the worker's health server answers only
    # after it: keep it off where the store can be large enough to outlast the startup probe).
    CATCH_UP_FIRST: ClassVar[bool] = True
    settings: Any
    app: Any  # a TrackingApplication
    engine: Engine
    projection: ProjectionRunner | None

    # ------------------------------------------------------------------------ what each service supplies
    def outbox_mapper(self) -> Callable[[Any], Sequence[Any]]:
        """Stored domain event -> the contract events the relay publishes."""
        raise NotImplementedError

    def topics(self) -> list[str]:
        """Every topic the worker reads or writes (created when missing, in development and tests)."""
        raise NotImplementedError

    def worker_components(self) -> list[Any]:
        raise NotImplementedError

    def create_api(self) -> FastAPI:
        raise NotImplementedError

    # ------------------------------------------------------------------------------------ the same body
    @cached_property
    def api(self) -> FastAPI:
        return self.create_api()

    @cached_property
    def producer(self) -> EventProducer:
        return EventProducer(self.settings.kafka, client_id=self.SERVICE)

    @cached_property
    def relay(self) -> OutboxRelay:
        return OutboxRelay(self.app, self.producer, self.outbox_mapper(), service=self.SERVICE,
                           batch_size=self.settings.relay_batch_size,
                           interval_s=self.settings.relay_interval_ms / 1000)

    def wake(self) -> None:
        """New events were stored: let the projection and the relay (if this process runs one) pick them up."""
        if self.projection is not None:
            self.projection.wake()
        if "relay" in self.__dict__:
            self.relay.wake()

    async def ensure_topics(self) -> None:
        await ensure_topics(self.settings.kafka, [*self.topics(), *self.directory_topics()])

    async def start_producer(self) -> None:
        await self.producer.start()

    async def start(self, *, worker: bool) -> list[Component]:
        if not worker:
            return []
        await self.ensure_topics()
        await self.start_producer()
        if self.CATCH_UP_FIRST and self.projection is not None:
            await asyncio.to_thread(self.projection.catch_up)
        return [*self.worker_components(), *self.directory_components(self.producer)]

    async def stop(self) -> None:
        if "producer" in self.__dict__:
            await self.producer.stop()
        await asyncio.to_thread(self.engine.dispose)
        await asyncio.to_thread(self.app.close)

    def readiness(self, *, worker: bool = False) -> list[Check]:
        return store_checks(self.engine, self.app, self.settings.kafka)
