"""The 360° (`GET /customers/{id}/360`) on SQLite: the activity fold (any order, duplicates, batched or one
event at a time: the same rows) and the one call (sections, KYC status, merged remarks and tags, scope)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.customer.container import ACTIVITY_GROUP
from services.customer.projections.activity import apply_activity
from shared.events.crm_campaigns import CampaignCreated, CampaignPlan, TargetFollowUpRequested
from shared.events.crm_kyc import KycCaseDecided, KycCaseStateChanged
from shared.events.crm_tasks import FollowUpRecorded, TaskCreated, TicketChanged, TicketOpened
from shared.events.crm_usercrm import RequestStateChanged
from shared.runtime.db import Tracker
from shared.runtime.handlers import SqlBatchHandler
from tests.unit.test_customer_api import T0, assigned, ev, registered, world  # noqa: F401

pytestmark = pytest.mark.asyncio


def plan(name: str) -> CampaignPlan:
    return CampaignPlan(name=name, start_at=T0, end_at=T0 + timedelta(days=9), audience={}, distribution="assigned_manager",
                        channels=["phone"], metrics=["funded"], attribution_window_days=7)


def history(cid: str = "h1") -> list:
    at = lambda m: T0 + timedelta(minutes=m)  # noqa: E731
    return [
        FollowUpRecorded(follow_up_id=f"{cid}-f1", customer_id=cid, manager_id="m-1", contact_methods=["phone"],
                         tags=["VIP", "hk-desk"], remarks="Called, wants  margin", recorded_at=at(10),
                         next_follow_up_at=at(60 * 24)),
        FollowUpRecorded(follow_up_id=f"{cid}-f2", customer_id=cid, manager_id="m-1", contact_methods=["sms"],
                         tags=["warm"], remarks=None, recorded_at=at(20)),
        TaskCreated(task_id="t1", customer_id=cid, node="pending_funding", due_at=at(30), created_at=at(1)),
        TicketOpened(ticket_id=f"{cid}-k1", customer_id=cid, category="account_security", priority="high",
                     created_by="s-1", opened_at=at(2)),
        TicketChanged(ticket_id=f"{cid}-k1", customer_id=cid, change="status_changed", status="resolved",
                      previous_status="open", changed_by="s-1", changed_at=at(40)),
        TicketChanged(ticket_id=f"{cid}-k1", customer_id=cid, change="assigned", assignee_id="s-2", changed_by="s-1",
                      changed_at=at(30)),
        KycCaseStateChanged(case_id=f"{cid}-kc1", customer_id=cid, application_id="ap1", to_state="pending",
                            changed_at=at(3), completion_pct=40),
        KycCaseDecided(case_id=f"{cid}-kc1", customer_id=cid, application_id="ap1", decision="approved",
                       decided_by="r-1", decided_at=at(50), completion_pct=100),
        RequestStateChanged(request_id=f"{cid}-r1", customer_id=cid, action="send_message", to_state="submitted",
                            changed_at=at(5), actor_id="m-1"),
        RequestStateChanged(request_id=f"{cid}-r1", customer_id=cid, action="send_message", from_state="submitted",
                            to_state="completed", changed_at=at(6)),
        RequestStateChanged(request_id=f"{cid}-r2", customer_id=cid, action="block", to_state="completed",
                            changed_at=at(7), actor_id="m-1"),
        CampaignCreated(campaign_id="cp1", plan=plan("Spring"), created_by="m-9", created_at=at(0)),
        TargetFollowUpRequested(customer_id=cid, campaign_id="cp1", follow_up_id=f"{cid}-cf1", manager_id="m-1",
                                channels=["phone"], requested_at=at(8), due_at=at(9000)),
    ]


def activity_rows(c) -> dict:
    with c.sessions() as s:
        return {t.name: sorted(map(tuple, s.execute(select(t)))) for t in c.tables.activity.all()}


def fold_in_three_orders(c, apply, tables, events, rows, *, seed: int, repeated: int) -> list:
    """The rows `apply` folds from `events` as given in one batch, reversed one event per transaction and shuffled
    (`seed`) one per transaction, each with its first `repeated` events delivered twice: `rows(c)` of each round,
    the `tables` emptied before each."""
    results = []
    for round_, order in enumerate([events, list(reversed(events)), random.Random(seed).sample(events, len(events))]):
        with c.sessions.begin() as s:  # empty the tables: each round starts afresh
            for t in tables:
                s.execute(t.delete())
        if round_ == 0:
            with c.sessions.begin() as s:
                apply(s, order + order[:repeated])  # duplicates in the batch
        else:
            for e in order + order[:repeated]:
                with c.sessions.begin() as s:
                    apply(s, [e])
        results.append(rows(c))
    return results


async def test_activity_fold_gives_the_same_rows_in_any_order_batched_or_not(world, tmp_path):  # noqa: F811
    c, *_ = world
    events = [ev(p) for p in history("h1") + history("h2")]
    events += [ev(CampaignCreated(campaign_id="cp1", plan=plan("Spring v2"), created_by="m-9",
                                  created_at=T0 + timedelta(minutes=1)))]
    results = fold_in_three_orders(c, apply_activity(c.tables.activity), c.tables.activity.all(), events,
                                   activity_rows, seed=3, repeated=4)
    assert results[0] == results[1] == results[2]
    assert len(results[0]["customer_follow_up"]) == 4 and len(results[0]["customer_ticket_event"]) == 6
    assert [r[1] for r in results[0]["customer_campaign_name"]] == ["Spring v2"]  # the latest edit


async def test_360_one_call(world):  # noqa: F811
    c, feed, feed_assign, token, client = world
    feed(registered("h1", 1), registered("h2", 2))
    feed_assign(assigned("h1", "m-1", "team-a"))
    handler = SqlBatchHandler(c.sessions, Tracker(c.tables.consumer_position, c.tables.processed_event,
                                                  ACTIVITY_GROUP), apply_activity(c.tables.activity))
    handler.apply("crm", 0, [ev(p) for p in history("h1")], 20)
    admin = token("admin")
    await client.post("/customers/h1/tags", json={"add": ["vip", "kyc-ok"]}, headers=admin)
    await client.post("/customers/h1/remarks", json={"text": "called, wants margin"}, headers=token("admin", "m-1"))
    await client.post("/customers/h1/remarks", json={"text": "prefers Cantonese"}, headers=admin)

    r = await client.get("/customers/h1/360", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["profile"]["customer_id"] == "h1" and body["profile"]["basic"]["name"] == "Name h1"
    assert body["profile"]["managers"][0]["manager_id"] == "m-1"
    assert body["follow_ups"]["count"] == 2 and [f["id"] for f in body["follow_ups"]["items"]] == ["h1-f2", "h1-f1"]
    assert body["follow_ups"]["items"][1]["next_follow_up_at"].startswith("2025-01-02")
    ticket = body["tickets"]["items"][0]
    assert (ticket["ticket_id"], ticket["status"], ticket["assignee_id"], ticket["category"]) == (
        "h1-k1", "resolved", "s-2", "account_security")
    assert body["kyc"]["status"] == "approved" and body["kyc"]["completion_pct"] == 100
    assert [m["request_id"] for m in body["messages"]["items"]] == ["h1-r1"]
    assert body["messages"]["items"][0]["state"] == "completed"
    assert [x["request_id"] for x in body["requests"]["items"]] == ["h1-r2"]
    touch = body["campaign_touches"]["items"][0]
    assert touch["campaign_name"] == "Spring" and touch["channels"] == ["phone"]
    # one set of remarks: the follow-up's remark and the same words on the customer by the same author once
    remarks = {(x["author"], x["text"].casefold()): x["sources"] for x in body["remarks"]}
    assert remarks[("m-1", "called, wants  margin")] == ["follow_up", "customer"]
    assert remarks[("u-admin", "prefers cantonese")] == ["customer"] and len(remarks) == 2
    tags = {x["tag"].casefold(): x["sources"] for x in body["tags"]}
    assert tags == {"vip": ["customer", "follow_up"], "kyc-ok": ["customer"], "hk-desk": ["follow_up"],
                    "warm": ["follow_up"]}

    # masking and scope as the detail
    masked = (await client.get("/customers/h1/360", headers=token("auditor"))).json()
    assert masked["profile"]["basic"]["name"] != "Name h1"
    mgr = token("manager", "m-1", team_id="team-a")
    assert (await client.get("/customers/h1/360", headers=mgr)).status_code == 200
    assert (await client.get("/customers/h2/360", headers=mgr)).status_code == 404
    empty = (await client.get("/customers/h2/360", headers=admin)).json()
    assert empty["follow_ups"] == {"count": 0, "items": []} and empty["kyc"]["status"] is None
    assert (await client.get("/customers/h1/360")).status_code == 401
    assert (await client.get("/customers/nobody/360", headers=admin)).status_code == 404
