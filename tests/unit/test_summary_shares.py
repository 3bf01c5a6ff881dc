"""Conversions credited by attribution share (issue #19, seed 002 业绩归属): the owner of the stage a conversion
happened in is credited its assignment's share, the every-stage owner the rest, so a customer counts 1 in total;
Today's Summary, the shortcuts and the funnel show the fractions (totals never double); any delivery order and
replay give the same rows."""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.summary import samples as s
from services.summary.bootstrap import bootstrap
from services.summary.domain.daily import ALL, daily_contributions
from services.summary.domain.derive import CustomerTimeline, HistoryItem, share_of
from services.summary.domain.metrics import figure
from services.summary.projections.tables import metadata
from services.summary.queries.audience import Audience
from services.summary.queries.dashboard import shortcuts
from services.summary.queries.funnel import funnel_report
from services.summary.queries.summary import today_summary
from services.summary.rebuild import fingerprint
from services.summary.settings import SummarySettings

HK = ZoneInfo("Asia/Hong_Kong")
TODAY = date(2024, 6, 12)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


def n(text: str) -> datetime:
    return datetime.fromisoformat(text)


def h(at: str, eid: str, kind: str, a=None, b=None, c=None, d=None) -> HistoryItem:
    return HistoryItem(n(at), eid, kind, a, b, c, d)


BASE = [
    h("2024-06-01T01:00:00", "e01", "stage", "registered"),
    h("2024-06-01T01:00:00", "e02", "assign", "m1", "t1"),  # every stage, share 1
    h("2024-06-02T00:00:00", "e03", "stage", "pending_account_opening"),
    h("2024-06-04T03:00:00", "e05", "milestone", "opened"),
    h("2024-06-04T03:00:00", "e06", "stage", "pending_funding"),
    h("2024-06-06T00:00:00", "e07", "milestone", "funded"),
    h("2024-06-06T00:00:00", "e08", "stage", "funded"),
]


def facts_of(items):
    return {f.kind: f for f in CustomerTimeline(items).facts()}


def test_stage_owner_credited_its_share_the_every_stage_owner_the_rest():
    opening_owner = h("2024-06-03T00:00:00", "e04", "assign", "m2", "t2", "pending_account_opening", "0.6")
    facts = facts_of([*BASE, opening_owner])
    opened = facts["opened"]
    assert (opened.manager_id, opened.team_id, opened.share) == ("m2", "t2", Decimal("0.6000"))
    assert (opened.co_manager_id, opened.co_team_id) == ("m1", "t1")
    # funded happened in pending_funding: only the every-stage owner holds it, whole
    assert (facts["funded"].manager_id, facts["funded"].share, facts["funded"].co_manager_id) == ("m1", 1, None)
    # registration is not a conversion: whole, to the acquisition owner
    assert facts.get("registered") is None or facts["registered"].share == 1


def test_whole_when_nobody_else_holds_a_share():
    # a stage-specific share of 1 (the default) keeps today's rule: the stage owner wins outright
    whole = facts_of([*BASE, h("2024-06-03T00:00:00", "e04", "assign", "m2", "t2", "pending_account_opening")])
    assert (whole["opened"].manager_id, whole["opened"].share, whole["opened"].co_manager_id) == ("m2", 1, None)
    # the same manager in both slots, or no every-stage owner: the whole to the stage owner
    same = facts_of([*BASE, h("2024-06-03T00:00:00", "e04", "assign", "m1", "t1", "pending_account_opening", "0.3")])
    assert (same["opened"].manager_id, same["opened"].share) == ("m1", 1)
    alone = [i for i in BASE if i.kind != "assign"] + [
        h("2024-06-03T00:00:00", "e04", "assign", "m2", "t2", "pending_account_opening", "0.3")]
    assert (facts_of(alone)["opened"].manager_id, facts_of(alone)["opened"].share) == ("m2", 1)
    # an every-stage owner with a share below 1 and nobody else: whole
    lone = [h(i.at.isoformat(), i.event_id, i.kind, i.a, i.b, i.c, "0.5" if i.kind == "assign" else None)
            for i in BASE]
    assert facts_of(lone)["opened"].share == 1
    # unassigned from the stage before the opening: back to the every-stage owner, whole
    gone = facts_of([*BASE, h("2024-06-03T00:00:00", "e04", "assign", "m2", "t2", "pending_account_opening", "0.6"),
                     h("2024-06-03T12:00:00", "e04b", "unassign", "m2", "t2", "pending_account_opening")])
    assert (gone["opened"].manager_id, gone["opened"].share) == ("m1", 1)


