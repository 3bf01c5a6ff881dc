"""`python -m ops status`: each component's position, backlog, age of its oldest unprocessed event and
state (ok / stalled), per service, read from the workers' health endpoints (/metrics and /readyz).

Why the workers' endpoints and not the services' stores: whether a relay, projection or consumer is stuck
(and on which event) is known only to the process running it, the gauges carry position and backlog too,
and the tool needs no database credentials of any service (no service's store is read by another's tool).
In a cluster run it inside each worker (`kubectl exec deploy/<service>-worker -- python -m ops status
--worker <service>=http://127.0.0.1:8001`): loopback, no NetworkPolicy change.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from shared.events import topics

GAUGES = {
    "whale_component_position": "position",
    "whale_component_backlog": "backlog",
    "whale_component_oldest_unprocessed_age_seconds": "oldest_age_s",
    "whale_component_stalled": "stalled",
}


@dataclass(frozen=True)
class ComponentRow:
    service: str
    component: str
    position: int | None
    backlog: int
    oldest_age_s: float
    state: str  # ok | stalled

    def as_dict(self) -> dict[str, Any]:
        return {"service": self.service, "component": self.component, "position": self.position,
                "backlog": self.backlog, "oldest_age_s": round(self.oldest_age_s, 1), "state": self.state}


def default_workers() -> dict[str, str]:
    """service -> worker health URL: OPS_WORKER_URLS ("customer=http://…,tasks=http://…") or each service's
    local defaults (WORKER_HEALTH_PORT of its settings, on 127.0.0.1)."""
    configured = os.environ.get("OPS_WORKER_URLS", "")
    if configured:
        return dict(pair.split("=", 1) for pair in configured.split(",") if "=" in pair)
    urls = {}
    for service in topics.SERVICES:
        module = importlib.import_module(f"services.{service}.settings")
        cls = next(v for k, v in vars(module).items() if k.endswith("Settings") and isinstance(v, type)
                   and v.__module__ == module.__name__  # the service's own, not a kit base class it imports
                   and "worker_health_port" in getattr(v, "model_fields", {}))
        urls[service] = f"http://127.0.0.1:{cls.model_fields['worker_health_port'].default}"
    return urls


def parse_components(metrics_text: str) -> list[ComponentRow]:
    values: dict[tuple[str, str], dict[str, float]] = {}
    for family in text_string_to_metric_families(metrics_text):
        field = GAUGES.get(family.name)
        if field is None:
            continue
        for sample in family.samples:
            key = (sample.labels.get("service", "?"), sample.labels.get("component", "?"))
            values.setdefault(key, {})[field] = sample.value
    rows = []
    for (service, component), v in sorted(values.items()):
        position = v.get("position")
        rows.append(ComponentRow(service, component, int(position) if position is not None else None,
                                 int(v.get("backlog", 0)), v.get("oldest_age_s", 0.0),
                                 "stalled" if v.get("stalled", 0) else "ok"))
    return rows


async def worker_status(client: httpx.AsyncClient, service: str, url: str) -> tuple[dict[str, Any], list[ComponentRow]]:
    """(the worker's readiness, its components)."""
    try:
        ready = await client.get(f"{url}/readyz")
        metrics = await client.get(f"{url}/metrics")
    except httpx.HTTPError as exc:
        return {"service": service, "worker": url, "state": "unreachable", "error": type(exc).__name__}, []
    checks = ready.json().get("checks", {}) if ready.status_code != 200 else {}
    head = {"service": service, "worker": url, "state": "ready" if ready.status_code == 200 else "not_ready",
            "failing_checks": checks}
    return head, parse_components(metrics.text)


async def status(workers: dict[str, str], timeout_s: float = 5.0) -> list[tuple[dict[str, Any], list[ComponentRow]]]:
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        return list(await asyncio.gather(*(worker_status(client, s, u) for s, u in workers.items())))
