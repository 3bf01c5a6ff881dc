"""Asset bands and ages: the pure computations (band edges, band of a value, merged ranges, completed years
and the date-of-birth range of an age filter, 29 February) and the list filters `asset_band` / `ada_band` /
`age_min` / `age_max` on SQLite, combined with each other and with a dynamic segment, masked callers refused."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.customer.domain.bands import age_on, band_of, bands, birth_range, ranges
from shared.events.upstream import AccountOpened, AssetSnapshotTaken, IdentityVerified
from tests.unit.test_customer_api import T0, registered, world  # noqa: F401

EDGES = [Decimal(10_000), Decimal(100_000), Decimal(1_000_000)]


def test_bands_cut_at_the_edges_half_open_last_open_above():
    b = bands(EDGES)
    assert [x.key for x in b] == ["0-10000", "10000-100000", "100000-1000000", "1000000-"]
    assert [band_of(Decimal(v), b).key for v in ("0", "9999.99", "10000", "999999.999", "1000000", "5e9")] == [
        "0-10000", "0-10000", "10000-100000", "100000-1000000", "1000000-", "1000000-"]
    assert band_of(None, b).key == "0-10000" and band_of(Decimal(-5), b).key == "0-10000"
    assert [x.key for x in bands([Decimal("2.5"), Decimal(1000)])] == ["0-2.5", "2.5-1000", "1000-"]
    for wrong in ([Decimal(10), Decimal(10)], [Decimal(100), Decimal(10)], [Decimal(0)], [Decimal(-1)]):
        with pytest.raises(ValueError):
            bands(wrong)


def test_chosen_bands_become_the_fewest_ranges():
    b = bands(EDGES)
    assert ranges(["10000-100000"], b) == [(Decimal(10_000), Decimal(100_000))]
    assert ranges(["100000-1000000", "0-10000", "10000-100000"], b) == [(Decimal(0), Decimal(1_000_000))]
    assert ranges(["0-10000", "1000000-", "0-10000"], b) == [(Decimal(0), Decimal(10_000)),
                                                            (Decimal(1_000_000), None)]
    with pytest.raises(KeyError):
        ranges(["5-6"], b)


def test_age_in_completed_years_and_the_birth_range_agree():
    assert age_on(date(1980, 6, 15), date(2025, 6, 14)) == 44
    assert age_on(date(1980, 6, 15), date(2025, 6, 15)) == 45
    # born 29 February: a year older on 1 March of a common year, on 29 February of a leap year
    assert age_on(date(2000, 2, 29), date(2025, 2, 28)) == 24 and age_on(date(2000, 2, 29), date(2025, 3, 1)) == 25
    assert age_on(date(2000, 2, 29), date(2028, 2, 29)) == 28
    assert birth_range(date(2025, 6, 15), None, None) == (None, None)
    today = date(2025, 2, 28)
    after, upto = birth_range(today, 24, 24)
    assert (after, upto) == (date(2000, 2, 28), date(2001, 2, 28))
    # the range is exactly the days of birth with that age, every day of four years around the edges
    for lo, hi in ((24, 24), (18, 30), (0, 0), (65, None), (None, 17)):
        after, upto = birth_range(today, lo, hi)
        born = date(1990, 1, 1)
        while born <= today:
            age = age_on(born, today)
            in_age = (lo is None or age >= lo) and (hi is None or age <= hi)
            in_range = (after is None or born > after) and (upto is None or born <= upto)
            assert in_age == in_range, (born, lo, hi)
            born += timedelta(days=1)


@pytest.mark.asyncio
async def test_band_and_age_filters_combine_and_define_segments(world):  # noqa: F811
    c, feed, _feed_assign, token, client = world
    values = {"b0": "500", "b1": "10000", "b2": "250000", "b3": "1000000", "b4": "20000"}
    feed(*[registered(cid, i) for i, cid in enumerate([*values, "none", "hkd"])])
    feed(*[AccountOpened(customer_id=cid, account_id=f"{cid}-A", opened_at=T0) for cid in [*values, "hkd"]])
    feed(*[AssetSnapshotTaken(customer_id=cid, account_id=f"{cid}-A", as_of=T0 + timedelta(hours=1),
                              currency="USD", total_assets=Decimal(v), cash=Decimal(v)) for cid, v in values.items()],
         AssetSnapshotTaken(customer_id="hkd", account_id="hkd-A", as_of=T0 + timedelta(hours=1), currency="HKD",
                            total_assets=Decimal(50), cash=Decimal(50)))
    today = date.today()
    born = {"b1": 30, "b2": 45, "b4": 45, "b3": 70}  # ages today
    feed(*[IdentityVerified(customer_id=cid, verified_at=T0 + timedelta(days=1), id_type="passport",
                            id_issuing_country="HK", id_number=f"P{cid}", date_of_birth=date(today.year - age, 1, 1)) for cid, age in born.items()])
    admin = token("admin")

    async def ids(**params) -> list[str]:
        r = await client.get("/customers", params=params, headers=admin)
        assert r.status_code == 200, r.text
        return sorted(i["customer_id"] for i in r.json()["items"])

    bands_doc = (await client.get("/customers/bands", headers=admin)).json()
    assert bands_doc["currency"] == "USD" and [b["key"] for b in bands_doc["items"]] == [
        "0-10000", "10000-100000", "100000-1000000", "1000000-"]
    assert bands_doc["items"][-1] == {"key": "1000000-", "low": "1000000", "high": None}
    assert await ids(asset_band="0-10000") == ["b0", "none"]  # no assets: the lowest band; HKD: no band
    assert await ids(asset_band=["10000-100000", "100000-1000000"]) == ["b1", "b2", "b4"]
    assert await ids(asset_band="1000000-") == ["b3"]
    assert await ids(asset_band="10000-100000", age_min=40) == ["b4"]
    assert await ids(age_min=40, age_max=50) == ["b2", "b4"]
    assert await ids(age_min=40, age_max=50, asset_band="100000-1000000", sort="assets") == ["b2"]
    # ADA over 30 days, the days before the first snapshot counting 0: the value / 30
    assert await ids(ada_band="0-10000") == ["b0", "b1", "b2", "b4", "none"]
    assert await ids(ada_band="10000-100000") == ["b3"]
    assert await ids(ada_band="10000-100000", asset_band="1000000-", age_min=70, age_max=70) == ["b3"]
    r = (await client.get("/customers", params={"asset_band": "0-10000", "sort": "assets", "order": "desc"},
                          headers=admin)).json()["items"]
    assert [i["customer_id"] for i in r][0] == "b0"
    bad = await client.get("/customers", params={"asset_band": "5-6"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.asset_band"
    bad = await client.get("/customers", params={"ada_band": "ten"}, headers=admin)
    assert bad.status_code == 422 and "ada_band" in bad.text
    masked = await client.get("/customers", params={"age_min": 40}, headers=token("auditor"))
    assert masked.status_code == 403

    r = await client.post("/customers/segments", json={"name": "Mid-age mass affluent", "kind": "dynamic",
                                                       "filter": {"asset_band": ["10000-100000", "100000-1000000"],
                                                                  "age_min": 40}}, headers=admin)
    assert r.status_code == 201 and r.json()["count"] == 2, r.text
    assert await ids(segment=r.json()["segment_id"]) == ["b2", "b4"]
    bad = await client.post("/customers/segments", json={"name": "x", "kind": "dynamic",
                                                         "filter": {"asset_band": ["bogus"]}}, headers=admin)
    assert bad.status_code == 422 and "asset_band" in bad.text