def test_share_rounding_half_even_to_four_places_within_bounds():
    assert share_of("0.33335") == Decimal("0.3334") and share_of("0.33325") == Decimal("0.3332")
    assert share_of(None) == 1 and share_of("nonsense") == 1 and share_of("1.5") == 1
    assert figure(Decimal("0.6000")) == 0.6 and isinstance(figure(Decimal("2.0000")), int)


def test_daily_contributions_split_and_total_one():
    facts = [{"customer_id": "c1", "kind": "opened", "at": n("2024-06-12T03:00:00"), "manager_id": "m2",
              "team_id": "t2", "share": Decimal("0.3333"), "co_manager_id": "m1", "co_team_id": "t1"},
             {"customer_id": "c1", "kind": "rejected", "at": n("2024-06-12T03:00:00"), "manager_id": "m2",
              "team_id": "t2", "share": None, "co_manager_id": None, "co_team_id": None}]
    out = daily_contributions(HK, facts, [])
    day = TODAY
    assert out[(day, "account_openings", "m2", "t2")] == Decimal("0.3333")
    assert out[(day, "account_openings", "m1", "t1")] == Decimal("0.6667")
    assert out[(day, "account_openings", ALL, "t1")] + out[(day, "account_openings", ALL, "t2")] == 1
    assert out[(day, "account_openings", ALL, ALL)] == 1
    assert out[(day, "ao_opened", "m2", "t2")] == 1  # the account-opening dashboard stays whole (stage owner)
    assert out[(day, "ao_rejected", "m2", "t2")] == 1


def scenario() -> list:
    ev = []
    # c1: every-stage m1/t1; the opening stage's manager m2/t2 holds 0.6; opened today 11:00 HK, funded today
    ev += s.journey("c1", "m1", "t1", z("2024-06-01T00:00:00"), applied=z("2024-06-10T00:00:00"),
                    opened=z("2024-06-12T03:00:00"), funded=z("2024-06-12T05:00:00"))
    ev += [s.assigned("c1", "m2", "t2", z("2024-06-10T01:00:00"), stage="pending_account_opening", share="0.6")]
    # c2: m1 alone, opened today (whole)
    ev += s.journey("c2", "m1", "t1", z("2024-06-01T00:00:00"), applied=z("2024-06-11T00:00:00"),
                    opened=z("2024-06-12T04:00:00"))
    # c3: every-stage m3/t2 with a funding-stage m1/t1 holding 0.25; funded today
    ev += s.journey("c3", "m3", "t2", z("2024-06-01T00:00:00"), applied=z("2024-06-02T00:00:00"),
                    opened=z("2024-06-03T00:00:00"), funded=z("2024-06-12T06:00:00"))
    ev += [s.assigned("c3", "m1", "t1", z("2024-06-05T00:00:00"), stage="pending_funding", share="0.25")]
    return [s.as_event(e) for e in ev]


def make(tmp_path, label):
    c = bootstrap(SummarySettings(database_url=f"sqlite:///{tmp_path / (label + '.db')}", timezone="Asia/Hong_Kong"))
    metadata.create_all(c.engine)
    return c


def feed(c, events, batch):
    for i in range(0, len(events), batch):
        c.handler.apply("crm.test", 0, events[i : i + batch], i + batch)


def today(c, aud):
    with c.sessions() as sess:
        got = today_summary(sess, HK, TODAY, aud)
    return {k: got["metrics"][k]["today"] for k in ("account_openings", "fundings")}


