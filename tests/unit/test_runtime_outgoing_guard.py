"""Issue 14, "nothing is stored that cannot be applied and published": every service that publishes from
its own event store has the outgoing check installed, so each API command and consumer batch builds and
validates the contract events before it commits (behaviour: test_assignment_command_contracts.py,
test_usercrm_api.py::test_a_request_that_could_not_be_published_is_never_stored)."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest

from shared.runtime.settings import ONE_DATABASE_SERVICES, AuthSettings

AUTH = AuthSettings(jwt_secret="outgoing-guard-secret-0123456789")
PUBLISHING = {"customer": "CustomerSettings", "assignment": "AssignmentSettings", "tasks": "TasksSettings",
              "kyc": "KycSettings", "usercrm": "UsercrmSettings", "access": "AccessSettings"}


@pytest.mark.parametrize("service", sorted(PUBLISHING))
def test_every_publishing_service_checks_its_outgoing_events_before_storing(service: str, tmp_path: Path) -> None:
    settings = getattr(importlib.import_module(f"services.{service}.settings"), PUBLISHING[service])
    bootstrap = importlib.import_module(f"services.{service}.bootstrap").bootstrap
    stores = {} if service in ONE_DATABASE_SERVICES else {"eventstore_url": f"sqlite:///{tmp_path}/es.db"}
    c: Any = bootstrap(settings(database_url=f"sqlite:///{tmp_path}/rm.db", auth=AUTH, **stores))
    try:
        assert c.app.outgoing_check is not None, f"{service}: guard_outgoing(_at) is not wired in its bootstrap"
        c.app.check_outgoing([])  # nothing pending, nothing to refuse
    finally:
        asyncio.run(c.stop())


@pytest.mark.parametrize("service", sorted(PUBLISHING))
def test_every_relay_publishes_the_envelopes_its_services_check_built(service: str, tmp_path: Path) -> None:
    """The relay maps with the check's mapper (or one of its class, over the aggregate at a version), so it
    publishes what the check built instead of building every envelope again (`outbox.Checked`)."""
    settings = getattr(importlib.import_module(f"services.{service}.settings"), PUBLISHING[service])
    bootstrap = importlib.import_module(f"services.{service}.bootstrap").bootstrap
    stores = {} if service in ONE_DATABASE_SERVICES else {"eventstore_url": f"sqlite:///{tmp_path}/es.db"}
    c: Any = bootstrap(settings(database_url=f"sqlite:///{tmp_path}/rm.db", auth=AUTH, **stores))
    try:
        if service == "customer":
            c.build_worker()  # its relay is built with the worker
        checked = c.app.outgoing_check([])
        assert checked.built_like(c.relay.mapper, c.relay.producer_name), f"{service}: the relay maps otherwise"
    finally:
        asyncio.run(c.stop())
