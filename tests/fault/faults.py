"""The faults the suite injects while the workload flows, each timed: the time to recover is from the end of
the fault (the process restarted, the server started again) until the system has caught up (the backlog of
consumer lag and unpublished / unprojected stored events is back under the level of the steady flow, every
worker ready, nothing stalled)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

import httpx

from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings

from .stack import SECRET, SERVICES, Backlog, Stack, safe_backlog
from .workload import Workload

CATCH_UP_DEADLINE_S = 240.0
# after the broker outage the platform's events of the outage (40/s × 60 s and the broker's start) come at once:
# 230 s to catch up on the loaded 2-core box (load ~11)
OUTAGE_CATCH_UP_DEADLINE_S = 480.0
API_PROBES = {"customer": "/customers/counts", "assignment": "/managers", "tasks": "/tasks/counts?view=all",
              "summary": "/dashboard/nodes", "kyc": "/kyc/queue?limit=1", "usercrm": "/usercrm/approvals?limit=1"}


@dataclass
class Outcome:
    fault: str
    survived: bool
    recovery_s: float | None
    detail: str = ""

    def row(self) -> tuple[str, str, str]:
        took = f"{self.recovery_s:.1f} s" if self.recovery_s is not None else "—"
        return self.fault, "yes" if self.survived else f"NO ({self.detail})", took + (
            f" ({self.detail})" if self.survived and self.detail else "")


class Faults:
    def __init__(self, stack: Stack, work: Workload):
        self.stack, self.work = stack, work
        self.outcomes: list[Outcome] = []
        self.level = 200  # backlog of the steady flow (set by `measure_level`)
        self.api_answers: Counter[tuple[str, int | str]] = Counter()  # (service, status) during the PG restart

    async def measure_level(self, probes: int = 5) -> int:
        """The backlog while the workload flows undisturbed: the recovery threshold is twice its largest
        value (at least 200 records)."""
        seen = []
        for _ in range(probes):
            b = await safe_backlog(self.stack)
            if b is not None:
                seen.append(b.total)
            await asyncio.sleep(1.0)  # spacing of the probes
        self.level = max(200, 2 * max(seen, default=0))
        return self.level

    async def caught_up(self, start: float, deadline_s: float = CATCH_UP_DEADLINE_S) -> tuple[float | None, Backlog | None]:
        """Seconds from `start` until the backlog is back under the steady level (None: not by the deadline)."""
        last = None
        while time.monotonic() - start < deadline_s:
            b = await safe_backlog(self.stack)
            if b is not None:
                last = b
                if not b.not_ready and not b.stalled and b.total <= self.level:
                    return time.monotonic() - start, b
            await asyncio.sleep(0.5)  # probing the backlog under a deadline
        return None, last

    async def _record(self, fault: str, start: float, detail: str = "", deadline_s: float = CATCH_UP_DEADLINE_S) -> None:
        took, last = await self.caught_up(start, deadline_s)
        if took is None:
            self.outcomes.append(Outcome(fault, False, None, f"not caught up in {deadline_s:.0f} s: {last}; "
                                                             f"exited: {self.stack.exited()}"))
        else:
            self.outcomes.append(Outcome(fault, True, took, detail))

    async def duplicates_and_poison(self, n: int, upstream: list[str]) -> None:
        start = time.monotonic()
        sent = await self.work.duplicates(n)
        await self._record(f"{sent} exact duplicates of upstream records", start)
        start = time.monotonic()
        poison = await self.work.poison(upstream)
        await self._record(f"{len(poison)} poison records on {len(upstream)} upstream topics", start)

    async def _busy(self, name: str, timeout: float = 10.0) -> str:
        """Wait until `name` has work in hand: lag on its groups or a backlog of its components ("mid-batch"),
        else until it applies a batch ("while consuming": the next is on its way in a steady flow)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            b = await safe_backlog(self.stack)
            if b is not None and (any(v for g, v in b.lag.items() if g.startswith(f"whale-{name}"))
                                  or any(v for c, v in b.backlog.items() if c.startswith(f"{name}/"))):
                return "mid-batch"
            await asyncio.sleep(0.2)  # waiting for the worker to be mid-batch
        async with httpx.AsyncClient(timeout=5) as c:
            before, end = await _applied(c, self.stack.worker_url(name)), time.monotonic() + timeout
            while time.monotonic() < end:
                if await _applied(c, self.stack.worker_url(name)) > before:
                    return "while consuming"
                await asyncio.sleep(0.05)  # waiting for the worker to apply a batch
        return "(idle)"

    async def kill_workers(self) -> None:
        for name in SERVICES:
            when = await self._busy(name)
            self.stack.kill9(name)
            start = time.monotonic()
            self.stack.respawn(name)
            try:
                await self.stack.wait_ready(name, "worker", timeout=CATCH_UP_DEADLINE_S)
            except RuntimeError as exc:
                self.outcomes.append(Outcome(f"kill -9 {name} worker", False, None, str(exc)[:200]))
                continue
            ready = time.monotonic() - start
            await self._record(f"kill -9 {name} worker {when}", start,
                               f"ready after {ready:.1f} s")

    async def broker_outage(self, seconds: float = 60.0) -> None:
        await asyncio.to_thread(self.stack.infra.stop_kafka)
        await asyncio.sleep(seconds)  # the outage
        start = time.monotonic()
        await asyncio.to_thread(self.stack.infra.start_kafka)
        await self._record(f"broker stopped {seconds:.0f} s, started again", start,
                           f"broker up after {time.monotonic() - start:.1f} s", OUTAGE_CATCH_UP_DEADLINE_S)

    async def postgres_restart(self) -> None:
        """Stop PostgreSQL (fast shutdown) and start it again while the APIs are asked every 0.5 s: an API
        without its database answers 503 (retry later), never another 5xx."""
        stop = asyncio.Event()
        probe = asyncio.create_task(self._probe_apis(stop))
        try:
            await asyncio.to_thread(self.stack.infra.stop_pg)
            start = time.monotonic()
            await asyncio.to_thread(self.stack.infra.start_pg)
            await self._record("PostgreSQL restarted", start, f"server up after {time.monotonic() - start:.1f} s")
        finally:
            stop.set()
            await probe

    async def _probe_apis(self, stop: asyncio.Event) -> None:
        headers = {"Authorization": "Bearer " + mint_token(AuthSettings(jwt_secret=SECRET), user_id="fault-admin",
                                                           role="admin")}
        async with httpx.AsyncClient(headers=headers, timeout=10) as c:
            while not stop.is_set():
                for name, path in API_PROBES.items():
                    try:
                        r = await c.get(self.stack.api_url(name) + path)
                        self.api_answers[(name, r.status_code)] += 1
                    except httpx.HTTPError as exc:
                        self.api_answers[(name, type(exc).__name__)] += 1
                await asyncio.sleep(0.5)  # probing interval


async def _applied(c: httpx.AsyncClient, worker: str) -> float:
    """Events the worker's consumers have applied so far (its whale_events_consumed_total)."""
    r = await c.get(f"{worker}/metrics")
    return sum(float(line.rsplit(" ", 1)[1]) for line in r.text.splitlines()
               if line.startswith("whale_events_consumed_total{"))