def test_today_summary_credits_by_share_in_any_order(tmp_path):
    events = scenario()
    c = make(tmp_path, "in_order")
    feed(c, events, 50)
    assert today(c, Audience(managers=("m1",))) == {"account_openings": 1.4, "fundings": 1.25}
    assert today(c, Audience(managers=("m2",))) == {"account_openings": 0.6, "fundings": 0}
    assert today(c, Audience(managers=("m3",))) == {"account_openings": 0, "fundings": 0.75}
    assert today(c, Audience(teams=("t1",))) == {"account_openings": 1.4, "fundings": 1.25}
    assert today(c, Audience(teams=("t2",))) == {"account_openings": 0.6, "fundings": 0.75}
    assert today(c, Audience()) == {"account_openings": 2, "fundings": 2}  # each customer counts 1 in total
    with c.sessions() as sess:
        tiles = shortcuts(sess, HK, TODAY, Audience(managers=("m2",)), "m2")
        team = today_summary(sess, HK, TODAY, Audience(teams=("t2",)))
    assert (tiles["opened_today"], tiles["funded_today"]) == (0.6, 0)
    per = {m["manager_id"]: m["metrics"]["fundings"]["today"] for m in team["managers"]}
    assert per == {"m2": 0, "m3": 0.75}
    with c.sessions() as sess:
        expected = fingerprint(sess)
    # shuffled, in small batches, re-delivered: the same rows (the counters moved by differences included)
    for seed in range(3):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        other = make(tmp_path, f"shuffled{seed}")
        feed(other, shuffled, 3)
        feed(other, shuffled[:5], 2)
        with other.sessions() as sess:
            assert fingerprint(sess) == expected
        other.engine.dispose()
    c.engine.dispose()


def funnel(c, aud, group_by):
    with c.sessions() as sess:
        return funnel_report(sess, HK, date(2024, 6, 1), TODAY, aud, group_by=group_by, in_database=False)


def test_funnel_credits_conversions_by_share_and_totals_never_double(tmp_path):
    c = make(tmp_path, "funnel")
    feed(c, scenario(), 50)
    by_manager = funnel(c, Audience(), "manager")
    counts = {g["key"]: g["counts"] for g in by_manager["groups"]}
    assert counts == {"m1": {"registered": 2, "opened": 1.4, "funded": 1.25, "traded": 0},
                      "m2": {"registered": 0, "opened": 0.6, "funded": 0, "traded": 0},
                      "m3": {"registered": 1, "opened": 1, "funded": 0.75, "traded": 0}}
    assert by_manager["total"]["counts"] == {"registered": 3, "opened": 3, "funded": 2, "traded": 0}
    for group_by in ("manager", "team", "cohort"):  # every customer counts 1 in total, whatever the grouping
        r = funnel(c, Audience(), group_by)
        for name in ("registered", "opened", "funded", "traded"):
            parts = sum(Decimal(str(g["counts"][name])) for g in r["groups"])
            assert parts == Decimal(str(r["total"]["counts"][name])) == Decimal(
                str(by_manager["total"]["counts"][name])), (group_by, name)
    by_team = {g["key"]: g["counts"] for g in funnel(c, Audience(), "team")["groups"]}
    assert (by_team["t1"]["opened"], by_team["t2"]["opened"], by_team["t2"]["funded"]) == (1.4, 1.6, 0.75)
    m2 = funnel(c, Audience(managers=("m2",)), "none")["total"]
    assert m2["counts"] == {"registered": 0, "opened": 0.6, "funded": 0, "traded": 0}
    assert m2["steps"]["registered_to_opened"]["conversion_rate"] is None
    m1 = funnel(c, Audience(managers=("m1",)), "none")["total"]
    step = m1["steps"]["registered_to_opened"]
    assert (step["from"], step["to"], step["conversion_rate"]) == (2, 1.4, 0.7)
    # shuffled and re-delivered: the same credits
    other = make(tmp_path, "funnel-shuffled")
    shuffled = scenario()
    random.Random(7).shuffle(shuffled)
    feed(other, shuffled, 4)
    feed(other, shuffled[:6], 3)
    assert funnel(other, Audience(), "manager") == by_manager
    other.engine.dispose()
    c.engine.dispose()
