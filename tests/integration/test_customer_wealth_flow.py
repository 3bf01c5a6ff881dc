"""Daily asset series and ADA through the real broker and PostgreSQL: snapshots over several days (the
brokerage in Hong Kong, some after 16:00 UTC, i.e. the next local day; out of order; re-published) → the
series, the ADA columns; the API (series, detail, list filter and sort); `ops rebuild customer --verify`
and a replay of the topics into a new database give the same rows."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.customer.domain.bands import band_of, bands
from services.customer.domain.daily import WINDOWS
from shared.events import registry, topics
from shared.events.crm_assignment import CustomerAssigned
from shared.events.upstream import AccountOpened, AssetSnapshotTaken, CustomerRegistered, IdentityVerified
from shared.runtime.kafka import EventProducer, ensure_topics
from tests.conftest import ops_rebuild_verified
from tests.integration.test_customer_pipeline import Service

pytestmark = pytest.mark.asyncio
HK = ZoneInfo("Asia/Hong_Kong")
START = datetime(2025, 3, 1, 9, tzinfo=UTC)  # 17:00 in Hong Kong
DAYS = 40


def platform(rng: random.Random) -> tuple[list, dict[str, dict[date, Decimal]]]:
    """Upstream events, and the model: each customer's value per Hong Kong day (carried forward)."""
    out: list = []
    model: dict[str, dict[date, Decimal]] = {}
    for i in range(3):
        cid = f"w-{i}"
        out += [CustomerRegistered(customer_id=cid, registered_at=START - timedelta(days=2), channel="organic",
                                   name=f"Wealth {i}"),
                AccountOpened(customer_id=cid, account_id=f"{cid}-A", opened_at=START - timedelta(days=1))]
        out.append(IdentityVerified(customer_id=cid, verified_at=START - timedelta(days=1), id_type="passport",
                                    id_issuing_country="HK", id_number=f"P{i}000000",
                                    date_of_birth=date(1960 + 20 * i, 6, 15)))  # 64, 44, 24 years old in 2025
        value = Decimal(0)
        series: dict[date, Decimal] = {}
        for d in range(DAYS):
            if i == 2 and d < 25:
                continue  # w-2's first snapshot is on day 25
            if rng.random() < 0.75 or not series:
                value = Decimal(rng.randint(1, 100) * 1000 * (i + 1))
                # 07:00 UTC = 15:00 HK (that day) or 17:00 UTC = 01:00 HK (the next day)
                at = START + timedelta(days=d, hours=rng.choice((-2, 8)))
                out.append(AssetSnapshotTaken(customer_id=cid, account_id=f"{cid}-A", as_of=at, currency="HKD",
                                              total_assets=value, cash=value))
                series[at.astimezone(HK).date()] = value
        days = sorted(series)
        carried, d0 = Decimal(0), days[0]
        model[cid] = {}
        while d0 <= days[-1]:
            carried = series.get(d0, carried)
            model[cid][d0] = carried
            d0 += timedelta(days=1)
    return out, model


def expected_ada(daily: dict[date, Decimal], n: int) -> tuple[Decimal, Decimal]:
    as_of = max(daily)

    def total(first: date, count: int) -> Decimal:
        return sum((daily.get(first + timedelta(days=k), Decimal(0)) for k in range(count)), Decimal(0))

    q = Decimal("0.00000001")
    return ((total(as_of - timedelta(days=n - 1), n) / n).quantize(q),
            (total(as_of - timedelta(days=2 * n - 1), n) / n).quantize(q))


def stored(svc: Service) -> dict[str, list]:
    t = svc.container.tables
    cols = [t.customer.c[k] for k in ("customer_id", "ada_currency", "ada_as_of", "ada30", "ada30_prev", "ada90",
                                      "ada90_prev", "ada365", "ada365_prev", "date_of_birth")]
    with svc.container.sessions() as s:
        return {"account_day": sorted(map(tuple, s.execute(select(t.account_day)))),
                "customer_day": sorted(map(tuple, s.execute(select(t.customer_day)))),
                "customer": sorted(map(tuple, s.execute(select(*cols))))}


