"""Prometheus metrics shared by the runtime kit (one set per process, labelled by service)."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter(
    "whale_events_consumed_total", "Events applied by a consumer", ["service", "group", "topic"]
)
EVENTS_FAILED = Counter(
    "whale_events_failed_total", "Handler attempts that raised", ["service", "group", "topic"]
)
EVENTS_DEAD_LETTERED = Counter(
    "whale_events_dead_lettered_total", "Events sent to the dead-letter topic", ["service", "group", "topic", "reason"]
)
EVENTS_DUPLICATE = Counter(
    "whale_events_duplicate_total", "Events skipped as already processed", ["service", "group", "topic"]
)
HANDLER_LATENCY = Histogram(
    "whale_handler_seconds",
    "Time to apply one batch of events",
    ["service", "group"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CONSUMER_LAG = Gauge(
    "whale_consumer_lag", "Records behind the partition end", ["service", "group", "topic", "partition"]
)
EVENTS_PUBLISHED = Counter("whale_events_published_total", "Events published by the outbox relay", ["service", "topic"])
OUTBOX_BACKLOG = Gauge("whale_outbox_backlog", "Stored events not yet published", ["service"])
PROJECTION_POSITION = Gauge(
    "whale_projection_position", "Last notification id applied to a read model", ["service", "projection"]
)
HTTP_LATENCY = Histogram(
    "whale_http_seconds", "API request latency", ["service", "method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
CONSUMER_RESTARTS = Counter(
    "whale_consumer_restarts_total", "Kafka consumer clients replaced after a failure (a new one rejoins the group)",
    ["service", "group"],
)
PRODUCER_REBUILDS = Counter(
    "whale_producer_rebuilds_total", "Kafka producers discarded after a failed send (a new one is started)",
    ["client_id"],
)
COMPONENT_STALLED = Gauge(
    "whale_component_stalled", "1 while a relay, projection or consumer cannot get past one of its events",
    ["service", "component"],
)
COMPONENT_AGE = Gauge(
    "whale_component_oldest_unprocessed_age_seconds", "Age of the oldest event a component has not processed",
    ["service", "component"],
)
COMPONENT_BACKLOG = Gauge("whale_component_backlog", "Events a component has not processed yet",
                          ["service", "component"])
COMPONENT_POSITION = Gauge("whale_component_position", "Last notification id a component processed",
                           ["service", "component"])
ACCESS_MISMATCHES = Counter(
    "whale_access_directory_mismatches_total",
    "Shadow mode: requests whose token claimed other rights than the access directory gives",
    ["service", "kind"],
)
