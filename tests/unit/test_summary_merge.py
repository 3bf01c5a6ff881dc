"""Summary counts by unique survivor: a merged customer (crm.customer.merged) contributes no stage, milestone,
funnel entry or due item, its KYC cases count once under the survivor's owner, an unmerge brings it back, and
re-delivery and any order give the same counts (SQLite)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from services.summary import samples as s
from services.summary.projections import tables as t
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


def in_any_order(make, moving: list, step: int, check) -> None:
    """Feeds the new customer's last events and `moving` in a spread of their orders (one in `step`, two
    events a batch): `check` holds for each, and every order gives the same read model."""
    base, tail = customers()[:-3], customers()[-3:]
    prints = set()
    for i, order in enumerate(itertools.permutations([*moving, *tail])):
        if i % step:
            continue
        c = make(f"o{i}")
        Feed(c)(base + list(order), batch=2)
        check(c)
        prints.add(repr(sorted(q(c, fingerprint).items())))
    assert len(prints) == 1


def test_any_order_gives_the_same_read_model(make):
    def check(c):
        assert stages(c) == {"registered": 1, "pending_account_opening": 1}

    in_any_order(make, [merged(), unmerged()], 17, check)  # a spread of the 120 orders


def kyc(c) -> dict[tuple[str, str], int]:
    """KYC cases per (state, manager) from the node counters."""
    n = t.node_count.c
    with c.sessions() as sess:
        return {(node, mgr): k for node, mgr, k in sess.execute(
            select(n.node, n.manager_id, n.n).where(n.dimension == "kyc", n.n != 0))}


def test_a_merged_customers_kyc_cases_follow_the_survivors_owner_and_come_back_on_unmerge(make):
    c = make()
    feed = Feed(c)
    feed(customers() + [s.as_event(s.kyc_state("k1", "new", "pending", z("2024-06-12T04:30:00")))])
    assert kyc(c) == {("pending", "m2"): 1}
    feed([merged(), merged()])  # re-delivered
    assert kyc(c) == {("pending", "m1"): 1}  # once, under the survivor's owner
    feed([s.as_event(s.assigned("old", "m3", "t1", z("2024-06-12T06:00:00")))])  # the survivor changes owner
    assert kyc(c) == {("pending", "m3"): 1}
    feed([s.as_event(s.kyc_state("k1", "new", "in_review", z("2024-06-12T06:30:00"), frm="pending"))])
    assert kyc(c) == {("in_review", "m3"): 1}
    feed([unmerged()])
    assert kyc(c) == {("in_review", "m2"): 1}
    assert stages(c) == {"registered": 1, "pending_account_opening": 1}


def test_kyc_of_a_merged_customer_in_any_order_gives_the_same_read_model(make):
    moving = [merged(), s.as_event(s.kyc_state("k1", "new", "pending", z("2024-06-12T04:30:00"))),
              s.as_event(s.assigned("old", "m3", "t1", z("2024-06-12T06:00:00")))]

    def check(c):
        assert kyc(c) == {("pending", "m3"): 1} and stages(c) == {"pending_account_opening": 1}

    in_any_order(make, moving, 71, check)  # a spread of the 720 orders


def test_a_survivor_merged_in_its_turn_passes_its_survivors_owner_on(make):
    c = make()
    feed = Feed(c)
    top = [s.as_event(e) for e in (s.registered("top", z("2024-06-01T00:00:00")),
                                   s.stage("top", "registered", z("2024-06-01T00:00:00")),
                                   s.assigned("top", "m4", "t1", z("2024-06-01T00:00:00")))]
    feed(customers() + top + [s.as_event(s.kyc_state("k1", "new", "pending", z("2024-06-12T04:30:00")))])
    feed([merged()])
    assert kyc(c) == {("pending", "m1"): 1}
    old_into_top = s.as_event(s._env(CustomerMerged(survivor_id="top", merged_id="old", reason="exact:id_number",
                                                    merged_at=z("2024-06-12T06:00:00")), z("2024-06-12T06:00:00"), None))
    feed([old_into_top])
    assert kyc(c) == {("pending", "m4"): 1}
    feed([s.as_event(s.assigned("top", "m3", "t1", z("2024-06-12T06:30:00")))])  # touches "top" only
    assert kyc(c) == {("pending", "m3"): 1}
    assert stages(c) == {"registered": 1}  # one customer left: "top"
