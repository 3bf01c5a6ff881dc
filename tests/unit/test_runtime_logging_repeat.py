"""Library log lines (aiokafka during a broker outage) are JSON and written at most once per window for each
message template; the next line written says how many were suppressed."""

from __future__ import annotations

import io
import json
import logging

from shared.runtime.logging import JsonLineFormatter, RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _logger(name: str, clock: Clock) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLineFormatter())
    handler.addFilter(RepeatFilter(window_s=30, clock=clock))
    log = logging.getLogger(name)
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.WARNING)
    return log, out


def lines(out: io.StringIO) -> list[dict]:
    return [json.loads(x) for x in out.getvalue().splitlines()]


def test_a_repeated_template_is_written_once_per_window_then_with_the_suppressed_count():
    clock = Clock()
    log, out = _logger("test.aiokafka.repeat", clock)
    for i in range(300):  # 30 s of aiokafka's 100 ms retries, each naming another attempt
        log.error("Unable connect to node with id %s: %s", 1, f"attempt {i}")
        clock.now += 0.099
    first = lines(out)
    assert len(first) == 1 and first[0]["level"] == "error" and first[0]["logger"] == "test.aiokafka.repeat"
    assert first[0]["event"] == "Unable connect to node with id 1: attempt 0" and "repeated" not in first[0]
    clock.now += 1  # past the window
    log.error("Unable connect to node with id %s: %s", 1, "attempt 301")
    second = lines(out)[1]
    assert second["event"].endswith("attempt 301") and second["repeated"] == 299


def test_other_templates_and_levels_are_not_held_back():
    clock = Clock()
    log, out = _logger("test.aiokafka.other", clock)
    log.error("Unable connect to node with id %s", 1)
    log.warning("Unable connect to node with id %s", 1)
    log.error("Topic %s not found in cluster metadata", "t")
    assert [(x["level"], x["event"]) for x in lines(out)] == [
        ("error", "Unable connect to node with id 1"),
        ("warning", "Unable connect to node with id 1"),
        ("error", "Topic t not found in cluster metadata"),
    ]


def test_a_message_with_quotes_and_an_exception_stays_one_json_line():
    log, out = _logger("test.aiokafka.json", Clock())
    try:
        raise ValueError('bad "value"\nsecond line')
    except ValueError:
        log.exception('failed on "%s"', "x\ty")
    (doc,) = lines(out)
    assert doc["event"] == 'failed on "x\ty"' and 'bad "value"' in doc["exception"]
    assert doc["timestamp"].endswith("Z")
