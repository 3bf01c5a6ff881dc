"""A stall is loud (issue 14): a projection or an outbox relay that cannot get past one of its own stored
events marks the process not ready (/readyz 503), raises the age and backlog metrics and logs ONE ERROR
naming the event, however many times it retries; getting past the event clears it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy import MetaData
from structlog.testing import capture_logs

from ops.status import worker_status
from shared.runtime.api import create_app
from shared.runtime.db import make_engine, session_factory
from shared.runtime.eventstore import build_application, deterministic_event_id
from shared.runtime.kafka import EventProducer
from shared.runtime.outbox import OutboxRelay
from shared.runtime.projection import ProjectionRunner, projection_position_table
from shared.runtime.settings import AuthSettings, KafkaSettings
from tests.integration.test_runtime_outbox import Team, TeamApp, mapper
from tests.unit.test_runtime_relay import fake_producer

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret=SecretStr("stall-test-secret-stall-test-secret-0123"))


def gauge(name: str, service: str, component: str) -> float:
    return REGISTRY.get_sample_value(name, {"service": service, "component": component}) or 0.0


def worker() -> httpx.AsyncClient:
    """A client of a worker's health app (the one each service's worker serves)."""
    app = create_app(service="stall-worker", auth=AUTH)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://w")


async def ready() -> int:
    async with worker() as c:
        return (await c.get("/readyz")).status_code


@pytest.fixture()
def store(tmp_path):
    app = build_application(TeamApp, f"sqlite:///{tmp_path / 'events.db'}")
    yield app
    app.close()


def stall_errors(logs: list[dict]) -> list[dict]:
    return [e for e in logs if e["log_level"] == "error"]


async def test_a_projection_stuck_on_one_event_is_loud_once_and_recovers(store, tmp_path, poll):
    engine = make_engine(f"sqlite:///{tmp_path / 'rm.db'}")
    metadata = MetaData()
    positions = projection_position_table(metadata)
    metadata.create_all(engine)
    applied: list[str] = []
    broken = {"on": True}

    def apply(session, events) -> None:
        names = [e.name for e in events]
        if "poison" in names and broken["on"]:
            raise ValueError("cannot apply")
        applied.extend(names)  # as the batch's transaction commits

    runner = ProjectionRunner(store, session_factory(engine), positions, apply, name="stall_view",
                              service="stalltest", batch_size=50, interval_s=0.02)
    store.save(Team(name="a"), Team(name="b"))
    poison = Team(name="poison")
    store.save(poison, Team(name="after"))
    component = "projection:stall_view"
    with capture_logs() as logs:
        task = asyncio.create_task(runner.run())
        try:
            await poll(lambda: runner.health.stalled, timeout=20, message="stall declared")
            assert applied == ["a", "b"]  # everything before the event, nothing after it
            assert await ready() == 503
            assert gauge("whale_component_stalled", "stalltest", component) == 1
            assert gauge("whale_component_backlog", "stalltest", component) == 2
            assert gauge("whale_component_oldest_unprocessed_age_seconds", "stalltest", component) > 0
            async with worker() as c:  # what `python -m ops status` shows
                head, rows = await worker_status(c, "stalltest", "http://w")
            assert head["state"] == "not_ready" and "components" in head["failing_checks"]
            row = next(r for r in rows if r.service == "stalltest")
            assert (row.component, row.state, row.backlog, row.position) == (component, "stalled", 2, 2)
            await poll(lambda: runner.health.failures >= 5, timeout=20, message="more retries")
            errors = stall_errors(logs)
            assert len(errors) == 1  # one ERROR, not one per retry
            assert errors[0]["event"] == "component_stalled"
            assert errors[0]["event_id"] == str(deterministic_event_id(poison.id, 1))
            assert errors[0]["notification_id"] == 3 and errors[0]["component"] == component

            broken["on"] = False  # e.g. a fixed release: the next retry gets past it
            await poll(lambda: applied[-2:] == ["poison", "after"], timeout=30, message="recovered")
            assert await ready() == 200
            assert gauge("whale_component_stalled", "stalltest", component) == 0
            assert gauge("whale_component_oldest_unprocessed_age_seconds", "stalltest", component) == 0
        finally:
            await runner.stop()
            await asyncio.wait_for(task, timeout=10)
            engine.dispose()
    assert len(stall_errors(logs)) == 1
    assert await ready() == 200  # a stopped component no longer counts


async def test_a_relay_that_cannot_map_one_event_is_loud_once(store, poll):
    def strict(domain_event):
        if domain_event.name == "poison":
            raise ValueError("not a valid contract")
        return mapper(domain_event)

    relay = OutboxRelay(store, EventProducer(KafkaSettings(topic_prefix="stall."), client_id="x"), strict,
                        service="stallrelay", interval_s=0.02)
    relay.producer, log = fake_producer([], transactional=True)
    store.save(Team(name="a"))
    poison = Team(name="poison")
    store.save(poison, Team(name="after"))
    with capture_logs() as logs:
        task = asyncio.create_task(relay.run())
        try:
            await poll(lambda: relay.health.stalled, timeout=20, message="stall declared")
            assert relay.position() == 1 and len(log) == 1
            assert await ready() == 503
            assert gauge("whale_component_backlog", "stallrelay", "outbox:stallrelay") == 2
            assert gauge("whale_component_oldest_unprocessed_age_seconds", "stallrelay", "outbox:stallrelay") > 0
            await poll(lambda: relay.health.failures >= 4, timeout=20, message="more retries")
            errors = stall_errors(logs)
            assert len(errors) == 1 and errors[0]["event_id"] == str(deterministic_event_id(poison.id, 1))
        finally:
            await relay.stop()
            await asyncio.wait_for(task, timeout=10)
    assert await ready() == 200
