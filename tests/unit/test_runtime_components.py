"""run_components: a component that ends unasked stops the process loudly, never as a clean stop."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from shared.runtime.service import ComponentEnded, run_components, running


class Forever:
    def __init__(self) -> None:
        self.stopped = asyncio.Event()

    async def run(self) -> None:
        await self.stopped.wait()

    async def stop(self) -> None:
        self.stopped.set()


class CancelledInside(Forever):
    """Ends as a task cancelled from inside (e.g. a client library cancelling the future it awaits)."""

    async def run(self) -> None:
        raise asyncio.CancelledError


class Returns(Forever):
    async def run(self) -> None:
        return None


@pytest.mark.parametrize("ending", [CancelledInside, Returns])
async def test_a_component_that_ends_unasked_stops_the_others_and_raises(ending, capsys):
    other = Forever()
    with pytest.raises(ComponentEnded, match=ending.__name__):
        await asyncio.wait_for(run_components([other, ending()], install_signals=False), timeout=10)
    assert other.stopped.is_set()
    assert "component_ended" in capsys.readouterr().out


async def test_a_stop_signal_ends_every_component_without_error():
    a, b = Forever(), Forever()
    task = asyncio.create_task(run_components([a, b], install_signals=True))
    await asyncio.sleep(0.05)  # both running
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, timeout=10)
    assert a.stopped.is_set() and b.stopped.is_set()


async def test_running_stops_its_components_on_purpose():
    a = Forever()

    class Container:
        def migrate(self) -> None: ...

        async def start(self, worker: bool) -> list[Forever]:
            return [a]

        async def stop(self) -> None: ...

    async with running(Container()):
        await asyncio.sleep(0.05)
    assert a.stopped.is_set()
