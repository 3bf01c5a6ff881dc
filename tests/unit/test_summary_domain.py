"""Summary domain: local-day windows, per-customer derivation (attribution, stage at a moment, late events)
and metric arithmetic — every expectation computed by hand."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.summary.domain.clock import Comparison, local_date_of, local_day, local_range, week_start
from services.summary.domain.derive import CustomerTimeline, HistoryItem
from services.summary.domain.metrics import mean_seconds, median_seconds, rate

HK = ZoneInfo("Asia/Hong_Kong")
NY = ZoneInfo("America/New_York")


def dt(s: str) -> datetime:
    return datetime.fromisoformat(s)


def test_hong_kong_day_is_utc_16_to_16():
    w = local_day(date(2024, 6, 12), HK)
    assert (w.start, w.end) == (dt("2024-06-11T16:00:00"), dt("2024-06-12T16:00:00"))
    assert w.contains(dt("2024-06-12T15:59:59")) and not w.contains(dt("2024-06-12T16:00:00"))
    # 23:30 UTC on the 11th is 07:30 on the 12th in Hong Kong
    assert local_date_of(dt("2024-06-11T23:30:00"), HK) == date(2024, 6, 12)


def test_dst_days_are_23_and_25_hours():
    spring = local_day(date(2024, 3, 10), NY)
    autumn = local_day(date(2024, 11, 3), NY)
    assert (spring.end - spring.start).total_seconds() == 23 * 3600
    assert (autumn.end - autumn.start).total_seconds() == 25 * 3600
    r = local_range(date(2024, 3, 9), date(2024, 3, 10), NY)
    assert (r.start, r.end) == (dt("2024-03-09T05:00:00"), dt("2024-03-11T04:00:00"))


def test_comparison_days_and_week_start():
    c = Comparison(date(2024, 6, 12))  # a Wednesday
    assert c.days() == {"today": date(2024, 6, 12), "yesterday": date(2024, 6, 11), "last_week": date(2024, 6, 5)}
    assert week_start(date(2024, 6, 12)) == date(2024, 6, 10)
    assert week_start(date(2024, 6, 10)) == date(2024, 6, 10)


def h(at: str, eid: str, kind: str, a=None, b=None, c=None) -> HistoryItem:
    return HistoryItem(dt(at), eid, kind, a, b, c)


HISTORY = [
    h("2024-06-01T01:00:00", "e01", "milestone", "registered"),
    h("2024-06-01T01:00:00", "e02", "stage", "registered"),
    h("2024-06-01T01:05:00", "e03", "assign", "m1", "t1"),
    h("2024-06-02T03:00:00", "e04", "milestone", "applied"),
    h("2024-06-02T03:00:00", "e05", "stage", "pending_account_opening"),
    h("2024-06-03T00:00:00", "e06", "assign", "m2", "t2"),  # reassigned before the opening
    h("2024-06-04T03:00:00", "e07", "milestone", "opened"),
    h("2024-06-04T03:00:00", "e08", "stage", "pending_funding"),
    h("2024-06-05T00:00:00", "e09", "assign", "m3", "t3", "pending_funding"),  # funding-stage manager
    h("2024-06-06T00:00:00", "e10", "milestone", "funded"),
    h("2024-06-06T00:00:00", "e11", "stage", "funded"),
]


def test_facts_attributed_to_the_manager_in_force_at_the_time():
    tl = CustomerTimeline(HISTORY)
    facts = {f.kind: f for f in tl.facts()}
    assert (facts["registered"].manager_id, facts["registered"].team_id) == ("m1", "t1")  # first owner after
    assert facts["applied"].manager_id == "m1"
    assert facts["opened"].manager_id == "m2"
    assert facts["funded"].manager_id == "m3"  # the stage-specific assignment wins for pending_funding
    # durations: applied 06-02 03:00 → opened 06-04 03:00 = 172800 s; registered 06-01 01:00 → 3 d 2 h = 266400 s
    assert facts["opened"].secs_since_applied == 172800
    assert facts["opened"].secs_since_registered == 266400
    assert "traded" not in facts
    assert tl.current_stage() == ("funded", dt("2024-06-06T00:00:00"))
    assert tl.current_owner().manager_id == "m2"  # funded stage → the all-stage assignment


def test_stage_at_a_moment():
    tl = CustomerTimeline(HISTORY)
    assert tl.stage_at(dt("2024-06-01T00:59:59")) is None
    assert tl.stage_at(dt("2024-06-01T01:00:00")) == "registered"
    assert tl.stage_at(dt("2024-06-03T12:00:00")) == "pending_account_opening"
    assert tl.stage_at(dt("2024-06-04T03:00:00")) == "pending_funding"


def test_any_delivery_order_derives_the_same():
    expected = CustomerTimeline(HISTORY).facts()
    for perm in itertools.islice(itertools.permutations(HISTORY), 0, 5000, 97):
        assert CustomerTimeline(perm + perm[:3]).facts() == expected  # shuffled and partly duplicated


def test_late_earlier_milestone_moves_the_fact_back():
    late = [*HISTORY, h("2024-06-03T23:00:00", "e99", "milestone", "opened")]  # an earlier opening, delivered late
    opened = {f.kind: f for f in CustomerTimeline(late).facts()}["opened"]
    assert opened.at == dt("2024-06-03T23:00:00")
    assert opened.manager_id == "m2"
    assert opened.secs_since_applied == 158400  # 44 h


def test_unassign_returns_to_pool_and_rejections_are_per_application():
    items = [
        h("2024-06-01T00:00:00", "a1", "assign", "m1", "t1"),
        h("2024-06-02T00:00:00", "a2", "unassign", "m1", "t1"),
        h("2024-06-03T00:00:00", "r1", "rejected", b="app-1"),
        h("2024-06-04T00:00:00", "r2", "rejected", b="app-2"),
        h("2024-06-04T00:00:01", "r3", "rejected", b="app-2"),  # re-published rejection of app-2
    ]
    tl = CustomerTimeline(items)
    assert tl.owner_at(dt("2024-06-01T12:00:00"), None).manager_id == "m1"
    assert tl.owner_at(dt("2024-06-02T12:00:00"), None).manager_id is None
    rejected = [f for f in tl.facts() if f.kind == "rejected"]
    assert [(f.ref, f.at) for f in rejected] == [("app-1", dt("2024-06-03T00:00:00")),
                                                 ("app-2", dt("2024-06-04T00:00:00"))]


def test_rates_means_and_medians():
    assert rate(2, 3) == 0.6667
    assert rate(1, 8) == 0.125
    assert rate(0, 0) is None
    assert mean_seconds(7, 2) == 4  # 3.5 → 4 (half-even)
    assert mean_seconds(5, 2) == 2  # 2.5 → 2 (half-even)
    assert mean_seconds(None, 0) is None
    assert median_seconds([30, 10, 20]) == 20
    assert median_seconds([10, 20, 30, 41]) == 25  # (20 + 30) / 2
    assert median_seconds([1, 2]) == 2  # 1.5 → 2 (half-even)
    assert median_seconds([]) is None


def test_ingest_keeps_only_what_the_summary_counts():
    from services.summary import samples as s
    from services.summary.projections.ingest import collect, tags_text

    at = datetime.fromisoformat("2024-06-01T00:00:00+00:00")
    withdrawal = s.first_deposit("c1", at).model_copy(update={"payload": {
        **s.first_deposit("c1", at).payload, "direction": "withdrawal", "first_deposit": False}})
    events = [s.as_event(e) for e in (
        withdrawal, s.account("c1", "closed", at), s.first_trade("c1", at),
        s.account("c2", "opened", at, application_id="app-9"),
    )]
    batch = collect(events)
    assert batch.ignored == 2  # the withdrawal and the account closure
    assert [(h["customer_id"], h["kind"], h["a"], h["b"]) for h in batch.history] == [
        ("c1", "milestone", "traded", "tr-c1"), ("c2", "milestone", "opened", "app-9")]
    assert batch.history[0]["at"] == datetime(2024, 6, 1)  # stored as naive UTC
    assert tags_text(["vip", " hk ", "a|b", "vip", ""]) == "|a/b|hk|vip|"


def test_follow_ups_on_campaign_tasks_count_as_campaign_follow_ups():
    from services.summary.domain.daily import daily_contributions

    fus = [  # c1 twice on its campaign task in one day (one customer), c2 on an ordinary task, c3 on no task
        {"customer_id": "c1", "stage": "funded", "recorded_at": dt("2024-06-12T02:00:00"), "manager_id": "m7",
         "team_id": "t1", "task_node": "campaign_followup"},
        {"customer_id": "c1", "stage": "funded", "recorded_at": dt("2024-06-12T05:00:00"), "manager_id": "m7",
         "team_id": "t1", "task_node": "campaign_followup"},
        {"customer_id": "c2", "stage": "traded", "recorded_at": dt("2024-06-12T03:00:00"), "manager_id": "m7",
         "team_id": "t1", "task_node": "first_trade"},
        {"customer_id": "c3", "stage": "traded", "recorded_at": dt("2024-06-12T03:00:00"), "manager_id": "m7",
         "team_id": "t1"},
    ]
    got = daily_contributions(HK, [], fus)
    d12 = date(2024, 6, 12)
    assert {k: v for k, v in got.items() if k[1] == "campaign_follow_ups"} == {
        (d12, "campaign_follow_ups", "m7", "t1"): 1, (d12, "campaign_follow_ups", "*", "t1"): 1,
        (d12, "campaign_follow_ups", "*", "*"): 1}
    # a campaign follow-up also counts under its customer's stage
    assert got[(d12, "funded_follow_ups", "m7", "t1")] == 1


def test_daily_contributions_per_manager_team_and_everyone():
    from services.summary.domain.daily import METRICS, daily_contributions

    facts = [
        {"customer_id": "c1", "kind": "opened", "at": dt("2024-06-11T16:30:00"), "manager_id": "m1", "team_id": "t1"},
        {"customer_id": "c2", "kind": "opened", "at": dt("2024-06-11T15:59:00"), "manager_id": None, "team_id": None},
        {"customer_id": "c1", "kind": "applied", "at": dt("2024-06-11T10:00:00"), "manager_id": "m1", "team_id": "t1"},
    ]
    fus = [  # c1 twice in one Hong Kong day, by m1 and by m2; c3 once by m1
        {"customer_id": "c1", "stage": "pending_funding", "recorded_at": dt("2024-06-11T17:00:00"),
         "manager_id": "m1", "team_id": "t1"},
        {"customer_id": "c1", "stage": "pending_funding", "recorded_at": dt("2024-06-12T02:00:00"),
         "manager_id": "m1", "team_id": "t1"},
        {"customer_id": "c1", "stage": "pending_funding", "recorded_at": dt("2024-06-12T03:00:00"),
         "manager_id": "m2", "team_id": "t1"},
        {"customer_id": "c3", "stage": "pending_funding", "recorded_at": dt("2024-06-12T04:00:00"),
         "manager_id": "m1", "team_id": "t1"},
        {"customer_id": "c3", "stage": "traded", "recorded_at": dt("2024-06-12T04:00:00"),
         "manager_id": "m1", "team_id": "t1"},  # no metric for traded customers
    ]
    facts[0]["secs_since_applied"], facts[0]["secs_since_registered"] = 3600, 7200
    got = daily_contributions(HK, facts, fus)
    d12, d11 = date(2024, 6, 12), date(2024, 6, 11)
    assert {(k[1], k[2], k[3], v) for k, v in got.items() if k[0] == d12 and k[1].startswith("ao_")} == {
        (m, who, team, v) for m, v in (("ao_opened", 1), ("ao_submitted_secs", 3600), ("ao_submitted_n", 1),
                                       ("ao_registered_secs", 7200), ("ao_registered_n", 1))
        for who, team in (("m1", "t1"), ("*", "t1"), ("*", "*"))}
    assert {k: v for k, v in got.items() if k[1] in METRICS} == {
        (d12, "account_openings", "m1", "t1"): 1, (d12, "account_openings", "*", "t1"): 1,
        (d12, "account_openings", "*", "*"): 1,
        (d11, "account_openings", "", ""): 1, (d11, "account_openings", "*", ""): 1,
        (d11, "account_openings", "*", "*"): 1,
        (d12, "pending_funding_follow_ups", "m1", "t1"): 2, (d12, "pending_funding_follow_ups", "m2", "t1"): 1,
        (d12, "pending_funding_follow_ups", "*", "t1"): 2, (d12, "pending_funding_follow_ups", "*", "*"): 2,
    }


def test_team_queued_campaign_follow_up_counts_for_its_team_not_the_customers_manager():
    from collections import Counter

    from services.summary.domain.derive import Owner
    from services.summary.projections.facts import _due_items, contributions

    due = datetime(2026, 3, 2, 9, 0)
    owner = Owner(manager_id="m-own", team_id="t-own")
    queued = {"task_id": "tq", "node": "campaign_followup", "assignee_id": None, "team_id": "t-camp",
              "due_at": due, "created_at": due, "closed_at": None}
    chosen = {**queued, "task_id": "tc", "assignee_id": "m-camp"}
    node = {**queued, "task_id": "tn", "node": "pending_funding", "team_id": None}  # follows the owner
    items = {i["item_id"]: i for i in _due_items("c1", "pending_funding", owner, [queued, chosen, node], [])}
    assert (items["task:tq"]["manager_id"], items["task:tq"]["team_id"]) == (None, "t-camp")
    assert (items["task:tc"]["manager_id"], items["task:tc"]["team_id"]) == ("m-camp", "t-camp")
    assert (items["task:tn"]["manager_id"], items["task:tn"]["team_id"]) == ("m-own", "t-own")

    class Loaded:
        state = {"c1": {"manager_id": "m-own", "team_id": "t-own"}}
        tasks = {"c1": [queued, chosen, node]}
        kyc: dict[str, list[dict[str, object]]] = {}

    got = contributions(Loaded())  # type: ignore[arg-type]
    assert got == Counter({("task", "campaign_followup", "", "t-camp"): 1,
                           ("task", "campaign_followup", "m-camp", "t-camp"): 1,
                           ("task", "pending_funding", "m-own", "t-own"): 1})
