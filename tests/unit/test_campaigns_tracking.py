"""Execution tracking per target (projections/tracking.py): delivery results, follow-ups and stage changes in
any delivery order, in one batch or one event at a time, give the same status, outreach and log rows; the
status only moves forward and follows the rules (contacted, reached, the latest response, converted in the
attribution window by a metric of the plan); facts outside the campaign's run count for nothing."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.campaigns.api.views import LogStream, campaign_log, history_entry
from services.campaigns.bootstrap import bootstrap
from services.campaigns.domain.campaign import outreach_request_id
from services.campaigns.projections import queries as q
from services.campaigns.projections.tables import outreach, target_log, target_status
from services.campaigns.projections.tracking import apply_tracking_facts
from services.campaigns.settings import CampaignsSettings
from shared.events import encode, registry
from shared.events.crm_customer import StageChanged
from shared.events.crm_tasks import FollowUpRecorded
from shared.events.upstream_user import OutreachResult
from shared.runtime.settings import AuthSettings

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
SCOPE = {"scope": "all", "user_id": "A", "teams": [], "team": None}
PLAN = {"name": "Deposit", "start_at": T0.isoformat(), "end_at": (T0 + 48 * H).isoformat(),
        "audience": {"customer_ids": ["C1", "C2", "C3", "C4"]}, "distribution": "assigned_manager",
        "channels": ["phone", "sms", "email"], "metrics": ["funded"], "attribution_window_days": 7,
        "messages": [{"channel": "sms", "template_id": "t1", "body": "Fund"},
                     {"channel": "email", "template_id": "t2", "subject": "Fund", "body": "Fund"}]}


def ev(payload, n: int):
    """The n-th fact: the same event id in every database (a register's order is business time, then event id)."""
    eid = uuid.uuid5(uuid.NAMESPACE_OID, f"fact-{n}")
    return registry.decode(encode(registry.envelope(payload, producer="test", event_id=eid)))


@pytest.fixture
def make(tmp_path):
    made = []

    def build(label: str):
        c = bootstrap(CampaignsSettings(database_url=f"sqlite:///{tmp_path}/{label}.db",
                                        auth=AuthSettings(jwt_secret="x" * 32)))
        made.append(c)
        cp = c.app.create(plan=PLAN, by="A", level=2, scope=SCOPE, at=T0 - H)
        c.app.submit(str(cp.id), by="A", at=T0 - H)
        c.app.review(str(cp.id), by="B", level=2, approve=True, comment=None, at=T0 - H)
        c.app.start_campaign(str(cp.id), by="A", at=T0, targets=[(x, "M1", "T1") for x in ("C1", "C2", "C3", "C4")])
        assert c.app.request_outreach(str(cp.id), customers=["C1", "C2", "C3", "C4"], at=T0)
        return c, str(cp.id)

    yield build
    for c in made:
        c.engine.dispose()
        c.app.close()


def facts(cid: str) -> list:
    def result(x, ch, status, at, reason=None):
        return OutreachResult(request_id=outreach_request_id(cid, x, ch), customer_id=x, campaign_id=cid,
                              channel=ch, status=status, at=at, reason_code=reason)

    def follow_up(x, at, **kw):
        return FollowUpRecorded(follow_up_id=f"f-{x}-{at:%H}", customer_id=x, manager_id="M1", recorded_at=at, **kw)

    def stage(x, old, new, at):
        return StageChanged(customer_id=x, from_stage=old, to_stage=new, changed_at=at, cause_event_id="e",
                            cause_event_type="x")

    return [ev(p, n) for n, p in enumerate([
        # C1: sms sent, delivered, opened (reached); later a follow-up says interested, then declined
        result("C1", "sms", "sent", T0 + H), result("C1", "sms", "delivered", T0 + 2 * H),
        result("C1", "sms", "opened", T0 + 3 * H), follow_up("C1", T0 + 4 * H, intent="interested"),
        follow_up("C1", T0 + 5 * H, intent="Not_Interested"),
        # C2: the e-mail bounced, the sms delivered (contacted); funded inside the window (converted), a trade later
        result("C2", "email", "failed", T0 + H, "bounced"), result("C2", "sms", "delivered", T0 + H),
        stage("C2", "pending_funding", "funded", T0 + 30 * H), stage("C2", "funded", "traded", T0 + 31 * H),
        # C3: a captured call with talk time (reached); a deposit after the window (not converted)
        follow_up("C3", T0 + 2 * H, source="call", duration_s=40), stage("C3", "pending_funding", "funded", T0 + 9 * 24 * H),
        # C4: a follow-up before the start and an opening (not a metric of the plan): still targeted
        follow_up("C4", T0 - 2 * H, intent="interested"), stage("C4", "registered", "pending_funding", T0 + H),
    ])]


def rows(c, cid: str) -> dict[str, list[tuple]]:
    """The tracking rows, the campaign's id and its request ids named alike in every database."""
    names = {cid: "CID", **{outreach_request_id(cid, x, ch): f"{x}/{ch}" for x in ("C1", "C2", "C3", "C4")
                            for ch in ("sms", "email")}}
    with c.sessions() as s:
        return {t.name: sorted(tuple("|".join(names.get(p, p) for p in v.split("|")) if isinstance(v, str) else v
                                     for v in r) for r in s.execute(select(t)))
                for t in (target_status, outreach, target_log)}


def test_any_order_in_batches_or_one_by_one_gives_the_same_rows(make):
    reference, cid = make("in_order")
    events = facts(cid)
    with reference.sessions.begin() as s:
        apply_tracking_facts(s, events)
    expected = rows(reference, cid)
    status = {r[1]: r[2] for r in expected["cp_target_status"]}
    assert status == {"C1": "declined", "C2": "converted", "C3": "reached", "C4": "targeted"}
    with reference.sessions() as s:
        assert q.status_counts(s, cid) == {"targeted": 1, "contacted": 0, "reached": 1, "interested": 0,
                                           "declined": 1, "converted": 1}
        assert q.funnel(s, cid) == {"contacted": 3, "reached": 2, "interested": 0, "declined": 1}
    conversion = {r[1]: r[8] for r in expected["cp_target_status"]}
    assert conversion["C2"] == "funded" and conversion["C3"] is None
    deliveries = {(r[2], r[3]): (r[5], r[10]) for r in expected["cp_outreach"]}
    assert deliveries[("C1", "sms")] == ("opened", None) and deliveries[("C2", "email")] == ("failed", "bounced")
    assert deliveries[("C3", "sms")] == ("requested", None)
    rng = random.Random(5)
    for i in range(10):
        c, other = make(f"shuffled_{i}")
        shuffled = facts(other)
        rng.shuffle(shuffled)
        size = rng.choice([1, 2, len(shuffled)])
        for j in range(0, len(shuffled), size):
            with c.sessions.begin() as s:
                apply_tracking_facts(s, shuffled[j:j + size] + shuffled[j:j + 1])  # and a re-delivery
        assert rows(c, other) == expected, (i, size)


def test_the_log_read_in_keyset_pages_is_the_log_read_at_once(make):
    """The CSV export reads the target facts a page at a time and merges the campaign's steps in as it goes:
    whatever the page size, the same rows in the same order as the whole log sorted at once (by time, a step
    before a fact at the same instant)."""
    c, cid = make("log_pages")
    with c.sessions.begin() as s:
        apply_tracking_facts(s, facts(cid))
    c.app.close_campaign(cid, by="A", at=T0 + 2 * H, reason="manual")  # a step between the facts
    events = c.app.history(cid)
    with c.sessions() as s:
        all_facts = q.target_log_rows(s, cid)
    assert len(all_facts) > 10
    steps = [{"at": h["at"], "action": h["event"], "by": h["by"], "customer_id": None,
              "detail": h.get("status") or (str(h["audience_size"]) if h.get("audience_size") is not None else None)}
             for h in map(history_entry, events)]
    facts_rows = [{"at": f["at"].replace(tzinfo=UTC), "action": f["action"], "by": None,
                   "customer_id": f["customer_id"], "detail": f["detail"]} for f in all_facts]
    expected = sorted(steps + facts_rows, key=lambda r: (r["at"], r["customer_id"] is not None))
    actions = [r["action"] for r in expected]
    assert actions.index("closed") > actions.index("outreach_requested") and actions[-1] != "closed"
    assert campaign_log(events, all_facts) == expected
    for size in (1, 2, 3, 7, len(all_facts), len(all_facts) + 1):
        log, got, after = LogStream(events), [], None
        while True:
            with c.sessions() as s:
                page = q.target_log_rows(s, cid, limit=size, after=after)
            got += log.take(page)
            if len(page) < size:
                break
            after = (page[-1]["key"], page[-1]["customer_id"], page[-1]["action"])
        assert got + log.rest() == expected, size
