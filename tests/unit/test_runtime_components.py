"""run_components: a component that ends unasked stops the process loudly, never as a clean stop."""

from __future__ import annotations

import asyncio
import json
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


class Container:
    def __init__(self, *components: Forever) -> None:
        self.components = list(components)
        self.stopped = False

    def migrate(self) -> None: ...

    async def start(self, worker: bool) -> list[Forever]:
        return self.components

    async def stop(self) -> None:
        self.stopped = True


def errors(out: str) -> list[dict]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("level") == "error"]


async def test_running_stops_its_components_on_purpose_without_an_error(capsys):
    a, b = Forever(), Forever()
    container = Container(a, b)
    async with running(container):
        await asyncio.sleep(0.05)
    assert a.stopped.is_set() and b.stopped.is_set() and container.stopped
    out = capsys.readouterr().out
    assert "component_ended" not in out and errors(out) == []


async def test_run_components_stop_event_is_a_stop_on_purpose(capsys):
    a, b = Forever(), Forever()
    stop = asyncio.Event()
    task = asyncio.create_task(run_components([a, b], install_signals=False, stop=stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert a.stopped.is_set() and b.stopped.is_set()
    assert errors(capsys.readouterr().out) == []


async def test_running_raises_for_a_component_that_ended_unasked_in_the_block(capsys):
    other = Forever()
    container = Container(other, Returns())
    with pytest.raises(ComponentEnded, match="Returns"):
        async with running(container):
            await asyncio.sleep(0.05)
    assert other.stopped.is_set() and container.stopped
    assert [e["event"] for e in errors(capsys.readouterr().out)] == ["component_ended"]


class Stuck(Forever):
    """Asked to stop, it does not (a client library waiting on a broker that does not answer)."""

    async def stop(self) -> None:
        return None


async def test_a_component_that_does_not_stop_is_cancelled_and_named(monkeypatch, capsys):
    monkeypatch.setattr("shared.runtime.service.STOP_TIMEOUT_S", 0.3)
    ok, stuck = Forever(), Stuck()
    stop = asyncio.Event()
    task = asyncio.create_task(run_components([ok, stuck], install_signals=False, stop=stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=5)  # cancelled after the bound: the stop does not hang
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [line] = [e for e in logged if e["event"] == "components_not_stopped"]
    assert line["components"] == ["Stuck"] and line["level"] == "error"
