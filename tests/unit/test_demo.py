"""The demo platform produces every upstream event type, each valid against its contract, in lifecycle order."""

from collections import Counter

from devtools.demo import Platform
from shared.events import encode, registry, topics


def test_demo_traffic_covers_every_upstream_event_and_is_valid() -> None:
    platform = Platform(seed=3)
    seen: Counter[str] = Counter()
    order: dict[str, list[str]] = {}
    for _ in range(4000):
        for payload in platform.next_events(400):
            env = registry.envelope(payload, producer="demo")
            decoded = registry.decode(encode(env))  # strict validation of every generated event
            seen[decoded.event_type] += 1
            order.setdefault(env.partition_key, []).append(decoded.event_type)
    upstream = {c.event_type for c in registry.contracts() if c.topic in topics.UPSTREAM_TOPICS}
    assert upstream - {"account.closed"} <= set(seen)
    for types in order.values():
        assert types[0] == "registration.customer_registered"
        if "account.opened" in types and "funding.deposit_completed" in types:
            assert types.index("account.opened") < types.index("funding.deposit_completed")
    stages = Counter(s.stage for s in platform.customers)
    assert stages["registered"] > 0 and stages["applied"] > 0 and stages["trading"] > 0
