"""`shared.runtime.eventstore.ProcessingEvent`: collects what eventsourcing's `ProcessingEvent` collects (the
aggregates' new events in order, the aggregates by id, domain events as given, None skipped, the keyword
arguments), recognising the library's aggregates by class instead of by its runtime Protocol checks; and a
batch recorded with it is stored like one recorded with the library's."""

from __future__ import annotations

from eventsourcing.application import ProcessingEvent as LibraryProcessingEvent
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Tracking

from shared.runtime.eventstore import ProcessingEvent, TrackingApplication, build_application


class Account(Aggregate):
    @event("Opened")
    def __init__(self, name: str):
        self.name = name

    @event("Renamed")
    def rename(self, name: str) -> None:
        self.name = name


def _collected(cls: type) -> tuple[list[tuple], dict, dict]:
    a, b, c = Account("a"), Account("b"), Account("c")
    a.rename("a2")
    loose = Account("loose").collect_events()[0]  # a domain event given as such
    pe = cls()
    pe.collect_events(a, None, loose, b, marker=1)
    pe.collect_events(c)
    c.rename("c2")
    pe.collect_events(c)  # collected again: its newer events only
    events = [(type(e).__name__, e.originator_version, getattr(e, "name", None)) for e in pe.events]
    return events, {v.name: v.version for v in pe.aggregates.values()}, pe.saved_kwargs


def test_the_kits_processing_event_collects_what_the_librarys_collects() -> None:
    ours, theirs = _collected(ProcessingEvent), _collected(LibraryProcessingEvent)
    assert ours == theirs
    events, aggregates, kwargs = ours
    assert [name for _, _, name in events] == ["a", "a2", "loose", "b", "c", "c2"]
    assert aggregates == {"a2": 2, "b": 1, "c2": 2} and kwargs == {"marker": 1}


def test_a_batch_collected_by_the_kit_is_recorded_with_its_tracking() -> None:
    app = build_application(TrackingApplication, "memory://")
    try:
        accounts = [Account(f"n{i}") for i in range(3)]
        pe = ProcessingEvent()
        pe.collect_events(*accounts)
        recordings = app.record_processed(pe, [Tracking("upstream-0", 41)])
        assert [r.domain_event.originator_id for r in recordings] == [a.id for a in accounts]
        assert [app.repository.get(a.id).name for a in accounts] == ["n0", "n1", "n2"]
        assert app.recorder.max_tracking_id("upstream-0") == 41
    finally:
        app.close()
