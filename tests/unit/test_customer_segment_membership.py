"""Segment membership as facts, on SQLite: a registration is evaluated before it is stored (its
`customer_registered` carries `segment_ids`, a `crm.segments_changed` with it); the evaluator re-evaluates
customers whose facts changed, sweeps a segment edited or deleted, publishes one
`segment_membership_changed` per segment entered or left, and a second pass changes nothing; the membership
table comes back equal from a rebuild of the store."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from services.customer.consumers import UpstreamHandler
from services.customer.outbox import map_event
from services.customer.segment_eval import RegistrationSegments, SegmentEvaluator, chained
from shared.events.upstream import AccountOpened, AssetSnapshotTaken, RiskAssessed
from tests.unit.test_customer_api import T0, ev, registered, world  # noqa: F401

pytestmark = pytest.mark.asyncio


def _published(c, after: int = 0) -> list:
    return [o.payload for n in c.app.process_recorder.select_notifications(start=after + 1, limit=10_000)
            for o in map_event(c.app.mapper.to_domain_event(n))]


def _membership(c) -> set[tuple[str, str]]:
    m = c.tables.membership
    with c.sessions() as s:
        return {(r.segment_id, r.customer_id) for r in s.execute(select(m))}


async def test_membership_published_on_registration_fact_change_edit_and_delete(world):  # noqa: F811
    c, feed, _feed_assign, token, client = world
    admin = token("admin")
    handler = UpstreamHandler(c.app, "g2", ["t2"], c.cache,
                              chained(c.matcher, RegistrationSegments(c.sessions, c.tables, c.settings,
                                                                      c.app.read_model)))
    offset = [0]

    def ingest(*payloads):
        offset[0] += len(payloads)
        handler.apply("t2", 0, [ev(p) for p in payloads], offset[0])

    evaluator = SegmentEvaluator(c.app, c.sessions, c.tables, c.settings, chunk=2)
    ingest(registered("old", 0, channel="referral"))
    r = await client.post("/customers/segments", json={"name": "Referred", "kind": "dynamic",
                                                       "filter": {"channel": ["referral"]}}, headers=admin)
    referred = r.json()["segment_id"]
    r = await client.post("/customers/segments", json={"name": "Rich", "kind": "dynamic",
                                                       "filter": {"asset_band": ["100000-1000000", "1000000-"]}},
                          headers=admin)
    rich = r.json()["segment_id"]
    r = await client.post("/customers/segments", json={"name": "VIP", "kind": "static",
                                                       "customer_ids": ["n1", "old"]}, headers=admin)
    vip = r.json()["segment_id"]
    assert evaluator.evaluate() == 1  # the first pass sweeps: "old" is referred and listed
    assert _membership(c) == {(referred, "old"), (vip, "old")}
    mark = c.app.process_recorder.max_notification_id()

    # ---- registrations: evaluated before they are stored
    ingest(registered("n1", 1, channel="organic"), registered("n2", 2, channel="referral"),
           registered("n3", 3, channel="organic"))
    pub = _published(c, mark)
    regs = {p.customer_id: p.segment_ids for p in pub if p.EVENT_TYPE == "crm.customer.customer_registered"}
    assert regs == {"n1": [vip], "n2": [referred], "n3": []}
    entered = sorted((p.segment_id, p.customer_id, p.member) for p in pub
                     if p.EVENT_TYPE == "crm.customer.segment_membership_changed")
    assert entered == sorted([(vip, "n1", True), (referred, "n2", True)])
    assert _membership(c) == {(referred, "old"), (vip, "old"), (vip, "n1"), (referred, "n2")}
    assert evaluator.evaluate() == 0  # nothing left to change

    # ---- a customer's facts change: it enters the band's segment
    ingest(AccountOpened(customer_id="n3", account_id="n3-A", opened_at=T0),
           AssetSnapshotTaken(customer_id="n3", account_id="n3-A", as_of=T0 + timedelta(hours=1), currency="USD",
                              total_assets=Decimal(250_000), cash=Decimal(250_000)),
           RiskAssessed(customer_id="n2", assessment_id="a1", risk_rating="balanced", assessed_at=T0))
    mark = c.app.process_recorder.max_notification_id()
    assert evaluator.evaluate() == 1
    pub = [p for p in _published(c, mark) if p.EVENT_TYPE == "crm.customer.segment_membership_changed"]
    assert [(p.segment_id, p.customer_id, p.member) for p in pub] == [(rich, "n3", True)]

    # ---- a segment edited: swept (old members leave, new ones enter); deleted: every member leaves
    r = await client.put(f"/customers/segments/{referred}", json={"name": "Organic", "kind": "dynamic",
                                                                  "filter": {"channel": ["organic"]}}, headers=admin)
    assert r.status_code == 200
    mark = c.app.process_recorder.max_notification_id()
    assert evaluator.evaluate() == 4  # old, n2 leave; n1, n3 enter (in chunks of 2)
    pub = [p for p in _published(c, mark) if p.EVENT_TYPE == "crm.customer.segment_membership_changed"]
    assert sorted((p.customer_id, p.member) for p in pub) == [("n1", True), ("n2", False), ("n3", True),
                                                             ("old", False)]
    assert (await client.delete(f"/customers/segments/{vip}", headers=admin)).status_code == 204
    assert evaluator.evaluate() == 2
    assert evaluator.evaluate() == 0
    assert _membership(c) == {(referred, "n1"), (referred, "n3"), (rich, "n3")}

    # ---- the rows come from the store
    before = _membership(c)
    c.rebuild_read_model()
    assert _membership(c) == before

    # ---- no live segment: facts put no one anywhere; a segment created afterwards sweeps them in
    for sid in (referred, rich):
        assert (await client.delete(f"/customers/segments/{sid}", headers=admin)).status_code == 204
    assert evaluator.evaluate() == 2  # n1 and n3 leave every segment
    assert _membership(c) == set()
    ingest(registered("n4", 4, channel="organic"),
           RiskAssessed(customer_id="n1", assessment_id="a2", risk_rating="balanced", assessed_at=T0))
    assert evaluator.evaluate() == 0
    r = await client.post("/customers/segments", json={"name": "Organic again", "kind": "dynamic",
                                                       "filter": {"channel": ["organic"]}}, headers=admin)
    organic = r.json()["segment_id"]
    assert evaluator.evaluate() == 3
    assert _membership(c) == {(organic, "n1"), (organic, "n3"), (organic, "n4")}


async def test_the_evaluator_reads_the_notifications_handed_over_in_memory_as_the_store_has_them(world, monkeypatch):  # noqa: F811
    c, feed, _feed_assign, token, client = world
    handler = UpstreamHandler(c.app, "g3", ["t3"], c.cache)
    before = c.app.process_recorder.max_notification_id() or 0
    watching = SegmentEvaluator(c.app, c.sessions, c.tables, c.settings)  # sees the recordings from here on
    handler.apply("t3", 0, [ev(registered("h1", 0)), ev(registered("h2", 1))], 2)
    r = await client.post("/customers/segments", json={"name": "Referred", "kind": "dynamic",
                                                       "filter": {"channel": ["referral"]}}, headers=token("admin"))
    handler.apply("t3", 0, [ev(RiskAssessed(customer_id="h1", assessment_id="a", risk_rating="balanced",
                                            assessed_at=T0))], 3)
    last = c.app.process_recorder.max_notification_id()
    from_store = SegmentEvaluator(c.app, c.sessions, c.tables, c.settings)._read(before, last)
    monkeypatch.setattr(c.app.process_recorder, "select_notifications", None)  # handed over: no store read
    assert watching._read(before, last) == from_store == ({"h1", "h2"}, {r.json()["segment_id"]})
