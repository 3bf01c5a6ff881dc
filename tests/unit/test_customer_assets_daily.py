"""Daily asset series and ADA: the pure functions (carry-forward, the time zone's day boundary, windows) and
the fold on SQLite against a brute-force model of the same snapshots, in any order, with duplicates, and a
rebuild that writes the same rows."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.customer.bootstrap import bootstrap
from services.customer.consumers import UpstreamHandler
from services.customer.domain.daily import (
    WINDOWS,
    AccountDay,
    CustomerDay,
    ada,
    change,
    change_points,
    expand,
    local_day,
    prefix_at,
)
from services.customer.settings import CustomerSettings
from shared.events import registry
from shared.events.upstream import AssetSnapshotTaken, CustomerRegistered
from shared.runtime.settings import AuthSettings, BrokerageSettings, KafkaSettings

HK = ZoneInfo("Asia/Hong_Kong")
NY = ZoneInfo("America/New_York")


def acct(account: str, day: date, total: str, *, currency: str = "USD", hour: int = 0, fid: str = "a") -> AccountDay:
    return AccountDay(account, day, currency, Decimal(total), datetime(2025, 1, 1, hour, tzinfo=UTC)
                      + timedelta(days=(day - date(2025, 1, 1)).days), fid)


# ------------------------------------------------------------------------------------------- pure
def test_local_day_follows_the_brokerage_time_zone():
    assert local_day(datetime(2025, 3, 1, 15, 59, tzinfo=UTC), HK) == date(2025, 3, 1)
    assert local_day(datetime(2025, 3, 1, 16, 0, tzinfo=UTC), HK) == date(2025, 3, 2)  # 00:00 in Hong Kong
    assert local_day(datetime(2025, 3, 1, 16, 0, tzinfo=UTC), ZoneInfo("UTC")) == date(2025, 3, 1)
    # across a DST change (New York, 9 March 2025): the day is 23 hours long
    assert local_day(datetime(2025, 3, 10, 3, 59, tzinfo=UTC), NY) == date(2025, 3, 9)
    assert local_day(datetime(2025, 3, 10, 4, 0, tzinfo=UTC), NY) == date(2025, 3, 10)
    with pytest.raises(ValueError):
        local_day(datetime(2025, 3, 1), HK)


def test_change_points_carry_forward_and_only_store_changes():
    d = date(2025, 1, 1)
    rows = [acct("A", d, "100"), acct("B", d + timedelta(days=1), "50"), acct("A", d + timedelta(days=3), "100"),
            acct("A", d + timedelta(days=5), "70")]
    pts = change_points({}, None, rows, d)
    # day 0: 100; day 1: 150 (A carried); day 3: A unchanged → no point; day 5: 120
    assert [(p.day - d).days for p in pts] == [0, 1, 5]
    assert [p.total for p in pts] == [Decimal(100), Decimal(150), Decimal(120)]
    daily = [v for _, _, v in expand(pts, d - timedelta(days=1), d + timedelta(days=6))]
    assert daily == [None, 100, 150, 150, 150, 150, 120, 120]
    assert pts[-1].cum == 100 + 150 * 4 + 120  # the sum of the daily totals up to day 5
    assert prefix_at(pts, d + timedelta(days=6)) == 100 + 150 * 4 + 120 * 2
    assert prefix_at(pts, d - timedelta(days=1)) == 0
    # recomputing from day 3 with what was carried gives the same tail
    carried = {"A": rows[0], "B": rows[1]}
    assert change_points(carried, pts[1], rows[2:], d + timedelta(days=3)) == pts[2:]


def test_valuation_currency_is_the_latest_snapshots():
    d = date(2025, 1, 1)
    rows = [acct("A", d, "100", currency="USD", hour=1), acct("B", d, "800", currency="HKD", hour=2),
            acct("A", d + timedelta(days=1), "110", currency="USD", hour=3)]
    pts = change_points({}, None, rows, d)
    assert [(p.currency, p.total) for p in pts] == [("HKD", Decimal(800)), ("USD", Decimal(110))]


def brute_ada(daily: dict[date, Decimal], as_of: date, n: int) -> tuple[Decimal, Decimal]:
    def total(first: date, last: date) -> Decimal:
        return sum((daily.get(first + timedelta(days=i), Decimal(0)) for i in range((last - first).days + 1)),
                   Decimal(0))

    cur = total(as_of - timedelta(days=n - 1), as_of) / n
    prev = total(as_of - timedelta(days=2 * n - 1), as_of - timedelta(days=n)) / n
    return cur.quantize(Decimal("0.00000001")), prev.quantize(Decimal("0.00000001"))


def test_windows_equal_the_average_of_the_daily_values():
    rng = random.Random(7)
    d0 = date(2024, 1, 1)
    rows = [acct("A", d0 + timedelta(days=i), str(rng.randint(0, 10_000))) for i in sorted(rng.sample(range(800), 120))]
    pts = change_points({}, None, rows, d0)
    as_of = rows[-1].day
    daily = {day: v for day, _, v in expand(pts, d0, as_of) if v is not None}
    windows = ada(lambda d: prefix_at(pts, d), as_of)
    assert set(windows) == set(WINDOWS)
    for n in WINDOWS:
        assert windows[n] == brute_ada(daily, as_of, n), n
    # a window reaching before the first snapshot counts those days as 0
    early = ada(lambda d: prefix_at(pts, d), d0 + timedelta(days=9))
    assert early[30][1] == 0


def test_change_versus_the_previous_window():
    assert change(Decimal(150), Decimal(100)) == (Decimal(50), Decimal("50.00"))
    assert change(Decimal(5), Decimal(0)) == (Decimal(5), None)
    assert change(None, Decimal(1)) == (None, None)
    assert CustomerDay(date(2025, 1, 1), "USD", Decimal(2), Decimal(2)).prefix(date(2025, 1, 3)) == 6


# ------------------------------------------------------------------------------------ the fold
def ev(payload):
    return registry.decode(registry.envelope(payload, producer="test").model_dump(mode="json"))


def world(tmp_path, name: str):
    settings = CustomerSettings(database_url=f"sqlite:///{tmp_path}/{name}.db",
                                auth=AuthSettings(jwt_secret="unit-secret-0123456789-abcdefghijklmnop"),
                                kafka=KafkaSettings(topic_prefix="unit."),
                                brokerage=BrokerageSettings(timezone="Asia/Hong_Kong"))
    return bootstrap(settings)


def model(events, tz) -> dict[str, dict[date, tuple[str, Decimal]]]:
    """Brute force: per customer, the value of every day from its first snapshot to its last."""
    last: dict[tuple[str, str, date], tuple[tuple[datetime, str], str, Decimal]] = {}
    for e in events:
        p = e.payload
        if not isinstance(p, AssetSnapshotTaken):
            continue
        key = (p.customer_id, p.account_id, p.as_of.astimezone(tz).date())
        rank = (p.as_of.astimezone(UTC), str(e.event_id))
        if key not in last or rank > last[key][0]:
            last[key] = (rank, p.currency, Decimal(str(p.total_assets)))
    out: dict[str, dict[date, tuple[str, Decimal]]] = {}
    for cid in sorted({k[0] for k in last}):
        days = sorted({k[2] for k in last if k[0] == cid})
        carried: dict[str, tuple[tuple[datetime, str], str, Decimal]] = {}
        series = {}
        d = days[0]
        while d <= days[-1]:
            for (c, a, day), v in last.items():
                if c == cid and day == d:
                    carried[a] = v
            currency = max(carried.values())[1]
            series[d] = (currency, sum((v[2] for v in carried.values() if v[1] == currency), Decimal(0)))
            d += timedelta(days=1)
        out[cid] = series
    return out


def snapshots(rng: random.Random) -> list:
    start = datetime(2025, 1, 1, 8, tzinfo=UTC)  # 16:00 in Hong Kong
    out = [CustomerRegistered(customer_id=c, registered_at=start - timedelta(days=1), channel="organic")
           for c in ("w1", "w2")]
    for day in range(120):
        for cid, accounts in (("w1", ("w1-A", "w1-B")), ("w2", ("w2-A",))):
            for acc in accounts:
                if rng.random() < 0.3:
                    continue  # no snapshot that day: carried forward
                for _ in range(rng.choice((1, 1, 2))):  # sometimes an intraday one too
                    at = start + timedelta(days=day, hours=rng.choice((0, 7, 8, 9)))  # 8h UTC = next day in HK
                    out.append(AssetSnapshotTaken(customer_id=cid, account_id=acc, as_of=at, currency="USD",
                                                  total_assets=str(rng.randint(0, 50_000)), cash="0"))
    return out


def dump(c) -> dict[str, list]:
    t = c.tables
    with c.sessions() as s:
        cols = [t.customer.c[k] for k in ("customer_id", "ada_currency", "ada_as_of", "ada30", "ada30_prev",
                                          "ada90", "ada90_prev", "ada365", "ada365_prev")]
        return {"account_day": sorted(map(tuple, s.execute(select(t.account_day)))),
                "customer_day": sorted(map(tuple, s.execute(select(t.customer_day)))),
                "ada": sorted(map(tuple, s.execute(select(*cols))))}


def test_fold_equals_the_model_in_any_order_and_a_rebuild_writes_the_same_rows(tmp_path):
    rng = random.Random(18)
    events = [ev(p) for p in snapshots(rng)]
    expected = model(events, HK)
    regs, snaps = events[:2], events[2:]
    shuffled = snaps + rng.sample(snaps, 40)  # re-publications
    rng.shuffle(shuffled)
    results = []
    for name, order in (("in_order", snaps), ("shuffled", shuffled)):
        c = world(tmp_path, name)
        handler = UpstreamHandler(c.app, "g", ["t"], c.cache)
        handler.apply("t", 0, regs, 2)
        offset, i = 2, 0
        while i < len(order):
            n = rng.randint(1, 60)
            offset += len(order[i:i + n])
            handler.apply("t", 0, order[i:i + n], offset)
            i += n
        got = dump(c)
        results.append(got)
        # the stored change points expand to the model's daily values
        for cid, series in expected.items():
            pts = [CustomerDay(r[1], r[2], Decimal(r[3]), Decimal(r[4])) for r in got["customer_day"] if r[0] == cid]
            first, last = min(series), max(series)
            assert {d: (cur, v) for d, cur, v in expand(pts, first, last)} == series
            row = next(r for r in got["ada"] if r[0] == cid)
            assert row[2] == last and row[1] == "USD"
            daily = {d: v for d, (_, v) in series.items()}
            for k, n in enumerate(WINDOWS):
                cur, prev = brute_ada(daily, last, n)
                assert (Decimal(row[3 + 2 * k]), Decimal(row[4 + 2 * k])) == (cur, prev), (cid, n)
        c.rebuild_read_model()
        assert dump(c) == got
        c.app.close()
        c.engine.dispose()
    assert results[0] == results[1]


def test_migrate_adds_the_new_columns_and_indexes_to_an_existing_customer_table(tmp_path):
    from sqlalchemy import inspect, text

    c = world(tmp_path, "old")
    new = ("date_of_birth", "ada_currency", "ada_as_of", "ada30", "ada30_prev", "ada90", "ada90_prev", "ada365",
           "ada365_prev")
    with c.engine.begin() as conn:  # the table as an earlier version created it
        for ix in ("ix_customer_ada30", "ix_customer_stage_ada30", "ix_customer_dob"):
            conn.execute(text(f"DROP INDEX {ix}"))
        for col in new:
            conn.execute(text(f"ALTER TABLE customer DROP COLUMN {col}"))
        conn.execute(text("INSERT INTO customer (customer_id, registered, sort_registered_at, stage, stage_rank, "
                          "stage_entered_at, account_status, verification_status, deposits, withdrawals, "
                          "trades_count, assets_sort, tags, last_activity_at) VALUES ('old', 1, '2025-01-01', "
                          "'registered', 0, '{}', 'none', 'unverified', '{}', '{}', 0, 0, '[]', '2025-01-01')"))
    c.migrate()
    insp = inspect(c.engine)
    assert set(new) <= {col["name"] for col in insp.get_columns("customer")}
    assert {"ix_customer_ada30", "ix_customer_dob"} <= {ix["name"] for ix in insp.get_indexes("customer")}
    with c.engine.connect() as conn:
        assert conn.execute(text("SELECT ada30, ada_as_of FROM customer")).one() == (0, None)
    c.migrate()  # again: nothing to add
    c.app.close()
    c.engine.dispose()
