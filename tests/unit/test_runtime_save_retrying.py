"""The kit's `save_retrying`: a command that loses an optimistic-concurrency race runs again on fresh state."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import IntegrityError

from shared.runtime.commands import save_retrying


class App:
    """Saves fail with the event store's conflict the first `conflicts` times."""

    def __init__(self, conflicts: int) -> None:
        self.conflicts, self.saved, self.version = conflicts, [], 0

    def save(self, *aggregates: object) -> None:
        if self.conflicts:
            self.conflicts -= 1
            self.version += 1  # someone else's write got there first
            raise IntegrityError("duplicate key value violates unique constraint")
        self.saved.append(aggregates)


def test_a_conflict_reruns_the_step_on_fresh_state():
    app, seen = App(conflicts=2), []

    def step() -> tuple[str, int]:
        seen.append(app.version)  # the rules are checked against what is stored now
        return "agg", app.version

    assert save_retrying(app, step, attempts=3, case_id="k1") == 2
    assert seen == [0, 1, 2] and app.saved == [("agg",)]


def test_the_last_conflict_propagates():
    app = App(conflicts=3)
    with pytest.raises(IntegrityError):
        save_retrying(app, lambda: ("agg", None), attempts=3)
    assert app.saved == []


def test_several_aggregates_are_saved_together_and_none_saves_nothing():
    app = App(conflicts=0)
    assert save_retrying(app, lambda: (["a", "b"], "r")) == "r"
    assert save_retrying(app, lambda: ([], "nothing")) == "nothing"
    assert app.saved == [("a", "b")]
