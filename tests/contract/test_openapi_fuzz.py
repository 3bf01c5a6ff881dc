"""Schemathesis against every service's OpenAPI, in-process (ASGI), with an admin and a manager token.

Every operation gets a bounded number of generated cases per token, valid (positive) and invalid
(negative) ones, plus the stateful links where the schema has any. Asserted: no server error, every
status code documented, every response body and content type as the schema says.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings
from tests.contract.conftest import FUZZ_COUNTS

AUTH = AuthSettings(jwt_secret="contract-fuzz-secret-0123456789abcdef")
EXAMPLES = int(os.environ.get("WHALE_FUZZ_EXAMPLES", "6"))  # per operation, token and mode
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TRANSITION = re.compile(r"^[A-Z]+_\w*___\d{3}_\w+__[A-Z]+_\w*$")  # a link between two operations


@dataclass
class Tally:
    operations: int = 0
    cases: int = 0
    failures: list[str] = field(default_factory=list)


def _tokens() -> dict[str, str]:
    return {
        "admin": mint_token(AUTH, user_id="u-admin", role="admin"),
        "manager": mint_token(AUTH, user_id="m1", role="manager", team_id="t1"),
    }


# ------------------------------------------------------------------------------------------ services
def _customer(tmp: Any) -> Iterator[Any]:
    from services.customer.bootstrap import bootstrap
    from services.customer.settings import CustomerSettings

    c = bootstrap(CustomerSettings(database_url=f"sqlite:///{tmp}/customer.db",
                                   auth=AUTH))
    yield c.api
    c.engine.dispose()


def _assignment(tmp: Any) -> Iterator[Any]:
    from services.assignment.bootstrap import bootstrap
    from services.assignment.domain.clock import FakeClock
    from services.assignment.settings import AssignmentSettings

    c = bootstrap(AssignmentSettings(database_url=f"sqlite:///{tmp}/rm.db",
                                     auth=AUTH, handover_wait_s=0.0), clock=FakeClock(T0))
    yield c.api
    c.engine.dispose()
    c.app.close()


def _tasks(tmp: Any) -> Iterator[Any]:
    from services.tasks.bootstrap import bootstrap
    from services.tasks.projections.tables import customers
    from services.tasks.settings import TasksSettings

    c = bootstrap(TasksSettings(database_url=f"sqlite:///{tmp}/rm.db", auth=AUTH))
    c.migrate()
    with c.sessions.begin() as s:
        s.execute(customers.insert().values(customer_id="c1", name="Ann Lee", manager_id="m1", team_id="t1",
                                            stage="registered", registered_at=T0))
    yield c.api
    asyncio.run(c.stop())


def _summary(tmp: Any) -> Iterator[Any]:
    from services.summary.bootstrap import bootstrap
    from services.summary.settings import SummarySettings

    c = bootstrap(SummarySettings(database_url=f"sqlite:///{tmp}/rm.db",
                                  auth=AUTH))
    c.migrate()
    yield c.api
    c.dispose()


def _kyc(tmp: Any) -> Iterator[Any]:
    from services.kyc.bootstrap import bootstrap
    from services.kyc.settings import KycSettings

    c = bootstrap(KycSettings(database_url=f"sqlite:///{tmp}/rm.db",
                              auth=AUTH))
    yield c.api
    c.engine.dispose()


def _usercrm(tmp: Any) -> Iterator[Any]:
    from services.usercrm.bootstrap import bootstrap
    from services.usercrm.settings import UsercrmSettings

    c = bootstrap(UsercrmSettings(database_url=f"sqlite:///{tmp}/rm.db",
                                  auth=AUTH))
    yield c.api
    c.engine.dispose()


def _campaigns(tmp: Any) -> Iterator[Any]:
    from services.campaigns.bootstrap import bootstrap
    from services.campaigns.settings import CampaignsSettings

    c = bootstrap(CampaignsSettings(database_url=f"sqlite:///{tmp}/rm.db", auth=AUTH))
    yield c.api
    c.engine.dispose()


def _access(tmp: Any) -> Iterator[Any]:
    from services.access.bootstrap import bootstrap
    from services.access.settings import AccessSettings

    c = bootstrap(AccessSettings(database_url=f"sqlite:///{tmp}/rm.db",
                                 auth=AUTH))
    yield c.api
    c.engine.dispose()


def _audit(tmp: Any) -> Iterator[Any]:
    from services.audit.bootstrap import bootstrap
    from services.audit.settings import AuditSettings

    c = bootstrap(AuditSettings(database_url=f"sqlite:///{tmp}/rm.db", auth=AUTH))
    yield c.api
    c.engine.dispose()


SERVICES: dict[str, Callable[[Any], Iterator[Any]]] = {
    "customer": _customer, "assignment": _assignment, "tasks": _tasks, "summary": _summary, "kyc": _kyc,
    "usercrm": _usercrm, "campaigns": _campaigns, "access": _access, "audit": _audit,
}


# ------------------------------------------------------------------------------------------ the run
def _run_operation(op: Any, headers: dict[str, str], mode: GenerationMode, tally: Tally) -> None:
    @given(case=op.as_strategy(generation_mode=mode, headers=headers))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        tally.cases += 1
        response = case.call()
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every failure is collected
            first = str(exc).strip().splitlines()
            tally.failures.append(f"{op.method.upper()} {op.path} [{mode.value}] {response.status_code}: "
                                  f"{' '.join(first[:6])[:400]}")

    try:
        run()
    except Unsatisfiable:  # nothing to make invalid (an operation without parameters or body)
        if mode is GenerationMode.POSITIVE:
            raise


def _run_links(schema: Any, headers: dict[str, str], tally: Tally) -> int:
    """The stateful phase over the schema's links: the OpenAPI links and those schemathesis infers (an id in
    one response used as a parameter of another operation). Its rules are named
    `<METHOD>_<path>___<status>_<link>__<METHOD>_<path>`; 0 transitions: no links."""
    from hypothesis.stateful import run_state_machine_as_test

    machine = schema.as_state_machine()
    transitions = [name for name in dir(machine) if TRANSITION.match(name)]
    if not transitions:
        return 0

    class Machine(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            tally.cases += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001
                tally.failures.append(f"stateful {case.method} {case.path}: {str(exc)[:300]}")

    run_state_machine_as_test(Machine, settings=settings(max_examples=EXAMPLES, stateful_step_count=5,
                                                         deadline=None, database=None,
                                                         suppress_health_check=list(HealthCheck)))
    return len(transitions)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("service", list(SERVICES))
def test_openapi_has_no_server_errors_and_documents_every_answer(service: str, tmp_path: Any,
                                                                  request: pytest.FixtureRequest) -> None:
    builder = SERVICES[service](tmp_path)
    app = next(builder)
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        tally = Tally()
        tokens = _tokens()
        for result in schema.get_all_operations():
            op = result.ok()
            tally.operations += 1
            for token in tokens.values():
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    _run_operation(op, {"Authorization": f"Bearer {token}"}, mode, tally)
        links = sum(_run_links(schema, {"Authorization": f"Bearer {t}"}, tally) for t in tokens.values())
    finally:
        next(builder, None)
    request.config.stash.setdefault(FUZZ_COUNTS, []).append(
        f"{service:<11} operations={tally.operations:<3} cases={tally.cases:<5} stateful links={links} "
        f"failures={len(tally.failures)}")
    assert tally.operations > 0 and tally.cases >= tally.operations
    assert not tally.failures, "\n".join(sorted(set(tally.failures))[:60])


@pytest.mark.parametrize("service", [s for s in SERVICES if s not in ("summary", "audit")])  # they publish nothing
def test_every_publishing_service_checks_its_events_against_their_contracts_before_storing(service, tmp_path):
    builder = SERVICES[service](tmp_path)
    app = next(builder)
    try:
        assert app.state.container.app.outgoing_check is not None
    finally:
        next(builder, None)
