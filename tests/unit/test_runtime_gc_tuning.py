"""The garbage collector of a served process (`shared.runtime.gc_tuning`): the young generation's threshold
raised and what start-up built frozen, once the process has started — from the service's settings."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from services.customer.settings import CustomerSettings
from shared.runtime import service
from tests.unit.test_runtime_cursor_secret import FakeContainer


def _in_a_fresh_process(code: str) -> str:
    """(A freeze is for the life of a process: not this test process's.)"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_tune_raises_the_young_threshold_and_freezes_what_exists() -> None:
    out = _in_a_fresh_process(
        "import gc\n"
        "from shared.runtime import gc_tuning\n"
        "before = gc.get_threshold()\n"
        "kept = [[i] for i in range(1000)]\n"
        "frozen = gc_tuning.tune(12345)\n"
        "after = gc.get_threshold()\n"
        "assert after == (12345, before[1], before[2]), after\n"
        "assert frozen == gc.get_freeze_count() > 1000, frozen\n"
        "assert not any(x is kept for x in gc.get_objects())  # frozen: no generation walks it any more\n"
        "print('ok')\n")
    assert out.endswith("ok")


def test_tune_without_freeze_leaves_the_objects_collectable() -> None:
    out = _in_a_fresh_process(
        "import gc\n"
        "from shared.runtime import gc_tuning\n"
        "assert gc_tuning.tune(900, freeze=False) == 0 == gc.get_freeze_count()\n"
        "assert gc.get_threshold()[0] == 900\n"
        "print('ok')\n")
    assert out.endswith("ok")


def test_the_settings_default_override_and_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    s = CustomerSettings()
    assert (s.gc_gen0_threshold, s.gc_freeze) == (10_000, True)
    monkeypatch.setenv("CUSTOMER_GC_GEN0_THRESHOLD", "5000")
    monkeypatch.setenv("CUSTOMER_GC_FREEZE", "false")
    assert (CustomerSettings().gc_gen0_threshold, CustomerSettings().gc_freeze) == (5000, False)
    with pytest.raises(ValidationError, match="gc_gen0_threshold"):
        CustomerSettings(gc_gen0_threshold=10)


async def test_serve_tunes_after_start_up_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    container = FakeContainer(CustomerSettings(gc_gen0_threshold=4321, gc_freeze=False))
    tuned: list[tuple[int, bool]] = []

    def tune(gen0: int, *, freeze: bool = True) -> int:
        tuned.append((gen0, freeze))
        container.calls.append("tune")
        return 0

    async def run_components(components: list[Any], **_: Any) -> None:
        container.calls.append(f"run {len(components)}")

    monkeypatch.setattr(service.gc_tuning, "tune", tune)
    monkeypatch.setattr(service, "run_components", run_components)
    await service.serve(container, "worker")  # type: ignore[arg-type]
    assert tuned == [(4321, False)]
    assert container.calls == ["start", "tune", "run 1", "stop"]  # (the worker's health server: one component)
