"""Summary read models and metrics on SQLite, with hand-computed expectations: Today's Summary across the
Hong Kong day boundary, late events, re-delivery, any delivery order, node counts, the daily follow-up list,
account-opening duration and success rate, and the funnel."""

from __future__ import annotations

import random
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.summary import samples as s
from services.summary.bootstrap import bootstrap
from services.summary.projections.tables import metadata
from services.summary.queries.audience import Audience
from services.summary.queries.dashboard import account_opening, node_counts, shortcuts
from services.summary.queries.funnel import funnel_report
from services.summary.queries.summary import DueFilter, due_list, today_summary
from services.summary.rebuild import fingerprint
from services.summary.settings import SummarySettings

HK = ZoneInfo("Asia/Hong_Kong")
TODAY = date(2024, 6, 12)  # a Wednesday; yesterday 06-11, same weekday last week 06-05


def z(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


def scenario() -> list:
    ev = []
    # c1 (m1/t1): opened 00:30 HK today (16:30Z the day before), first deposit 23:59 HK today
    ev += s.journey("c1", "m1", "t1", z("2024-06-01T00:00:00"), applied=z("2024-06-10T16:30:00"),
                    opened=z("2024-06-11T16:30:00"), funded=z("2024-06-12T15:59:00"))
    # c2 (m1/t1): opened 23:59 HK yesterday
    ev += s.journey("c2", "m1", "t1", z("2024-06-11T00:00:00"), applied=z("2024-06-11T03:59:00"),
                    opened=z("2024-06-11T15:59:00"))
    # c3 (m2/t1): opened last week
    ev += s.journey("c3", "m2", "t1", z("2024-06-04T00:00:00"), applied=z("2024-06-04T02:00:00"),
                    opened=z("2024-06-05T02:00:00"))
    # c4 (m3/t2): opened today, no application event recorded (stage change only)
    ev += [s.registered("c4", z("2024-06-12T00:00:00")), s.stage("c4", "registered", z("2024-06-12T00:00:00")),
           s.assigned("c4", "m3", "t2", z("2024-06-12T00:00:00")), s.account("c4", "opened", z("2024-06-12T03:00:00")),
           s.stage("c4", "pending_funding", z("2024-06-12T03:00:00"))]
    # c5 (m1/t1): rejected today
    ev += s.journey("c5", "m1", "t1", z("2024-06-10T00:00:00"), applied=z("2024-06-11T00:00:00"))
    ev += [s.account("c5", "rejected", z("2024-06-12T04:00:00"), application_id="app-1")]
    # follow-ups (the customer's stage at that moment decides which metric they count in)
    ev += [
        s.follow_up("fu1", "c1", "m1", z("2024-06-11T17:00:00"), intent="high", tags=["vip", "hk"]),
        s.follow_up("fu2", "c1", "m1", z("2024-06-11T16:10:00")),  # before the opening: pending account opening
        s.follow_up("fu3", "c1", "m1", z("2024-06-12T01:00:00"), next_at=z("2024-06-12T08:00:00"),
                    intent="medium", tags=["vip"]),
        s.follow_up("fu4", "c2", "m1", z("2024-06-11T10:00:00")),
        s.follow_up("fu5", "c3", "m2", z("2024-06-05T01:00:00")),
    ]
    # tasks and KYC
    ev += [
        s.task_created("t-1", "c2", "pending_funding", due=z("2024-06-10T01:00:00"), at=z("2024-06-09T00:00:00"),
                       assignee="m1", team="t1"),  # overdue
        s.task_created("t-2", "c4", "pending_funding", due=z("2024-06-12T09:00:00"), at=z("2024-06-12T03:00:00"),
                       assignee="m3", team="t2"),
        s.task_created("t-3", "c3", "pending_funding", due=z("2024-06-13T09:00:00"), at=z("2024-06-05T03:00:00"),
                       assignee="m2", team="t1"),  # due tomorrow: not in today's list
        s.task_closed("t-4", "c5", "pending_account_opening", z("2024-06-12T04:00:00")),  # closed before created
        s.task_created("t-4", "c5", "pending_account_opening", due=z("2024-06-12T01:00:00"),
                       at=z("2024-06-11T00:00:00"), assignee="m1", team="t1"),
        s.kyc_state("k1", "c5", "pending", z("2024-06-11T00:00:00")),
        s.kyc_decided("k1", "c5", "rejected", z("2024-06-12T04:00:00")),
        s.kyc_state("k2", "c2", "in_review", z("2024-06-11T05:00:00")),
    ]
    return [s.as_event(e) for e in ev]


@pytest.fixture()
def make(tmp_path):
    made = []

    def _make(label: str = "rm"):
        settings = SummarySettings(database_url=f"sqlite:///{tmp_path / (label + '.db')}", timezone="Asia/Hong_Kong")
        c = bootstrap(settings)
        metadata.create_all(c.engine)
        made.append(c)
        return c

    yield _make
    for c in made:
        c.engine.dispose()


class Feed:
    def __init__(self, c):
        self.c, self.offset = c, 0

    def __call__(self, events, batch: int = 50):
        for i in range(0, len(events), batch):
            part = events[i : i + batch]
            self.offset += len(part)
            self.c.handler.apply("crm.test", 0, part, self.offset)


def q(c, fn, *args, **kw):
    with c.sessions() as sess:
        return fn(sess, *args, **kw)


def metric(summary, name):
    m = summary["metrics"][name]
    return m["today"], m["yesterday"], m["last_week"]


def test_today_summary_per_manager_team_and_all(make):
    c = make()
    Feed(c)(scenario())
    m1 = q(c, today_summary, HK, TODAY, Audience(managers=("m1",)))
    assert metric(m1, "account_openings") == (1, 1, 0)
    assert metric(m1, "fundings") == (1, 0, 0)
    assert metric(m1, "pending_account_opening_follow_ups") == (1, 1, 0)  # fu2 today, fu4 yesterday
    assert metric(m1, "pending_funding_follow_ups") == (1, 0, 0)  # fu1 and fu3: one customer
    assert metric(m1, "registration_follow_ups") == (0, 0, 0)
    assert m1["metrics"]["account_openings"]["change_vs_last_week"] == 1
    assert m1["managers"] == []
    team = q(c, today_summary, HK, TODAY, Audience(teams=("t1",)))
    assert metric(team, "account_openings") == (1, 1, 1)
    assert metric(team, "pending_account_opening_follow_ups") == (1, 1, 1)
    per = {m["manager_id"]: m["metrics"] for m in team["managers"]}
    assert set(per) == {"m1", "m2"}
    # the directory adds an active manager of the team with nothing to show; resigned ones stay out
    Feed(c)([s.as_event(e) for e in (s.manager_changed("m7", "t1", z("2024-06-01T00:00:00")),
                                     s.manager_changed("m8", "t1", z("2024-06-01T00:00:00"), status="resigned"))])
    with_roster = q(c, today_summary, HK, TODAY, Audience(teams=("t1",)))
    assert [m["manager_id"] for m in with_roster["managers"]] == ["m1", "m2", "m7"]
    assert with_roster["managers"][2]["metrics"]["account_openings"] == {"today": 0, "yesterday": 0, "last_week": 0}
    assert per["m2"]["account_openings"] == {"today": 0, "yesterday": 0, "last_week": 1}
    everyone = q(c, today_summary, HK, TODAY, Audience())
    assert metric(everyone, "account_openings") == (2, 1, 1)


def test_late_assignment_and_late_milestone_update_past_days(make):
    c = make()
    feed = Feed(c)
    feed(scenario())
    # delivered late: c2 had been handed to m2 (t1) before its opening yesterday
    feed([s.as_event(s.assigned("c2", "m2", "t1", z("2024-06-11T12:00:00")))])
    assert metric(q(c, today_summary, HK, TODAY, Audience(managers=("m1",))), "account_openings") == (1, 0, 0)
    assert metric(q(c, today_summary, HK, TODAY, Audience(managers=("m2",))), "account_openings") == (0, 1, 1)
    # delivered late: an opening last Wednesday 23:00 HK (15:00Z) for a customer we had not seen open
    feed([s.as_event(s.account("c5", "opened", z("2024-06-05T15:00:00"), application_id="app-0"))])
    assert metric(q(c, today_summary, HK, TODAY, Audience(managers=("m1",))), "account_openings") == (1, 0, 0)
    # c5 was assigned (to m1) only on 06-10: last week's opening had nobody in force → unattributed
    assert metric(q(c, today_summary, HK, TODAY, Audience()), "account_openings") == (2, 1, 2)


def test_redelivery_and_any_order_give_identical_read_models(make):
    events = scenario()
    a = make("in_order")
    Feed(a)(events)
    Feed(a)(events)  # re-delivered at new offsets: the same event ids have one effect
    b = make("shuffled")
    shuffled = events[:]
    random.Random(7).shuffle(shuffled)
    Feed(b)(shuffled, batch=7)
    c = make("one_by_one_reversed")
    Feed(c)(list(reversed(events)), batch=1)
    fa, fb, fc = (q(x, fingerprint) for x in (a, b, c))
    assert fa == fb == fc


def test_node_counts(make):
    c = make()
    Feed(c)(scenario())
    everyone = q(c, node_counts, Audience())
    assert everyone["customers_per_stage"] == {"registered": 0, "pending_account_opening": 1,
                                               "pending_funding": 3, "funded": 1, "traded": 0}
    assert everyone["kyc_cases_per_state"] == {"in_review": 1, "rejected": 1}
    assert everyone["open_tasks_per_node"] == {"pending_funding": 3}  # t-4 closed
    m1 = q(c, node_counts, Audience(managers=("m1",)))
    assert m1["customers_per_stage"]["funded"] == 1 and m1["customers_per_stage"]["pending_funding"] == 1
    assert m1["open_tasks_per_node"] == {"pending_funding": 1}
    # a reassignment moves the customer's stage and KYC case to the new manager's counts
    feed = Feed(c)
    feed.offset = 10_000
    feed([s.as_event(s.assigned("c2", "m9", "t9", z("2024-06-12T06:00:00")))])
    m9 = q(c, node_counts, Audience(managers=("m9",)))
    assert m9["customers_per_stage"]["pending_funding"] == 1 and m9["kyc_cases_per_state"] == {"in_review": 1}
    assert q(c, node_counts, Audience(managers=("m1",)))["kyc_cases_per_state"] == {"rejected": 1}  # c5's
    assert q(c, node_counts, Audience())["customers_per_stage"]["pending_funding"] == 3


def test_daily_follow_up_list_filters(make):
    c = make()
    Feed(c)(scenario())
    every = q(c, due_list, HK, TODAY, Audience(), DueFilter(), limit=50)
    ids = [i["item_id"] for i in every["items"]]
    assert ids == ["task:t-1", "next:c1", "task:t-2"]  # by due time; t-3 due tomorrow, t-4 closed
    assert [i["overdue"] for i in every["items"]] == [True, False, False]
    assert q(c, due_list, HK, TODAY, Audience(), DueFilter(overdue=True), limit=50)["items"][0][
        "item_id"] == "task:t-1"
    by_tag = q(c, due_list, HK, TODAY, Audience(), DueFilter(tags=("vip",)), limit=50)
    assert [i["item_id"] for i in by_tag["items"]] == ["next:c1"]
    assert by_tag["items"][0]["intent"] == "medium" and by_tag["items"][0]["tags"] == ["vip"]
    assert q(c, due_list, HK, TODAY, Audience(), DueFilter(tags=("hk",)), limit=50)["items"] == []
    assert [i["item_id"] for i in q(c, due_list, HK, TODAY, Audience(managers=("m3",)), DueFilter(node="pending_funding"),
                                    limit=50)["items"]] == ["task:t-2"]
    page1 = q(c, due_list, HK, TODAY, Audience(), DueFilter(), limit=2)
    page2 = q(c, due_list, HK, TODAY, Audience(), DueFilter(), limit=2, after=page1["next_key"])
    assert [i["item_id"] for i in page1["items"] + page2["items"]] == ids and page2["next_key"] is None


def test_account_opening_duration_and_success_rate(make):
    c = make()
    Feed(c)(scenario())
    r = q(c, account_opening, HK, date(2024, 6, 5), TODAY, Audience())
    assert (r["opened"], r["rejected"], r["decided"], r["success_rate"]) == (4, 1, 5, 0.8)
    # submitted → opened: c1 86400, c2 43200, c3 86400 (c4 has no application) → 216000 / 3
    assert (r["avg_seconds_submitted_to_opened"], r["samples_submitted_to_opened"]) == (72000, 3)
    # registered → opened: 923400 + 57540 + 93600 + 10800 = 1085340 / 4
    assert (r["avg_seconds_registered_to_opened"], r["samples_registered_to_opened"]) == (271335, 4)
    # the window follows Hong Kong days: c2's opening (23:59 HK on 06-11) is outside [06-12, 06-12]
    today_only = q(c, account_opening, HK, TODAY, TODAY, Audience())
    assert (today_only["opened"], today_only["rejected"], today_only["success_rate"]) == (2, 1, 0.6667)


def test_funnel_rates_medians_and_cohorts(make):
    c = make()
    Feed(c)(scenario())
    r = q(c, funnel_report, HK, date(2024, 6, 1), TODAY, Audience(), group_by="cohort")
    total = r["total"]
    assert total["counts"] == {"registered": 5, "opened": 4, "funded": 1, "traded": 0}
    steps = total["steps"]
    assert steps["registered_to_opened"] == {"from": 5, "to": 4, "conversion_rate": 0.8, "median_seconds": 75570}
    assert steps["opened_to_funded"] == {"from": 4, "to": 1, "conversion_rate": 0.25, "median_seconds": 84540}
    assert steps["funded_to_traded"] == {"from": 1, "to": 0, "conversion_rate": 0.0, "median_seconds": None}
    cohorts = {g["key"]: g["counts"]["registered"] for g in r["groups"]}
    assert cohorts == {"2024-05-27": 1, "2024-06-03": 1, "2024-06-10": 3}
    by_team = q(c, funnel_report, HK, date(2024, 6, 1), TODAY, Audience(), group_by="team")
    assert {g["key"]: g["counts"]["opened"] for g in by_team["groups"]} == {"t1": 3, "t2": 1}
    # as_of: only what was reached by then (c2's opening at 15:59Z counts, c1's at 16:30Z not yet)
    early = q(c, funnel_report, HK, date(2024, 6, 1), TODAY, Audience(), group_by="none",
              as_of=datetime(2024, 6, 11, 16, 0))
    assert early["total"]["counts"] == {"registered": 4, "opened": 2, "funded": 0, "traded": 0}


def test_stage_changes_at_the_same_instant_resolve_to_the_furthest_stage() -> None:
    from datetime import UTC, datetime

    from services.summary.domain.derive import CustomerTimeline, HistoryItem

    t = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)
    for ids in (("a", "b", "c"), ("c", "b", "a")):  # whatever the event ids, the lifecycle order decides
        timeline = CustomerTimeline([
            HistoryItem(t, ids[0], "stage", "pending_funding"),
            HistoryItem(t, ids[1], "stage", "traded"),
            HistoryItem(t, ids[2], "stage", "funded"),
        ])
        assert timeline.current_stage() == ("traded", t)
        assert timeline.stage_at(t) == "traded"


def test_shortcut_counts(make):
    c = make()
    Feed(c)(scenario())
    every = q(c, shortcuts, HK, TODAY, Audience(), "admin")
    # t-1 due 06-10 (overdue); next:c1 and t-2 due today (HK); t-3 due tomorrow; t-4 closed
    assert (every["follow_ups_overdue"], every["follow_ups_due_today"]) == (1, 2)
    assert (every["open_tasks"], every["kyc_cases_open"]) == (3, 1)  # k2 in review; k1 decided
    assert (every["registered_today"], every["opened_today"], every["funded_today"]) == (1, 2, 1)
    m1 = q(c, shortcuts, HK, TODAY, Audience(managers=("m1",)), "m1")
    assert (m1["follow_ups_overdue"], m1["follow_ups_due_today"], m1["opened_today"]) == (1, 1, 1)
    # closing the overdue task moves it out of the counts
    feed = Feed(c)
    feed.offset = 5_000
    feed([s.as_event(s.task_closed("t-1", "c2", "pending_funding", z("2024-06-12T05:00:00")))])
    assert q(c, shortcuts, HK, TODAY, Audience(), "admin")["follow_ups_overdue"] == 0
