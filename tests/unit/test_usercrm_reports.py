"""User CRM reports in-process on SQLite: accounts (type, currency, status, balance; search), active and
inactive allocations per account (amount with added deposits, search), the fund page and the fund's
allocations in the caller's scope, the statement's filters and CSV, and who may read them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from services.usercrm.bootstrap import bootstrap
from services.usercrm.projections.info import apply_info
from services.usercrm.settings import UsercrmSettings
from shared.events import encode, registry
from shared.events import upstream as up
from shared.events import upstream_user as uu
from shared.events.crm_assignment import CustomerAssigned
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings

pytestmark = pytest.mark.asyncio
AUTH = AuthSettings(jwt_secret="unit-secret-of-at-least-32-bytes-long")
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def h(user: str = "M1", role: str = "manager", team: str | None = "T1") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AUTH, user_id=user, role=role, team_id=team)}"}


@pytest.fixture()
async def client(tmp_path: Path):
    c = bootstrap(UsercrmSettings(database_url=f"sqlite:///{tmp_path / 'rm.db'}",
                                  auth=AUTH))
    at = [T0 + timedelta(hours=i) for i in range(10)]
    payloads = [
        CustomerAssigned(customer_id="C1", manager_id="M1", team_id="T1", reason="manual", assigned_at=T0),
        CustomerAssigned(customer_id="C2", manager_id="M2", team_id="T2", reason="manual", assigned_at=T0),
        up.AccountOpened(customer_id="C1", account_id="C1-CASH", opened_at=at[0], account_type="cash"),
        up.AccountOpened(customer_id="C1", account_id="C1-MRG", opened_at=at[0], account_type="margin"),
        up.AccountClosed(customer_id="C1", account_id="C1-MRG", closed_at=at[5]),
        up.AssetSnapshotTaken(customer_id="C1", account_id="C1-CASH", as_of=at[4], currency="USD",
                              total_assets="9000", cash="1000"),
        up.AssetSnapshotTaken(customer_id="C1", account_id="C1-CASH", as_of=at[2], currency="USD",
                              total_assets="1", cash="1"),  # older: does not win
        uu.FundUpdated(fund_id="F1", name="Asia Growth", strategy="long equity", currency="USD",
                       performance_pct="12.5", as_of=T0),
        uu.FundUpdated(fund_id="F2", name="Global Bonds", currency="USD", performance_pct="3", as_of=T0),
        uu.AllocationStarted(customer_id="C1", allocation_id="AL1", account_id="C1-CASH", fund_id="F1",
                             fund_name="Asia Growth", amount="5000", currency="USD", started_at=at[1]),
        uu.AllocationDeposited(customer_id="C1", allocation_id="AL1", account_id="C1-CASH", transaction_id="TX1",
                               amount="250", currency="USD", deposited_at=at[2]),
        uu.AllocationStarted(customer_id="C1", allocation_id="AL2", account_id="C1-CASH", fund_id="F2",
                             fund_name="Global Bonds", amount="1000", currency="USD", started_at=at[1]),
        uu.AllocationStopped(customer_id="C1", allocation_id="AL2", account_id="C1-CASH", final_value="1030",
                             currency="USD", performance_pct="3", stopped_at=at[3]),
        uu.AllocationStarted(customer_id="C2", allocation_id="AL3", account_id="C2-A", fund_id="F1",
                             fund_name="Asia Growth", amount="700", currency="USD", started_at=at[1]),
        up.DepositCompleted(customer_id="C1", account_id="C1-CASH", transaction_id="D1", amount="6000",
                            currency="USD", completed_at=at[0]),
        up.WithdrawalCompleted(customer_id="C1", account_id="C1-CASH", transaction_id="W1", amount="100",
                               currency="USD", completed_at=at[6]),
        uu.ChargeApplied(customer_id="C1", account_id="C1-CASH", charge_id="CH1", kind="commission", amount="2",
                         currency="USD", charged_at=at[7]),
    ]
    with c.sessions.begin() as s:
        apply_info(s, [registry.decode(encode(registry.envelope(p, producer="platform"))) for p in payloads])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://uc") as http:
        yield http
    c.engine.dispose()
    c.app.close()


async def test_accounts_with_status_balance_and_search(client):
    items = (await client.get("/usercrm/customers/C1/accounts", headers=h())).json()["items"]
    by_id = {i["account_id"]: i for i in items}
    assert by_id["C1-CASH"]["status"] == "open" and Decimal(by_id["C1-CASH"]["balance"]) == Decimal("9000")
    assert by_id["C1-CASH"]["account_type"] == "cash" and by_id["C1-CASH"]["currency"] == "USD"
    assert by_id["C1-MRG"]["status"] == "closed"
    found = (await client.get("/usercrm/customers/C1/accounts", headers=h(), params={"q": "marg"})).json()["items"]
    assert [i["account_id"] for i in found] == ["C1-MRG"]
    assert (await client.get("/usercrm/customers/C1/accounts", headers=h(), params={"q": ""})).status_code == 422


async def test_active_and_inactive_allocations_fund_page_and_scope(client):
    base = "/usercrm/customers/C1/allocations"
    active = (await client.get(base, headers=h())).json()["items"]
    assert [a["allocation_id"] for a in active] == ["AL1"] and Decimal(active[0]["amount"]) == Decimal("5250")
    inactive = (await client.get(base, headers=h(), params={"status": "inactive"})).json()["items"]
    assert [a["allocation_id"] for a in inactive] == ["AL2"] and inactive[0]["status"] == "inactive"
    assert (await client.get(base, headers=h(), params={"q": "bonds"})).json()["items"] == []  # active only
    assert (await client.get(base, headers=h(), params={"q": "bonds", "status": "inactive"})).json()["items"]
    assert (await client.get(base, headers=h(), params={"account_id": "C1-MRG"})).json()["items"] == []
    assert (await client.get(base, headers=h(), params={"status": "stopped"})).status_code == 422
    fund = (await client.get("/usercrm/funds/F1", headers=h())).json()
    assert fund["name"] == "Asia Growth" and fund["strategy"] == "long equity"
    assert (await client.get("/usercrm/funds/F9", headers=h())).status_code == 404
    mine = (await client.get("/usercrm/funds/F1/allocations", headers=h())).json()["items"]
    assert [a["allocation_id"] for a in mine] == ["AL1"]  # C2's AL3 is not in M1's scope
    every = (await client.get("/usercrm/funds/F1/allocations", headers=h("A1", "admin", None))).json()["items"]
    assert {a["allocation_id"] for a in every} == {"AL1", "AL3"}
    assert (await client.get("/usercrm/customers/C2/allocations", headers=h())).status_code == 404


async def test_statement_filters_csv_and_permission(client):
    base = "/usercrm/customers/C1/statement"
    items = (await client.get(base, headers=h())).json()["items"]
    assert [i["kind"] for i in items][:3] == ["charge", "withdrawal", "allocation"]  # newest first
    money = (await client.get(base, headers=h(), params={"kind": ["deposit", "withdrawal"]})).json()["items"]
    assert {i["reference"] for i in money} == {"D1", "W1"}
    assert Decimal(next(i for i in money if i["reference"] == "W1")["amount"]) == Decimal("-100")
    window = {"since": (T0 + timedelta(hours=6)).isoformat(), "until": (T0 + timedelta(hours=7)).isoformat()}
    assert [i["reference"] for i in (await client.get(base, headers=h(), params=window)).json()["items"]] == ["W1"]
    assert (await client.get(base, headers=h(), params={"kind": "dividend"})).status_code == 422
    rows = list(csv.reader(io.StringIO((await client.get(f"{base}.csv", headers=h())).text)))
    assert rows[0][0] == "entry_id" and len(rows) == len(items) + 1
    assert (await client.get(base, headers=h("K1", "kyc_reviewer", None))).status_code == 403
