"""Summary counts by unique survivor: a merged customer (crm.customer.merged) contributes no stage, milestone,
funnel entry or due item, an unmerge brings it back, and re-delivery and any order give the same counts
(SQLite)."""

from __future__ import annotations

import itertools

import pytest

from services.summary import samples as s
from services.summary.queries.audience import Audience
from services.summary.queries.dashboard import node_counts
from services.summary.rebuild import fingerprint
from shared.events.crm_customer import CustomerMerged, CustomerUnmerged
from tests.unit import test_summary_metrics as metrics
from tests.unit.test_summary_metrics import Feed, q, z

make = pytest.fixture(metrics.make.__wrapped__, name="make")

MERGED_AT, UNMERGED_AT = z("2024-06-12T05:00:00"), z("2024-06-12T07:00:00")


def merged():
    return s.as_event(s._env(CustomerMerged(survivor_id="old", merged_id="new", reason="exact:id_number",
                                            merged_at=MERGED_AT), MERGED_AT, None))


def unmerged():
    return s.as_event(s._env(CustomerUnmerged(survivor_id="old", merged_id="new", unmerged_at=UNMERGED_AT),
                             UNMERGED_AT, None))


def customers() -> list:
    ev = s.journey("old", "m1", "t1", z("2024-06-01T00:00:00"), applied=z("2024-06-02T00:00:00"))
    ev += [s.registered("new", z("2024-06-12T04:00:00")), s.stage("new", "registered", z("2024-06-12T04:00:00")),
           s.assigned("new", "m2", "t1", z("2024-06-12T04:01:00"))]
    return [s.as_event(e) for e in ev]


def stages(c) -> dict[str, int]:
    return {k: v for k, v in q(c, node_counts, Audience())["customers_per_stage"].items() if v}


def test_a_merged_customer_counts_once_as_its_survivor_and_unmerge_restores_it(make):
    c = make()
    feed = Feed(c)
    feed(customers())
    assert stages(c) == {"registered": 1, "pending_account_opening": 1}
    feed([merged(), merged()])  # re-delivered
    assert stages(c) == {"pending_account_opening": 1}
    feed([unmerged()])
    assert stages(c) == {"registered": 1, "pending_account_opening": 1}


def test_any_order_gives_the_same_read_model(make):
    base, tail, marks = customers()[:-3], customers()[-3:], [merged(), unmerged()]
    prints = set()
    for i, order in enumerate(itertools.permutations([*marks, *tail])):
        if i % 17:
            continue  # a spread of the 120 orders
        c = make(f"o{i}")
        Feed(c)(base + list(order), batch=2)
        assert stages(c) == {"registered": 1, "pending_account_opening": 1}
        prints.add(repr(sorted(q(c, fingerprint).items())))
    assert len(prints) == 1
