"""The Campaign aggregate and its rules: plan checks, the status machine, same-level review (nobody reviews a
campaign they wrote; peer or level-above policy; a rejection needs a comment), an edit after approval back to
review, the frozen audience in chunks, close at the end time, and the distribution methods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.campaigns.domain.campaign import (
    APPROVED,
    CHUNK,
    CLOSED,
    DRAFT,
    END_TIME,
    IN_REVIEW,
    MANUAL,
    REJECTED,
    RUNNING,
    Campaign,
    follow_up_id,
)
from services.campaigns.domain.distribution import Candidate, ManagerLoad, distribute
from services.campaigns.domain.errors import (
    CampaignEnded,
    InvalidPlan,
    InvalidTransition,
    NotAPeer,
    OwnCampaign,
    RejectionNeedsComment,
)
from services.campaigns.domain.review import DEFAULT_ROLE_LEVELS, ReviewPolicy, level_of

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
PEER = ReviewPolicy("peer")


def plan(**over):
    base = {"name": "Spring funding push", "purpose": "fund pending accounts", "start_at": T0.isoformat(),
            "end_at": (T0 + timedelta(days=7)).isoformat(), "audience": {"stages": ["pending_funding"]},
            "distribution": "assigned_manager", "team_id": "T-HK", "channels": ["phone"],
            "metrics": ["funded"], "attribution_window_days": 30}
    return {**base, **over}


def new(**over) -> Campaign:
    return Campaign.create(plan=plan(**over), by="lead-a", level=2, scope={"scope": "team", "user_id": "lead-a",
                                                                             "teams": ["T-HK"], "team": "T-HK"}, at=T0)


def approved() -> Campaign:
    c = new()
    c.submit(by="lead-a", at=T0)
    c.review(by="lead-b", level=2, approve=True, comment="ok", at=T0, policy=PEER)
    return c


def test_plan_rules_name_the_field():
    with pytest.raises(InvalidPlan) as e:
        new(end_at=T0.isoformat())
    assert e.value.field == "end_at" and e.value.status == 422
    with pytest.raises(InvalidPlan) as e:
        new(distribution="round_robin", team_id=None)
    assert e.value.field == "team_id"
    c = new()
    with pytest.raises(InvalidPlan):
        c.edit(plan=plan(end_at=(T0 - timedelta(hours=1)).isoformat()), by="lead-a", at=T0)
    assert c.status == DRAFT and c.version == 1


def test_review_flow_and_rules():
    c = new()
    with pytest.raises(InvalidTransition):  # not submitted
        c.review(by="lead-b", level=2, approve=True, comment=None, at=T0, policy=PEER)
    c.submit(by="lead-a", at=T0)
    assert c.status == IN_REVIEW
    with pytest.raises(OwnCampaign):
        c.review(by="lead-a", level=2, approve=True, comment=None, at=T0, policy=PEER)
    with pytest.raises(NotAPeer):  # a manager is not the creator's peer
        c.review(by="m-1", level=1, approve=True, comment=None, at=T0, policy=PEER)
    with pytest.raises(NotAPeer):  # nor is an admin, with the peer policy
        c.review(by="admin", level=3, approve=True, comment=None, at=T0, policy=PEER)
    with pytest.raises(RejectionNeedsComment) as e:
        c.review(by="lead-b", level=2, approve=False, comment="  ", at=T0, policy=PEER)
    assert e.value.field == "comment"
    c.review(by="lead-b", level=2, approve=False, comment="audience too wide", at=T0, policy=PEER)
    assert (c.status, c.reviewed_by, c.review_comment) == (REJECTED, "lead-b", "audience too wide")
    c.edit(plan=plan(name="Narrower"), by="lead-a", at=T0)
    assert c.status == DRAFT
    c.submit(by="lead-a", at=T0)
    c.review(by="lead-b", level=2, approve=True, comment=None, at=T0, policy=PEER)
    assert c.status == APPROVED


def test_level_above_policy():
    c = new()
    c.submit(by="lead-a", at=T0)
    with pytest.raises(NotAPeer):
        c.review(by="lead-b", level=2, approve=True, comment=None, at=T0, policy=ReviewPolicy("above"))
    c.review(by="admin", level=3, approve=True, comment=None, at=T0, policy=ReviewPolicy("above"))
    assert c.status == APPROVED


def test_an_edit_after_approval_returns_to_review_and_its_editor_cannot_approve_it():
    c = approved()
    c.edit(plan=plan(channels=["phone", "sms"]), by="lead-b", at=T0)
    assert c.status == IN_REVIEW
    with pytest.raises(OwnCampaign):  # lead-b edited it since its review
        c.review(by="lead-b", level=2, approve=True, comment=None, at=T0, policy=PEER)
    c.review(by="lead-c", level=2, approve=True, comment=None, at=T0, policy=PEER)
    assert c.status == APPROVED


def test_levels_of_roles():
    assert level_of(["team_lead"], DEFAULT_ROLE_LEVELS) == 2
    assert level_of(["auditor"], DEFAULT_ROLE_LEVELS) == 0
    assert level_of(["manager", "admin"], DEFAULT_ROLE_LEVELS) == 3


def test_start_freezes_the_audience_in_chunks_and_only_once():
    c = new()
    with pytest.raises(InvalidTransition):
        c.start(by="lead-a", at=T0, targets=[])
    c = approved()
    targets = [(f"C{i:05d}", "M-1", "T-HK") for i in range(CHUNK + 5)]
    v = c.version
    assert c.start(by=None, at=T0 + timedelta(hours=1), targets=list(reversed(targets)))
    events = c.collect_events()
    started, chunks = events[-3], events[-2:]
    assert isinstance(started, Campaign.Started) and started.audience_size == CHUNK + 5
    assert [len(e.targets) for e in chunks] == [CHUNK, 5]
    assert [t[0] for e in chunks for t in e.targets] == [t[0] for t in targets]  # in customer order
    assert c.status == RUNNING and c.audience_size == CHUNK + 5 and c.version == v + 3
    assert c.start(by=None, at=T0, targets=targets) is False  # decided twice: nothing more
    with pytest.raises(InvalidTransition):
        c.edit(plan=plan(), by="lead-a", at=T0)


def test_start_after_the_end_is_refused():
    c = approved()
    with pytest.raises(CampaignEnded):
        c.start(by="lead-a", at=T0 + timedelta(days=8), targets=[])


def test_close():
    c = approved()
    with pytest.raises(InvalidTransition):  # an approved campaign closes by hand only once started
        c.close(by="lead-a", at=T0, reason=MANUAL)
    assert c.close(by=None, at=T0 + timedelta(days=7), reason=END_TIME)  # never started: closed at its end
    assert c.status == CLOSED and c.audience_size == 0
    assert c.close(by=None, at=T0 + timedelta(days=7), reason=END_TIME) is False
    d = approved()
    d.start(by=None, at=T0, targets=[("C1", None, "T-HK")])
    assert d.close(by="lead-a", at=T0 + timedelta(days=1), reason=MANUAL)
    assert d.status == CLOSED and d.audience_size == 1


def test_follow_up_ids_are_deterministic_per_campaign_and_customer():
    assert follow_up_id("c1", "C1") == follow_up_id("c1", "C1")
    assert len({follow_up_id("c1", "C1"), follow_up_id("c1", "C2"), follow_up_id("c2", "C1")}) == 3


CUSTOMERS = [Candidate("C3", "M-2", "T-HK"), Candidate("C1", "M-1", "T-HK"), Candidate("C2", None, None),
             Candidate("C4", "M-1", "T-HK")]
MANAGERS = [ManagerLoad("M-2", 5), ManagerLoad("M-1", 1), ManagerLoad("M-3", 1)]


def test_distribution_methods():
    assert distribute("assigned_manager", CUSTOMERS, team_id="T-Q") == [
        ("C1", "M-1", "T-HK"), ("C2", None, "T-Q"), ("C3", "M-2", "T-HK"), ("C4", "M-1", "T-HK")]
    assert distribute("team_queue", CUSTOMERS, team_id="T-Q", managers=MANAGERS) == [
        (c, None, "T-Q") for c in ("C1", "C2", "C3", "C4")]
    assert distribute("round_robin", CUSTOMERS, team_id="T-HK", managers=MANAGERS) == [
        ("C1", "M-1", "T-HK"), ("C2", "M-2", "T-HK"), ("C3", "M-3", "T-HK"), ("C4", "M-1", "T-HK")]
    # least loaded: M-1 (1), M-3 (1) take turns until they reach M-2's 5
    assert distribute("least_loaded", CUSTOMERS, team_id="T-HK", managers=MANAGERS) == [
        ("C1", "M-1", "T-HK"), ("C2", "M-3", "T-HK"), ("C3", "M-1", "T-HK"), ("C4", "M-3", "T-HK")]
    # a team without active managers: its queue
    assert distribute("round_robin", CUSTOMERS[:1], team_id="T-HK", managers=[]) == [("C3", None, "T-HK")]
    with pytest.raises(ValueError):
        distribute("lottery", CUSTOMERS, team_id=None)
