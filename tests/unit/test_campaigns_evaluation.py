"""Campaign evaluation in-process on SQLite: the facts (stage milestones, funds, asset snapshots) in any order,
indicators of a started campaign against its control group (the untargeted customers matching the filter), the
cost as an event and the input-output ratio, groups by manager / team / segment, reports within the data scope,
the comparison, CSV exports, and the scheduler's daily recomputation."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from services.campaigns import execution
from services.campaigns.bootstrap import bootstrap
from services.campaigns.domain.distribution import held_out
from services.campaigns.projections.audience import apply_audience_facts
from services.campaigns.projections.facts import apply_evaluation_facts
from services.campaigns.projections.tables import OWN_TABLES, asset, funds, holdout, milestone
from services.campaigns.settings import CampaignsSettings
from shared.events.crm_assignment import CustomerAssigned
from shared.events.crm_customer import CustomerOnboarded, FundsMoved, StageChanged
from shared.events.upstream import AssetSnapshotTaken
from shared.runtime.projection import rebuild_from_store
from shared.runtime.settings import BrokerageSettings
from tests.unit.test_campaigns_api import AUTH, LEAD_A, LEAD_B, LEAD_SG, MANAGER, T0, ev, facts, plan


@pytest.fixture
def container(tmp_path):
    c = bootstrap(CampaignsSettings(database_url=f"sqlite:///{tmp_path}/campaigns.db", auth=AUTH,
                                    brokerage=BrokerageSettings(currency="HKD")))  # the facts' amounts: HKD
    with c.sessions.begin() as s:
        apply_audience_facts(s, facts())
        apply_evaluation_facts(s, facts())  # C1..C6 opened their accounts before any campaign
    yield c
    c.engine.dispose()
    c.app.close()


@pytest.fixture
async def client(container):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=container.api), base_url="http://t") as c:
        yield c


def stage(cid, to, at, n):
    return ev(StageChanged(customer_id=cid, from_stage="pending_funding", to_stage=to, changed_at=at,
                           cause_event_id=f"s{n}", cause_event_type="x"))


def money(cid, tx, direction, amount, at, currency="HKD"):
    return ev(FundsMoved(customer_id=cid, transaction_id=tx, direction=direction, amount=Decimal(amount),
                         currency=currency, occurred_at=at))


def snapshot(cid, total, at, currency="HKD", account=None):
    return ev(AssetSnapshotTaken(customer_id=cid, account_id=account or f"A-{cid}", as_of=at, currency=currency,
                                 total_assets=Decimal(total), cash=Decimal(0)))


def outcome(s):
    """C1 funds (+1000 −200, assets 100 → 900), C2 trades (a jump: funded and first trade) with +500, C3's
    deposit is before the window; C9, matching the filter but never targeted, opens and deposits 100."""
    return [stage("C1", "funded", s + timedelta(hours=1), 1), money("C1", "t1", "deposit", "1000", s + timedelta(hours=1)),
            money("C1", "t2", "withdrawal", "200", s + timedelta(hours=2)),
            snapshot("C1", "100", s - timedelta(days=1)), snapshot("C1", "900", s + timedelta(days=1)),
            stage("C2", "traded", s + timedelta(hours=3), 2), money("C2", "t3", "deposit", "500", s + timedelta(hours=3)),
            money("C3", "t4", "deposit", "300", s - timedelta(hours=1)),
            ev(CustomerOnboarded(customer_id="C9", registered_at=s, channel="web", user_region="HK")),
            ev(StageChanged(customer_id="C9", from_stage=None, to_stage="pending_funding",
                            changed_at=s + timedelta(hours=1), cause_event_id="s9", cause_event_type="x")),
            ev(CustomerAssigned(customer_id="C9", manager_id="M-HK-2", team_id="T-HK", reason="rule", assigned_at=s)),
            money("C9", "t9", "deposit", "100", s + timedelta(hours=2))]


def test_facts_in_any_order_give_the_same_rows(tmp_path):
    rows = []
    events = outcome(T0) + [stage("C1", "traded", T0 + timedelta(hours=5), 5)] * 2
    for seed in (1, 2, 3):
        c = bootstrap(CampaignsSettings(database_url=f"sqlite:///{tmp_path}/f{seed}.db", auth=AUTH))
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        for i in range(0, len(shuffled), 3):
            with c.sessions.begin() as s:
                apply_evaluation_facts(s, shuffled[i:i + 3])
        with c.sessions() as s:
            rows.append([sorted(map(tuple, s.execute(select(t)).all()), key=str) for t in (milestone, funds, asset)])
        c.engine.dispose()
        c.app.close()
    assert rows[0] == rows[1] == rows[2]
    reached = {(c, k): at for c, k, at in rows[0][0]}
    assert reached[("C1", "funded")].replace(tzinfo=None) == (T0 + timedelta(hours=1)).replace(tzinfo=None)
    assert reached[("C1", "first_trade")].replace(tzinfo=None) == (T0 + timedelta(hours=5)).replace(tzinfo=None)
    assert ("C2", "account_opened") in reached and ("C2", "first_trade") in reached


async def _started(client, **over):
    cid = (await client.post("/campaigns", json=plan(**over), headers=LEAD_A)).json()["campaign_id"]
    await client.post(f"/campaigns/{cid}/submit", headers=LEAD_A)
    await client.post(f"/campaigns/{cid}/review", json={"decision": "approve"}, headers=LEAD_B)
    r = await client.post(f"/campaigns/{cid}/start", headers=LEAD_A)
    assert r.status_code == 200, r.text
    return cid, r.json()


@pytest.mark.asyncio
async def test_indicators_cost_ratio_reports_and_exports(client, container):
    draft = (await client.post("/campaigns", json=plan(), headers=LEAD_A)).json()["campaign_id"]
    r = await client.post(f"/campaigns/{draft}/indicators/refresh", headers=LEAD_A)
    assert r.status_code == 409 and r.json()["type"].endswith(":not_started")
    assert (await client.get(f"/campaigns/{draft}/indicators", headers=LEAD_A)).status_code == 404

    cid, started = await _started(client)
    s = T0.__class__.fromisoformat(started["started_at"])
    with container.sessions.begin() as session:
        apply_audience_facts(session, outcome(s))
        apply_evaluation_facts(session, outcome(s))
    r = await client.put(f"/campaigns/{cid}/cost", json={"amount": "400", "currency": "HKD", "note": "sms"},
                         headers=LEAD_A)
    assert r.status_code == 200, r.text
    r = await client.put(f"/campaigns/{cid}/cost", json={"amount": -1, "currency": "HKD"}, headers=LEAD_A)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
    assert (await client.put(f"/campaigns/{cid}/cost", json={"amount": "1", "currency": "HKD"},
                             headers=LEAD_SG)).status_code == 404  # not their campaign
    assert (await client.post(f"/campaigns/{cid}/indicators/refresh", headers=MANAGER)).status_code == 200

    # the scheduler: never computed at this moment → due; computed → not due before the interval
    with container.sessions() as session:
        assert container.evaluator.due(session, s + timedelta(days=2)) == [cid]
    assert container.evaluator.run_due(s + timedelta(days=2)) == 1
    with container.sessions() as session:
        assert container.evaluator.due(session, s + timedelta(days=2, hours=1)) == []
        assert container.evaluator.due(session, s + timedelta(days=3, seconds=1)) == [cid]

    got = (await client.get(f"/campaigns/{cid}/indicators", headers=LEAD_A)).json()
    assert {k: got[k] for k in ("targeted", "account_opened", "funded", "first_trade", "converted")} == {
        "targeted": 4, "account_opened": 0, "funded": 2, "first_trade": 1, "converted": 2}
    assert Decimal(got["net_deposits"]) == 1300 and Decimal(got["incremental_assets"]) == 800
    f = got["figures"]
    assert f["control"]["kind"] == "untargeted_audience" and f["control"]["size"] == 1
    assert f["control"]["account_opened"] == 1 and f["control"]["converted"] == 1
    assert Decimal(f["control"]["net_deposits"]) == 100
    assert {k: Decimal(v) for k, v in f["lift"].items()} == {"conversion_rate": Decimal("-0.5"),
                                                           "net_deposits": 225, "incremental_assets": 200}
    assert f["cost"] == {"amount": "400.00", "currency": "HKD", "note": "sms"}
    assert Decimal(f["input_output_ratio"]) == 2 and Decimal(f["cost_per_conversion"]) == 200
    # contacted / reached from the execution tracking (queries.funnel): no message, follow-up or result here
    assert f["tracking"] == {"contacted": 0, "reached": 0, "interested": 0, "declined": 0}
    groups = {(g["dimension"], g["key"]): g for g in got["groups"]}
    assert (groups[("manager", "M-HK-1")]["targeted"], groups[("manager", "M-HK-1")]["funded"]) == (2, 1)
    assert Decimal(groups[("manager", "M-HK-1")]["net_deposits"]) == 800
    assert groups[("manager", "M-HK-2")]["first_trade"] == 1 and groups[("team", "T-HK")]["targeted"] == 4
    assert groups[("segment", "pending_funding")]["targeted"] == 4
    history = (await client.get(f"/campaigns/{cid}/history", headers=LEAD_A)).json()["items"]
    assert history[-1]["event"] == "cost_recorded" and history[-1]["by"] == "LEAD-A"

    # reports within the data scope; channel = each of the campaign's channels
    by_manager = (await client.get("/campaigns/reports", params={"dimension": "manager"}, headers=LEAD_A)).json()
    assert [i["key"] for i in by_manager["items"]] == ["M-HK-1", "M-HK-2", "M-HK-3"]
    mine = (await client.get("/campaigns/reports", params={"dimension": "manager"}, headers=MANAGER)).json()
    assert [(i["key"], i["targeted"]) for i in mine["items"]] == [("M-HK-1", 2)]
    assert (await client.get("/campaigns/reports", params={"dimension": "team"}, headers=LEAD_SG)).json()["items"] == []
    channels = (await client.get("/campaigns/reports", params={"dimension": "channel"}, headers=LEAD_A)).json()
    assert [(i["key"], i["campaigns"], i["converted"]) for i in channels["items"]] == [("phone", 1, 2), ("sms", 1, 2)]
    r = await client.get("/campaigns/reports", params={"dimension": "colour"}, headers=LEAD_A)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.dimension"
    assert (await client.get("/campaigns/reports", params={"dimension": "team"})).status_code == 401

    # comparison: a second campaign by list (no control group); an id out of sight is a 404
    other, _ = await _started(client, name="Listed", audience={"customer_ids": ["C1", "C3"]}, distribution="assigned_manager")
    assert container.evaluator.refresh(other, s + timedelta(days=2))  # the API's refresh counts facts until now
    side = (await client.get("/campaigns/compare", params={"ids": f"{cid},{other}"}, headers=LEAD_A)).json()
    assert [(x["name"], x["targeted"], x["converted"]) for x in side] == [("Fund pending accounts", 4, 2),
                                                                          ("Listed", 2, 1)]
    assert side[1]["figures"]["control"] is None and side[1]["figures"]["cost"] is None
    assert (await client.get("/campaigns/compare", params={"ids": f"{cid},{other}"}, headers=LEAD_SG)).status_code == 404
    assert (await client.get("/campaigns/compare", params={"ids": "x"}, headers=LEAD_A)).status_code == 422

    # CSV
    r = await client.get(f"/campaigns/{cid}/indicators.csv", headers=LEAD_A)
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:3] == ["dimension", "key", "targeted"] and rows[1][:3] == ["campaign", "", "4"]
    assert ["manager", "M-HK-1", "2"] == rows[[r[:2] for r in rows].index(["manager", "M-HK-1"])][:3]
    rows = list(csv.reader(io.StringIO((await client.get("/campaigns/compare.csv", params={"ids": f"{cid},{other}"},
                                                         headers=LEAD_A)).text)))
    assert [r[1] for r in rows[1:]] == ["Fund pending accounts", "Listed"] and rows[1][9] == "400.00"
    rows = list(csv.reader(io.StringIO((await client.get("/campaigns/reports.csv", params={"dimension": "team"},
                                                         headers=LEAD_A)).text)))
    assert rows[0][:3] == ["team", "campaigns", "targeted"] and rows[1][:3] == ["T-HK", "2", "6"]


def test_the_hold_out_is_stable_proportionate_and_differs_between_campaigns():
    ids = [f"C{i:05d}" for i in range(20_000)]
    first = {c for c in ids if held_out("campaign-1", c, 10)}
    assert first == {c for c in ids if held_out("campaign-1", c, 10)}  # every replica, every re-run
    assert 1_800 <= len(first) <= 2_200  # 10% of them
    assert not [c for c in ids if held_out("campaign-1", c, 0)]
    assert first <= {c for c in ids if held_out("campaign-1", c, 20)}  # a larger share keeps the smaller one's
    other = {c for c in ids if held_out("campaign-2", c, 10)}
    assert 100 <= len(first & other) <= 300  # independent: about 10% of 10%


@pytest.mark.asyncio
async def test_a_hold_out_is_frozen_at_the_start_and_is_the_control_group(client, container, monkeypatch):
    """With `control_pct`, the customers of the audience held out at the start are not targeted and are the
    control group, whatever they do since: C1, held out, funds and stays in it; C9, who matches the filter only
    after the start, is in no group (the filter's control would have taken C9 and lost C1)."""
    monkeypatch.setattr(execution, "held_out", lambda campaign_id, customer_id, pct: customer_id == "C1")
    r = await client.post("/campaigns", json=plan(control_pct=101), headers=LEAD_A)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "control_pct"
    cid, started = await _started(client, control_pct=25)
    assert started["audience_size"] == 3
    s = T0.__class__.fromisoformat(started["started_at"])
    with container.sessions.begin() as session:
        apply_audience_facts(session, outcome(s))
        apply_evaluation_facts(session, outcome(s))
    targets = (await client.get(f"/campaigns/{cid}/targets", headers=LEAD_A)).json()["items"]
    assert sorted(t["customer_id"] for t in targets) == ["C2", "C3", "C4"]
    log = (await client.get(f"/campaigns/{cid}/log", headers=LEAD_A)).json()["items"]
    assert [(e["action"], e["detail"]) for e in log if e["action"] in ("targets_frozen", "control_frozen")] == [
        ("targets_frozen", "3"), ("control_frozen", "1")]
    assert container.evaluator.refresh(cid, s + timedelta(days=2))  # (the facts are after the real clock's now)
    got = (await client.get(f"/campaigns/{cid}/indicators", headers=LEAD_A)).json()
    assert (got["targeted"], got["funded"], got["converted"], Decimal(got["net_deposits"])) == (3, 1, 1, 500)
    control = got["figures"]["control"]
    assert (control["kind"], control["size"], control["funded"], control["converted"]) == ("holdout", 1, 1, 1)
    assert Decimal(control["net_deposits"]) == 800 and Decimal(control["incremental_assets"]) == 800
    with container.sessions() as session:
        held = sorted(map(tuple, session.execute(select(holdout)).all()))
    assert held == [(cid, "C1")]
    # the campaign tables replayed from the store (the store part of `rebuild_read_model`): the same hold-out
    assert rebuild_from_store(container.app, container.sessions, list(OWN_TABLES), container.app.read_model) > 0
    with container.sessions() as session:
        assert sorted(map(tuple, session.execute(select(holdout)).all())) == held


@pytest.mark.asyncio
async def test_amounts_in_other_currencies_are_listed_apart_never_added(client, container):
    """The reporting currency is HKD. On top of `outcome`: C1 deposits USD 5,000 and its USD account grows from
    USD 1,000 to USD 4,000; C2 deposits SGD 70; C9 (the control) deposits USD 30. Before, those numbers were
    added to the HKD ones (net deposits 6,370 "HKD" for the targets). Now the HKD figures are as without them,
    the others are listed per currency, per group and for the control, and a cost in USD gives no ratio."""
    cid, started = await _started(client)
    s = T0.__class__.fromisoformat(started["started_at"])
    extra = [money("C1", "u1", "deposit", "5000", s + timedelta(hours=4), "USD"),
             snapshot("C1", "1000", s - timedelta(days=1), "USD", "U-C1"),
             snapshot("C1", "4000", s + timedelta(days=1), "USD", "U-C1"),
             money("C2", "g1", "deposit", "70", s + timedelta(hours=4), "SGD"),
             money("C9", "u9", "deposit", "30", s + timedelta(hours=4), "USD")]
    with container.sessions.begin() as session:
        apply_audience_facts(session, outcome(s) + extra)
        apply_evaluation_facts(session, outcome(s) + extra)
    assert container.evaluator.refresh(cid, s + timedelta(days=2))
    got = (await client.get(f"/campaigns/{cid}/indicators", headers=LEAD_A)).json()
    assert got["currency"] == got["figures"]["currency"] == "HKD"
    assert Decimal(got["net_deposits"]) == 1300 and Decimal(got["incremental_assets"]) == 800  # HKD only
    assert {c: {k: Decimal(v) for k, v in a.items()} for c, a in got["other_currencies"].items()} == {
        "SGD": {"net_deposits": 70, "incremental_assets": 0}, "USD": {"net_deposits": 5000, "incremental_assets": 3000}}
    groups = {(g["dimension"], g["key"]): g for g in got["groups"]}
    m1 = groups[("manager", "M-HK-1")]  # C1's manager
    assert Decimal(m1["net_deposits"]) == 800 and set(m1["other_currencies"]) == {"USD"}
    assert groups[("manager", "M-HK-3")]["other_currencies"] == {}  # nothing moved in another currency
    control = got["figures"]["control"]
    assert Decimal(control["net_deposits"]) == 100
    assert {k: Decimal(v) for k, v in control["other_currencies"]["USD"].items()} == {
        "net_deposits": 30, "incremental_assets": 0}
    # the lift compares HKD with HKD: as without the other currencies
    assert {k: Decimal(v) for k, v in got["figures"]["lift"].items()} == {
        "conversion_rate": Decimal("-0.5"), "net_deposits": 225, "incremental_assets": 200}

    # a cost in another currency than the amounts': no input-output ratio (nothing is converted)
    assert (await client.put(f"/campaigns/{cid}/cost", json={"amount": "400", "currency": "USD"},
                             headers=LEAD_A)).status_code == 200
    assert container.evaluator.refresh(cid, s + timedelta(days=2))
    f = (await client.get(f"/campaigns/{cid}/indicators", headers=LEAD_A)).json()["figures"]
    assert f["input_output_ratio"] is None and Decimal(f["cost_per_conversion"]) == 200
    assert (await client.put(f"/campaigns/{cid}/cost", json={"amount": "400", "currency": "HKD"},
                             headers=LEAD_A)).status_code == 200
    assert container.evaluator.refresh(cid, s + timedelta(days=2))
    f = (await client.get(f"/campaigns/{cid}/indicators", headers=LEAD_A)).json()["figures"]
    assert Decimal(f["input_output_ratio"]) == 2

    # reports: the HKD amounts, their currency named; the CSVs name it and list the others
    report = (await client.get("/campaigns/reports", params={"dimension": "team"}, headers=LEAD_A)).json()
    assert report["currency"] == "HKD" and Decimal(report["items"][0]["net_deposits"]) == 1300
    rows = list(csv.reader(io.StringIO((await client.get(f"/campaigns/{cid}/indicators.csv", headers=LEAD_A)).text)))
    assert rows[0][-2:] == ["currency", "other_currencies"]
    assert rows[1][-2:] == ["HKD", "SGD incremental_assets=0 net_deposits=70; "
                                   "USD incremental_assets=3000 net_deposits=5000"]
    rows = list(csv.reader(io.StringIO((await client.get("/campaigns/reports.csv", params={"dimension": "team"},
                                                         headers=LEAD_A)).text)))
    assert rows[0][-1] == "currency" and rows[1][-1] == "HKD"
