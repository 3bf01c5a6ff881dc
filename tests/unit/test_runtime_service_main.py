"""`python -m services.<name> migrate|rebuild` through the kit's `main`: a rebuild may be a coroutine (usercrm
replays topics with its producer), and it runs in the same event loop as the container's `stop`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.usercrm.settings import UsercrmSettings
from shared.runtime import service


class Fake:
    def __init__(self, settings: Any, rebuild: Any):
        self.settings, self._rebuild, self.calls, self.loops = settings, rebuild, [], set()

    def migrate(self) -> None:
        self.calls.append("migrate")

    def rebuild_read_model(self) -> Any:
        self.calls.append("rebuild")
        return self._rebuild(self)

    async def stop(self) -> None:
        self.loops.add(id(asyncio.get_running_loop()))
        self.calls.append("stop")


async def _replayed(fake: Fake) -> int:
    fake.loops.add(id(asyncio.get_running_loop()))
    return 7


@pytest.mark.parametrize("rebuild", [_replayed, lambda fake: 7], ids=["coroutine", "plain"])
def test_rebuild_logs_the_events_and_stops_in_one_loop(rebuild: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "configure_logging", lambda *a, **k: None)
    built: list[Fake] = []

    def bootstrap(settings: Any) -> Fake:
        built.append(Fake(settings, rebuild))
        return built[-1]

    infos: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(service.log, "info", lambda event, **kw: infos.append((event, kw)))
    assert service.main(["rebuild"], service="usercrm", settings=UsercrmSettings, bootstrap=bootstrap) == 0
    (fake,) = built
    assert fake.calls == ["migrate", "rebuild", "stop"] and len(fake.loops) == 1
    assert infos == [("read_model_rebuilt", {"service": "usercrm", "events": 7})]


def test_migrate_builds_the_tables_and_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "configure_logging", lambda *a, **k: None)
    built: list[Fake] = []

    def bootstrap(settings: Any) -> Fake:
        built.append(Fake(settings, lambda fake: 0))
        return built[-1]

    assert service.main(["migrate"], service="usercrm", settings=UsercrmSettings, bootstrap=bootstrap) == 0
    assert built[0].calls == ["migrate", "stop"]
