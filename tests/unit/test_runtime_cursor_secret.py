"""One cursor key for every replica: `<NAME>_CURSOR_SECRET` signs the cursors; with production (RS256) tokens
a served API refuses to start without it (one ERROR naming the variable), instead of signing with a random
key of its own process that another replica, or the same one after a restart, would reject."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from services.customer.settings import CustomerSettings
from services.summary.settings import SummarySettings
from services.usercrm.settings import UsercrmSettings
from shared.runtime import service
from shared.runtime.cursor import BadCursor, codec_for, missing_cursor_secret
from shared.runtime.settings import AuthSettings

RS256 = AuthSettings(jwt_algorithm="RS256")
HS256 = AuthSettings(jwt_secret="dev-secret-dev-secret-dev-secret")


def _replicas(**kw: Any) -> tuple[Any, Any]:
    """Two replicas' codecs: settings built separately, from the same configuration."""
    return codec_for(CustomerSettings(**kw)), codec_for(CustomerSettings(**kw))


@pytest.mark.parametrize("kw", [dict(auth=RS256, cursor_secret="shared-cursor-key-0123456789"), dict(auth=HS256)],
                         ids=["rs256-cursor-secret", "hs256-derived"])
def test_a_cursor_issued_by_one_replica_is_accepted_by_another(kw: dict[str, Any]) -> None:
    a, b = _replicas(**kw)
    cursor = a.encode("customers", ["2026-01-05T09:00:00+00:00", "c-1"])
    assert b.decode(cursor, "customers", [str, str]) == ["2026-01-05T09:00:00+00:00", "c-1"]
    assert missing_cursor_secret(CustomerSettings(**kw)) is None


def test_another_services_secret_does_not_verify() -> None:
    cursor = codec_for(CustomerSettings(auth=RS256, cursor_secret="customer-cursor-key-012345")).encode("l", ["x"])
    other = codec_for(CustomerSettings(auth=RS256, cursor_secret="usercrm-cursor-key-0123456"))
    with pytest.raises(BadCursor):
        other.decode(cursor, "l", [str])


def test_production_tokens_need_the_services_own_cursor_secret() -> None:
    assert missing_cursor_secret(CustomerSettings(auth=RS256)) == "CUSTOMER_CURSOR_SECRET"
    assert missing_cursor_secret(UsercrmSettings(auth=RS256)) == "USERCRM_CURSOR_SECRET"
    # an HS256 secret left in a production configuration is not a cursor key
    stray = AuthSettings(jwt_algorithm="RS256", jwt_secret="left-over-left-over-left-over")
    assert missing_cursor_secret(CustomerSettings(auth=stray)) == "CUSTOMER_CURSOR_SECRET"


def test_a_short_cursor_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="cursor_secret"):
        CustomerSettings(auth=RS256, cursor_secret="short")


class FakeContainer:
    """What `serve` needs of a container; records what it was asked to do."""

    def __init__(self, settings: Any):
        self.settings, self.calls = settings, []

    async def start(self, *, worker: bool) -> list[Any]:
        self.calls.append("start")
        return []

    async def stop(self) -> None:
        self.calls.append("stop")

    def readiness(self, *, worker: bool = False) -> list[Any]:
        return []


@pytest.mark.parametrize("settings", [CustomerSettings, UsercrmSettings, SummarySettings])
@pytest.mark.parametrize("mode", ["api", "all"])
async def test_a_served_api_without_a_cursor_secret_refuses_to_start(mode: str, settings: Any) -> None:
    container = FakeContainer(settings(auth=RS256))
    with capture_logs() as logs, pytest.raises(SystemExit) as exit_:
        await service.serve(container, mode)  # every service's entry point serves through it
    assert exit_.value.code == 2
    assert container.calls == ["stop"], "nothing is started, what was opened is closed"
    errors = [e for e in logs if e["log_level"] == "error"]
    prefix = settings.model_config["env_prefix"]
    assert [(e["event"], e["variable"]) for e in errors] == [("cursor_secret_missing", f"{prefix}CURSOR_SECRET")]


async def test_a_worker_does_not_need_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers sign no cursors: the check is not theirs."""
    container = FakeContainer(CustomerSettings(auth=RS256))

    async def no_server(components: Any, **kw: Any) -> None:
        container.calls.append("run")

    monkeypatch.setattr(service, "run_components", no_server)
    await service.serve(container, "worker")
    assert container.calls == ["start", "run", "stop"]


def test_the_service_entry_points_serve_through_the_kit() -> None:
    """The check lives in `serve`: every `python -m services.<name>` must run its processes through the kit's
    `main` or `serve`, not a copy of them."""
    import ast
    import importlib.util

    from shared.events import topics

    for name in topics.SERVICES:
        spec = importlib.util.find_spec(f"services.{name}.__main__")
        tree = ast.parse(open(spec.origin).read())  # noqa: SIM115
        kit = {a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and node.module == "shared.runtime.service" for a in node.names}
        assert kit & {"main", "serve"} and not kit & {"HttpServer", "run_components"}, (name, kit)