async def test_snapshots_over_days_to_series_ada_filter_sort_and_replay(kafka_settings, pg_database, poll,
                                                                        monkeypatch):
    monkeypatch.setenv("BROKERAGE_TIMEZONE", "Asia/Hong_Kong")  # the service and `ops rebuild` read it
    monkeypatch.setenv("CUSTOMER_BAND_CURRENCY", "HKD")
    rng = random.Random(4)
    payloads, model = platform(rng)
    events = [registry.envelope(p, producer="brokerage-test") for p in payloads]
    snaps = [e for e in events if e.event_type == "trading.asset_snapshot_taken"]
    others = [e for e in events if e.event_type != "trading.asset_snapshot_taken"]
    shuffled = snaps[:]
    rng.shuffle(shuffled)
    await ensure_topics(kafka_settings, [kafka_settings.topic(x) for x in topics.UPSTREAM_TOPICS + (
        topics.CRM_ASSIGNMENT, topics.CRM_CUSTOMER, topics.dead_letter_topic("customer"))])
    producer = EventProducer(kafka_settings, client_id="test")
    await producer.start()
    await producer.publish_many(others)
    await producer.publish_many(shuffled)
    await producer.publish_many(rng.sample(snaps, 10))  # re-publications: same event ids
    await producer.publish_many([registry.envelope(CustomerAssigned(
        customer_id="w-1", manager_id="m-1", team_id="team-a", reason="rule", assigned_at=START), producer="t")])
    await producer.stop()

    url = pg_database("wealth")
    svc = await Service(kafka_settings, url).start()
    try:
        async def caught_up():
            r = (await svc.get("/customers", limit=10)).json()["items"]
            assert len(r) == 3 and all(i["ada"] and i["ada"]["as_of"] == max(model[i["customer_id"]]).isoformat()
                                       for i in r), r
            assert all(i["managers"] for i in r if i["customer_id"] == "w-1"), r
            rows = stored(svc)  # every snapshot applied (they arrive shuffled: the last day may come first)
            for cid, daily in model.items():
                row = next(r for r in rows["customer"] if r[0] == cid)
                assert row[1] == "HKD" and row[2] == max(daily)
                for k, n in enumerate(WINDOWS):
                    assert (row[3 + 2 * k], row[4 + 2 * k]) == expected_ada(daily, n), (cid, n)
            return True

        await poll(caught_up, timeout=60, message="snapshots projected")

        # ---- the series API: one value per day, carried forward, per customer and per account
        daily = model["w-0"]
        first, last = min(daily), max(daily)
        r = await svc.get("/customers/w-0/assets/daily", **{"from": (first - timedelta(days=2)).isoformat(),
                                                            "to": last.isoformat()})
        assert r.status_code == 200, r.text
        body = r.json()
        got = {x["date"]: x["total"] for x in body["days"]}
        assert got[(first - timedelta(days=1)).isoformat()] is None
        assert {d: Decimal(v) for d, v in got.items() if v is not None} == {d.isoformat(): v for d, v in daily.items()}
        assert [a["account_id"] for a in body["accounts"]] == ["w-0-A"]
        assert {x["date"]: x["total"] for x in body["accounts"][0]["days"]} == got
        bad = await svc.get("/customers/w-0/assets/daily", **{"from": "2025-03-10", "to": "2025-03-01"})
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
        assert "to" in bad.json()["detail"]
        # scope: w-1 is m-1's; w-0 is no one's
        assert (await svc.get("/customers/w-1/assets/daily", role="manager", user="m-1",
                              team="team-a")).status_code == 200
        assert (await svc.get("/customers/w-0/assets/daily", role="manager", user="m-1",
                              team="team-a")).status_code == 404

        # ---- the detail shows the windows and the change
        detail = (await svc.get("/customers/w-0")).json()
        w30 = next(w for w in detail["assets"]["ada"]["windows"] if w["days"] == 30)
        cur, prev = expected_ada(daily, 30)
        assert Decimal(w30["ada"]) == cur and Decimal(w30["previous"]) == prev
        assert Decimal(w30["change"]) == cur - prev

        # ---- filter and sort by ADA (30 days), filter by age
        by_ada = sorted(model, key=lambda c: (expected_ada(model[c], 30)[0], c), reverse=True)
        items = (await svc.get("/customers", sort="ada30", order="desc", limit=2)).json()
        page2 = (await svc.get("/customers", sort="ada30", order="desc", limit=2, cursor=items["next_cursor"])).json()
        assert [i["customer_id"] for i in items["items"] + page2["items"]] == by_ada
        floor = expected_ada(model[by_ada[1]], 30)[0]
        r = await svc.get("/customers", ada30_min=str(floor))
        assert {i["customer_id"] for i in r.json()["items"]} == set(by_ada[:2])
        r = await svc.get("/customers", age_min=40, age_max=50)
        assert [i["customer_id"] for i in r.json()["items"]] == ["w-1"]
        # ADA and asset bands (HKD here), with the age
        all_bands = bands([Decimal(10_000), Decimal(100_000), Decimal(1_000_000)])
        for b in all_bands:
            want = sorted(c for c in model if band_of(expected_ada(model[c], 30)[0], all_bands) == b)
            r = await svc.get("/customers", ada_band=b.key)
            assert sorted(i["customer_id"] for i in r.json()["items"]) == want, b
            want = sorted(c for c in model if band_of(model[c][max(model[c])], all_bands) == b)
            r = await svc.get("/customers", asset_band=b.key, sort="assets")
            assert sorted(i["customer_id"] for i in r.json()["items"]) == want, b
        w1 = band_of(model["w-1"][max(model["w-1"])], all_bands).key
        r = await svc.get("/customers", asset_band=w1, age_min=40, age_max=50)
        assert [i["customer_id"] for i in r.json()["items"]] == ["w-1"]
        denied = await svc.get("/customers", role="auditor", age_min=40)
        assert denied.status_code == 403 and "age_min" in denied.json()["detail"]
        before = stored(svc)
        await svc.stop_worker()
        verified = await ops_rebuild_verified("customer", url)
        series_tables = {"customer_account_asset_day", "customer_asset_day", "customer_asset_account"}
        assert series_tables <= set(verified) and all(verified[t]["rows_after"] > 0 for t in series_tables)
        assert stored(svc) == before
    finally:
        await svc.stop()

    # ---- replay the topics from the start into a brand-new database: the same rows
    replay = await Service(kafka_settings, pg_database("wealth2"), "-replay").start()
    try:
        async def same():
            assert stored(replay) == before
            return True

        await poll(same, timeout=60, message="replayed series identical")
    finally:
        await replay.stop()
