"""A stall is loud: the health of the components that follow a store or a topic (outbox relays,
projections, consumers).

Each component reports every attempt: `progressed(...)` after a step that moved (or found nothing to do),
`failed(...)` with the stored event it could not get past. After `STALL_AFTER` consecutive failures on
the same event the component is *stalled*:
- ONE ERROR log line `component_stalled` naming the event (not one per retry; retries log WARNING);
- `whale_component_stalled{service,component}` = 1, and `whale_component_oldest_unprocessed_age_seconds`
  (age of the oldest event it has not processed) and `whale_component_backlog` keep being updated;
- the process is not ready: `readiness_check()` raises, so the worker's /readyz answers 503.
The next step that gets past the event clears it (one INFO `component_recovered`). `python -m ops status`
reads these gauges from every worker's /metrics.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .logging import get_logger
from .metrics import COMPONENT_AGE, COMPONENT_BACKLOG, COMPONENT_POSITION, COMPONENT_STALLED

log = get_logger("health")

STALL_AFTER = 3  # consecutive failed attempts on one event (with the back-off: about 2 s) before it is a stall


@dataclass
class Stuck:
    """The stored event a component cannot get past."""

    event_id: str
    position: int | None = None  # its notification id / offset
    detail: dict[str, Any] = field(default_factory=dict)


def stuck_at(notification: Any) -> Stuck:
    """The stored event of an event-store notification, named by the id its first outgoing message carries
    (`deterministic_event_id`; the originator id as a UUID whatever the store returns)."""
    from .eventstore import deterministic_event_id

    n = notification
    originator = n.originator_id if isinstance(n.originator_id, uuid.UUID) else uuid.UUID(str(n.originator_id))
    return Stuck(str(deterministic_event_id(originator, n.originator_version)), n.id,
                 {"notification_id": n.id, "originator_id": str(originator),
                  "originator_version": n.originator_version, "topic": n.topic})


def store_backlog(app: Any, notification_id: int) -> int:
    """Stored events from `notification_id` on (0 if the store cannot be read: it may be what failed)."""
    try:
        return max((app.process_recorder.max_notification_id() or 0) - notification_id + 1, 0)
    except Exception:  # noqa: BLE001
        return 0


class ComponentHealth:
    def __init__(self, service: str, component: str, *, stall_after: int = STALL_AFTER):
        self.service, self.component, self.stall_after = service, component, stall_after
        self.failures = 0
        self.stuck: Stuck | None = None
        self.stalled = False
        self._lock = threading.Lock()
        COMPONENT_STALLED.labels(service, component).set(0)

    def progressed(self, *, position: int | None = None, backlog: int = 0,
                   oldest: datetime | None = None) -> None:
        """A step succeeded; `oldest`: when the oldest event still unprocessed was stored (None: none)."""
        with self._lock:
            recovered = self.stalled
            self.failures, self.stuck, self.stalled = 0, None, False
        self._gauges(position, backlog, oldest)
        COMPONENT_STALLED.labels(self.service, self.component).set(0)
        if recovered:
            log.info("component_recovered", service=self.service, component=self.component, position=position)

    def failed(self, stuck: Stuck, exc: BaseException, *, backlog: int = 0, oldest: datetime | None = None,
               position: int | None = None) -> None:
        """An attempt at `stuck` failed. Declares the stall (once) after `stall_after` attempts on it."""
        with self._lock:
            if self.stuck is None or self.stuck.event_id != stuck.event_id:
                self.failures = 0
            self.stuck = stuck
            self.failures += 1
            declare = not self.stalled and self.failures >= self.stall_after
            self.stalled = self.stalled or declare
        self._gauges(position, backlog, oldest)
        if declare:
            COMPONENT_STALLED.labels(self.service, self.component).set(1)
            log.error("component_stalled", service=self.service, component=self.component,
                      event_id=stuck.event_id, position=stuck.position, attempts=self.failures,
                      error=type(exc).__name__, exc_info=exc, **stuck.detail)
        else:
            log.warning("component_retrying", service=self.service, component=self.component,
                        event_id=stuck.event_id, attempt=self.failures, error=type(exc).__name__)

    def mirror(self, stalled: bool) -> None:
        """The state of a component of another process, which logs its own stall and recovery (an import
        process the service's worker started): counted for this process's readiness and metric, not logged
        a second time."""
        with self._lock:
            self.stalled = stalled
        COMPONENT_STALLED.labels(self.service, self.component).set(int(stalled))

    def _gauges(self, position: int | None, backlog: int, oldest: datetime | None) -> None:
        if position is not None:
            COMPONENT_POSITION.labels(self.service, self.component).set(position)
        COMPONENT_BACKLOG.labels(self.service, self.component).set(max(backlog, 0))
        age = max(time.time() - oldest.timestamp(), 0.0) if oldest is not None else 0.0
        COMPONENT_AGE.labels(self.service, self.component).set(age)

    def __enter__(self) -> ComponentHealth:
        """While running (`with component.health:`), the component counts for this process's readiness."""
        REGISTRY.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        REGISTRY.discard(self)


class _Registry:
    """The components of this process (a worker's health app checks them all)."""

    def __init__(self) -> None:
        self._items: set[ComponentHealth] = set()
        self._lock = threading.Lock()

    def add(self, item: ComponentHealth) -> None:
        with self._lock:
            self._items.add(item)

    def discard(self, item: ComponentHealth) -> None:
        with self._lock:
            self._items.discard(item)

    def stalled(self) -> list[ComponentHealth]:
        with self._lock:
            return [c for c in self._items if c.stalled]


REGISTRY = _Registry()


class Stalled(Exception):
    """Readiness: a component of this process is stalled."""


async def components() -> None:
    """Readiness check (named for /readyz's report): raises if any component of this process is stalled."""
    stalled = REGISTRY.stalled()
    if stalled:
        raise Stalled(", ".join(f"{c.component}@{c.stuck.event_id if c.stuck else '?'}" for c in stalled))
