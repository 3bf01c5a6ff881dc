"""The User CRM read models from the platform's events: one batch gives the rows one-at-a-time application
gives, in any delivery order (out-of-order and replayed events included), on SQLite."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ops.rebuild import table_digests
from services.usercrm.projections import tables as t
from services.usercrm.projections.info import apply_info
from services.usercrm.projections.profile import bank_accounts, profile_sections
from shared.events import Event, encode, registry
from shared.events import upstream as up
from shared.events import upstream_user as uu
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned
from shared.runtime.db import make_engine, session_factory

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def events() -> list[Event]:
    h = timedelta(hours=1)
    payloads = [
        up.CustomerRegistered(customer_id="C1", registered_at=T0, channel="organic", email="a@x.com", language="en"),
        up.ProfileUpdated(customer_id="C1", updated_at=T0 + h, email="b@x.com"),
        uu.GeneralUpdated(customer_id="C1", updated_at=T0 + 2 * h, general=uu.GeneralInfo(time_zone="Asia/Hong_Kong")),
        uu.GeneralUpdated(customer_id="C1", updated_at=T0 + 3 * h, general=uu.GeneralInfo(email="c@x.com")),
        CustomerAssigned(customer_id="C1", manager_id="M1", team_id="T1", reason="manual", assigned_at=T0),
        CustomerAssigned(customer_id="C1", manager_id="M2", team_id="T1", previous_manager_id="M1",
                         reason="manual", assigned_at=T0 + h),
        CustomerUnassigned(customer_id="C1", manager_id="M2", reason="manual", unassigned_at=T0 + 2 * h),
        up.AccountOpened(customer_id="C1", account_id="A1", opened_at=T0),
        up.AssetSnapshotTaken(customer_id="C1", account_id="A1", as_of=T0 + h, currency="USD", total_assets="10",
                              cash="10"),
        up.AssetSnapshotTaken(customer_id="C1", account_id="A1", as_of=T0 + 2 * h, currency="USD",
                              total_assets="20", cash="5"),
        up.AccountClosed(customer_id="C1", account_id="A1", closed_at=T0 + 5 * h),
        up.DepositCompleted(customer_id="C1", account_id="A1", transaction_id="D1", amount="100", currency="USD",
                            completed_at=T0 + h),
        up.TradeExecuted(customer_id="C1", account_id="A1", trade_id="TR1", symbol="AAPL", market="US", side="sell",
                         quantity="2", price="3", currency="USD", executed_at=T0 + h),
        uu.AllocationStarted(customer_id="C1", allocation_id="AL1", account_id="A1", fund_id="F1", fund_name="Asia",
                             amount="50", currency="USD", started_at=T0 + h),
        uu.AllocationDeposited(customer_id="C1", allocation_id="AL1", account_id="A1", transaction_id="AD1",
                               amount="5", currency="USD", deposited_at=T0 + 2 * h),
        uu.AllocationValued(customer_id="C1", allocation_id="AL1", value="60", currency="USD", performance_pct="9",
                            as_of=T0 + 3 * h),
        uu.AllocationValued(customer_id="C1", allocation_id="AL1", value="58", currency="USD", performance_pct="4",
                            as_of=T0 + 2 * h),
        uu.FundUpdated(fund_id="F1", name="Asia", currency="USD", performance_pct="3", as_of=T0),
        uu.FundUpdated(fund_id="F1", name="Asia II", currency="USD", performance_pct="4", as_of=T0 + h),
        uu.BankAccountSaved(customer_id="C1", saved_at=T0, bank_account=uu.BankAccountInfo(
            bank_account_id="B1", provider="HSBC", account_number="1234567890")),
        uu.BankAccountRemoved(customer_id="C1", bank_account_id="B1", removed_at=T0 + h),
        uu.LoginRecorded(customer_id="C1", login_id="L1", at=T0, ip="10.0.0.1", source="web"),
        uu.ChargeApplied(customer_id="C1", account_id="A1", charge_id="CH1", kind="fee", amount="1", currency="USD",
                         charged_at=T0 + h),
    ]
    return [registry.decode(encode(registry.envelope(p, producer="platform"))) for p in payloads]


def _apply(url: str, batches: list[list[Event]]) -> dict:
    engine = make_engine(url)
    t.metadata.create_all(engine)
    sessions = session_factory(engine)
    for batch in batches:
        with sessions.begin() as s:
            apply_info(s, batch)
    engine.dispose()
    return table_digests(url)


def test_one_batch_equals_one_by_one_in_any_order(tmp_path: Path):
    evs = events()
    together = _apply(f"sqlite:///{tmp_path / 'a.db'}", [evs])
    for seed in range(3):
        shuffled = evs[:]
        random.Random(seed).shuffle(shuffled)
        assert _apply(f"sqlite:///{tmp_path / f'b{seed}.db'}", [[e] for e in shuffled]) == together
    # an upstream retry delivered again (the consumer de-duplicates by event id; rows are idempotent too)
    assert _apply(f"sqlite:///{tmp_path / 'c.db'}", [evs, evs[:5]]) == together


def test_folded_tabs_and_latest_values(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'd.db'}"
    shuffled = events()
    random.Random(7).shuffle(shuffled)
    _apply(url, [[e] for e in shuffled])
    engine = make_engine(url)
    with session_factory(engine)() as s:
        general = profile_sections(s, "C1", ("general",))["general"]
        assert general["email"] == "c@x.com" and general["time_zone"] == "Asia/Hong_Kong" and general["language"] == "en"
        assert bank_accounts(s, "C1") == []
        account = s.execute(t.account.select()).mappings().one()
        assert str(account["balance"]).startswith("20") and account["closed_at"] is not None
        alloc = s.execute(t.allocation.select()).mappings().one()
        assert str(alloc["value"]).startswith("60")
        assert s.execute(t.fund.select()).mappings().one()["name"] == "Asia II"
        owners = {r["manager_id"]: r["active"] for r in s.execute(t.owner.select()).mappings()}
        assert owners == {"M1": False, "M2": False}
        assert {r["kind"] for r in s.execute(t.statement.select()).mappings()} == {
            "deposit", "trade", "allocation", "charge"}
    engine.dispose()
