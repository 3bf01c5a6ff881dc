"""The schemathesis counts per service, shown at the end of the run (`make test`)."""

from __future__ import annotations

import pytest

FUZZ_COUNTS = pytest.StashKey[list[str]]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = config.stash.get(FUZZ_COUNTS, [])
    if lines:
        terminalreporter.section("schemathesis")
        for line in lines:
            terminalreporter.write_line(line)
