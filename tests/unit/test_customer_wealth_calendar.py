"""The wealth calendar on SQLite: the fold of the wealth facts (any order, duplicates, batched or one event at a
time: the same rows; a newer positions snapshot replaces the account's holdings), the calendar computation
(subscribed IPOs, corporate actions on held securities only, maturities, brokerage-wide windows), the API (one
customer, the caller's customers in keyset pages with scope and masking, the `holds` filter, the 360) and the
reminders (one per customer and event, within the configured days, never twice)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from services.customer.calendar import Reminders, brokerage_events, customer_events
from services.customer.container import WEALTH_GROUP
from services.customer.domain.wealth import WealthReminder, merge_brokerage, title
from services.customer.outbox import map_event
from services.customer.projections.wealth import USED, apply_wealth
from shared.events.crm_customer import WealthEventDue
from shared.events.upstream_wealth import (
    CorporateActionAnnounced,
    Holding,
    IpoSubscribed,
    IpoWindowAnnounced,
    MaturityScheduled,
    PositionsReported,
)
from shared.runtime.db import Tracker
from shared.runtime.handlers import SqlBatchHandler
from shared.runtime.journal import journaled
from shared.runtime.journal import replay as replay_journal
from tests.unit.test_customer_360 import fold_in_three_orders
from tests.unit.test_customer_api import T0, assigned, ev, registered, world  # noqa: F401

pytestmark = pytest.mark.asyncio
D = date(2025, 3, 10)  # "today" of the calendar


def day(n: int, base: date = D) -> date:
    return base + timedelta(days=n)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def facts(base: date = D) -> list:
    """Wealth facts around the day `base` (w1 holds 0700.HK and subscribed to ipo1; w2 holds 0005.HK, cancelled
    its ipo1 subscription and has a bond maturing on day 3)."""

    def day(n: int) -> date:
        return base + timedelta(days=n)

    return [
        IpoWindowAnnounced(ipo_id="ipo1", security="9999.HK", name="Acme Holdings", open_date=day(-2),
                           close_date=day(2), listing_date=day(8), announced_at=at(1)),
        IpoWindowAnnounced(ipo_id="ipo1", security="9999.HK", name="Acme Holdings", open_date=day(-2),
                           close_date=day(3), listing_date=day(9), announced_at=at(5)),  # changed: later close
        IpoWindowAnnounced(ipo_id="ipo2", security="8888.HK", name="Beta Ltd", open_date=day(5), close_date=day(7),
                           announced_at=at(2)),
        IpoSubscribed(customer_id="w1", ipo_id="ipo1", quantity=Decimal("1000"), updated_at=at(6)),
        IpoSubscribed(customer_id="w2", ipo_id="ipo1", quantity=Decimal("500"), updated_at=at(6)),
        IpoSubscribed(customer_id="w2", ipo_id="ipo1", quantity=Decimal("500"), status="cancelled",
                      updated_at=at(7)),
        CorporateActionAnnounced(action_id="ca1", security="0700.HK", kind="dividend", ex_date=day(1),
                                 record_date=day(2), pay_date=day(20), amount_per_share=Decimal("2.4"),
                                 currency="HKD", announced_at=at(3)),
        CorporateActionAnnounced(action_id="ca2", security="0005.HK", kind="split", record_date=day(4),
                                 ratio="2:1", announced_at=at(3)),
        PositionsReported(customer_id="w1", account_id="a1", as_of=at(10),
                          positions=[Holding(security="0700.HK", quantity=Decimal("200")),
                                     Holding(security="0005.HK", quantity=Decimal("50"))]),
        PositionsReported(customer_id="w1", account_id="a1", as_of=at(20),  # sold 0005.HK since
                          positions=[Holding(security="0700.HK", quantity=Decimal("300")),
                                     Holding(security="0005.HK", quantity=Decimal("0"))]),
        PositionsReported(customer_id="w2", account_id="a2", as_of=at(10),
                          positions=[Holding(security="0005.HK", quantity=Decimal("10"))]),
        MaturityScheduled(customer_id="w2", maturity_id="m1", account_id="a2", product="HK Gov Bond 2025",
                          maturity_date=day(3), amount=Decimal("100000"), currency="HKD", scheduled_at=at(4)),
        MaturityScheduled(customer_id="w1", maturity_id="m2", account_id="a1", product="Note X",
                          maturity_date=day(40), scheduled_at=at(4)),
    ]


def wealth_rows(c) -> dict:
    with c.sessions() as s:
        return {t.name: sorted(map(tuple, s.execute(select(t)))) for t in c.tables.wealth.consumer_fed()}


def handler(c) -> SqlBatchHandler:
    w = c.tables.wealth
    return SqlBatchHandler(c.sessions, Tracker(c.tables.consumer_position, c.tables.processed_event, WEALTH_GROUP),
                           journaled(apply_wealth(w), USED, w.journal))


async def test_fold_gives_the_same_rows_in_any_order_and_replays_from_the_journal(world):  # noqa: F811
    c, *_ = world
    events = [ev(p) for p in facts()]
    apply = apply_wealth(c.tables.wealth)
    results = fold_in_three_orders(c, apply, c.tables.wealth.consumer_fed(), events,
                                   wealth_rows, seed=5, repeated=5)
    assert results[0] == results[1] == results[2]
    rows = results[0]
    # the newer snapshot replaced the account's holdings: 0005.HK sold (0 is not held), 0700.HK now 300
    assert [(r[0], r[2], r[3]) for r in rows["customer_wealth_holding"]] == [
        ("w1", "0700.HK", Decimal("300")), ("w2", "0005.HK", Decimal("10"))]
    assert [r[4] for r in rows["customer_wealth_ipo"] if r[0] == "ipo1"] == [day(3)]  # the later announcement
    assert {r[:2]: r[4] for r in rows["customer_wealth_subscription"]} == {("w1", "ipo1"): "subscribed",
                                                                           ("w2", "ipo1"): "cancelled"}

    # the consumer journals what it applies; a rebuild replays the journal into emptied tables: the same rows
    handler(c).apply("brokerage.wealth", 0, events, len(events))
    before = wealth_rows(c)
    assert before == rows
    assert c.rebuild_read_model() >= len(events)
    assert wealth_rows(c) == before
    with c.sessions.begin() as s:
        for t in c.tables.wealth.consumer_fed():
            s.execute(t.delete())
    assert replay_journal(c.sessions, apply, c.tables.wealth.journal) == len(events)
    assert wealth_rows(c) == before


async def test_calendar_computation(world):  # noqa: F811
    c, *_ = world
    handler(c).apply("brokerage.wealth", 0, [ev(p) for p in facts()], 20)
    t = c.tables
    with c.sessions() as s:
        every = customer_events(s, t, day(0), day(30), lambda _cid: None)
        wide = brokerage_events(s, t, day(0), day(30))
        one = customer_events(s, t, day(0), day(30), lambda cid: cid == "w1")
        soon = customer_events(s, t, day(0), day(3), lambda _cid: None)
        only = customer_events(s, t, day(0), day(30), lambda _cid: None, kinds={"maturity"})
        page = customer_events(s, t, day(0), day(30), lambda _cid: None, after=every[1].sort_key()[:2] + (
            every[1].kind, every[1].ref_id), limit=2)
    got = [(e.event_date, e.customer_id, e.key) for e in every]
    assert got == [
        (day(1), "w1", "corporate_action:ca1"),  # the dividend on 0700.HK, which w1 holds, on its ex date
        (day(3), "w1", "ipo_closes:ipo1"),  # w1's subscription (w2 cancelled theirs)
        (day(3), "w2", "maturity:m1"),
        (day(4), "w2", "corporate_action:ca2"),  # the split on 0005.HK: w2 still holds it, w1 sold it
        (day(9), "w1", "ipo_listing:ipo1"),
    ]  # m2 matures after the period; ipo2 has no subscriber
    assert [(e.event_date, e.key) for e in wide] == [(day(3), "ipo_closes:ipo1"), (day(5), "ipo_opens:ipo2"),
                                                     (day(7), "ipo_closes:ipo2")]
    assert [e.key for e in one] == ["corporate_action:ca1", "ipo_closes:ipo1", "ipo_listing:ipo1"]
    assert [e.key for e in soon] == ["corporate_action:ca1", "ipo_closes:ipo1", "maturity:m1"]
    assert [e.key for e in only] == ["maturity:m1"]
    assert [(e.customer_id, e.key) for e in page] == [("w2", "maturity:m1"), ("w2", "corporate_action:ca2")]
    # a customer's calendar: their ipo1 close once (as theirs), the other windows as brokerage-wide events
    merged = merge_brokerage(one, wide)
    assert [(e.key, e.customer_id) for e in merged] == [
        ("corporate_action:ca1", "w1"), ("ipo_closes:ipo1", "w1"), ("ipo_opens:ipo2", None),
        ("ipo_closes:ipo2", None), ("ipo_listing:ipo1", "w1")]
    assert every[0].title == "Dividend: 0700.HK" and title("ipo_closes", "Acme", "9999.HK") == (
        "IPO subscription closes: Acme (9999.HK)")


async def test_calendar_api_scope_masking_paging_holds_and_360(world):  # noqa: F811
    c, feed, feed_assign, token, client = world
    feed(registered("w1", 1), registered("w2", 2), registered("w3", 3))
    feed_assign(assigned("w1", "m-1", "team-a"), assigned("w2", "m-2", "team-b"))
    handler(c).apply("brokerage.wealth", 0, [ev(p) for p in facts()], 20)
    admin, mgr = token("admin"), token("manager", "m-1", team_id="team-a")
    span = {"from": day(0).isoformat(), "to": day(30).isoformat()}

    r = await client.get("/customers/w1/calendar", params=span, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(i["event_key"], i["scope"]) for i in body["items"]] == [
        ("corporate_action:ca1", "customer"), ("ipo_closes:ipo1", "customer"), ("ipo_opens:ipo2", "brokerage"),
        ("ipo_closes:ipo2", "brokerage"), ("ipo_listing:ipo1", "customer")]
    assert body["items"][0]["amount"] == "2.4" and body["items"][1]["quantity"] == "1000"
    assert [(h["security"], h["quantity"]) for h in body["holdings"]] == [("0700.HK", "300")]
    assert (await client.get("/customers/w2/calendar", params=span, headers=mgr)).status_code == 404  # scope
    assert (await client.get("/customers/nobody/calendar", headers=admin)).status_code == 404
    bad = await client.get("/customers/w1/calendar", params={"from": "2025-03-10", "to": "2025-03-01"},
                           headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.to"
    assert (await client.get("/customers/w1/calendar", params={"kind": "nope"}, headers=admin)).status_code == 422
    assert (await client.get("/calendar")).status_code == 401

    # the caller's customers, in pages of 2, names masked without CustomerPiiRead
    seen, cursor = [], None
    while True:
        params = {**span, "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/calendar", params=params, headers=token("auditor"))
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["brokerage"]) == (3 if cursor is None else 0)
        seen += [(i["customer_id"], i["event_key"], i["name"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [s[:2] for s in seen] == [("w1", "corporate_action:ca1"), ("w1", "ipo_closes:ipo1"), ("w2", "maturity:m1"),
                                     ("w2", "corporate_action:ca2"), ("w1", "ipo_listing:ipo1")]
    assert all(s[2] != f"Name {s[0]}" and s[2].startswith("N") for s in seen)
    own = (await client.get("/calendar", params=span, headers=mgr)).json()
    assert {i["customer_id"] for i in own["items"]} == {"w1"}
    assert (await client.get("/calendar", params=span, headers=admin)).json()["items"][0]["name"] == "Name w1"
    assert (await client.get("/calendar", params={**span, "manager_id": "m-2"}, headers=mgr)).json()["items"] == []
    mine = (await client.get("/calendar", params={**span, "manager_id": "m-2", "kind": "maturity"},
                             headers=admin)).json()
    assert [i["event_key"] for i in mine["items"]] == ["maturity:m1"] and mine["brokerage"] == []
    other = await client.get("/calendar", params={**span, "cursor": cursor or "x"}, headers=admin)
    assert other.status_code == 422

    # the holdings filter of the list
    r = await client.get("/customers", params={"holds": "0005.HK"}, headers=admin)
    assert [i["customer_id"] for i in r.json()["items"]] == ["w2"]
    r = await client.get("/customers", params={"holds": "0700.HK"}, headers=mgr)
    assert [i["customer_id"] for i in r.json()["items"]] == ["w1"]
    assert (await client.get("/customers", params={"holds": "bad holds!"}, headers=admin)).status_code == 422

    # the 360's wealth section (the next 30 days from today: these facts' dates are in the past)
    w = (await client.get("/customers/w1/360", headers=admin)).json()["wealth"]
    assert [h["security"] for h in w["holdings"]] == ["0700.HK"] and isinstance(w["upcoming"], list)


async def test_reminders_once_per_customer_and_event_within_the_days(world):  # noqa: F811
    c, feed, *_ = world
    feed(registered("w1", 1), registered("w2", 2))
    handler(c).apply("brokerage.wealth", 0, [ev(p) for p in facts()], 20)
    now = at(60 * 24 * 70)
    reminders = Reminders(c.app, c.sessions, c.tables, days=3, today=lambda: D, clock=lambda: now)
    assert reminders.run_once() == 3  # ca1 (w1, day 1), ipo1 closes (w1, day 3), m1 (w2, day 3); ca2 on day 4
    assert reminders.run_once() == 0  # never twice
    with c.sessions() as s:
        rows = sorted(map(tuple, s.execute(select(c.tables.wealth.reminder.c.customer_id,
                                                  c.tables.wealth.reminder.c.event_key))))
    assert rows == [("w1", "corporate_action:ca1"), ("w1", "ipo_closes:ipo1"), ("w2", "maturity:m1")]
    later = Reminders(c.app, c.sessions, c.tables, days=3, today=lambda: day(1), clock=lambda: now)
    assert later.run_once() == 1  # ca2 comes within 3 days
    # a second scheduler that has not seen the rows yet: the aggregate's version 1 refuses the copy
    again = WealthReminder(customer_id="w2", event_key="maturity:m1", kind="maturity", event_date=day(3).isoformat(),
                           security=None, title="Maturity: HK Gov Bond 2025", days_before=3, due_at=now)
    with pytest.raises(Exception):  # noqa: B017 - the event store's IntegrityError
        c.app.save(again)
    # the outbox publishes each as crm.customer.wealth_event_due
    stored = list(c.app.events.get(again.id))
    (out,) = map_event(stored[0])
    assert isinstance(out.payload, WealthEventDue)
    assert (out.payload.customer_id, out.payload.event_key, out.payload.event_date, out.payload.days_before) == (
        "w2", "maturity:m1", day(3), 3)
