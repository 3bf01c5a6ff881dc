"""Customer API in-process on SQLite (no broker): handlers fed directly, then every route through HTTP."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from services.customer.bootstrap import bootstrap
from services.customer.consumers import UpstreamHandler, apply_assignments
from services.customer.container import ASSIGNMENT_GROUP
from services.customer.settings import CustomerSettings
from shared.events import registry
from shared.events.crm_assignment import CustomerAssigned, CustomerUnassigned
from shared.events.upstream import (
    AccountOpened,
    CustomerRegistered,
    DepositCompleted,
    IdentityVerified,
    ReferralLinked,
    TradeExecuted,
)
from shared.runtime.auth import mint_token
from shared.runtime.db import Tracker
from shared.runtime.handlers import SqlBatchHandler
from shared.runtime.settings import AuthSettings, KafkaSettings

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def ev(payload):
    return registry.decode(registry.envelope(payload, producer="test").model_dump(mode="json"))


def registered(cid: str, minutes: int, **kw):
    base = dict(customer_id=cid, registered_at=T0 + timedelta(minutes=minutes), channel="organic",
                name=f"Name {cid}", phone_dialing_code="+852", phone_number=f"9{minutes:07d}",
                email=f"{cid}@example.com")
    base.update(kw)
    return CustomerRegistered(**base)


@pytest.fixture()
def world(tmp_path):
    auth = AuthSettings(jwt_secret="unit-secret-0123456789-abcdefghijklmnop")
    settings = CustomerSettings(database_url=f"sqlite:///{tmp_path}/customer.db",
                                auth=auth, kafka=KafkaSettings(topic_prefix="unit."))
    c = bootstrap(settings)
    handler = UpstreamHandler(c.app, "g", ["t"], c.cache)
    assign = SqlBatchHandler(c.sessions, Tracker(c.tables.consumer_position, c.tables.processed_event,
                                                 ASSIGNMENT_GROUP), apply_assignments(c.tables))
    offsets = {"up": 0, "as": 0}

    def feed(*payloads):
        events = [ev(p) for p in payloads]
        offsets["up"] += len(events)
        handler.apply("t", 0, events, offsets["up"])

    def feed_assign(*payloads):
        events = [ev(p) for p in payloads]
        offsets["as"] += len(events)
        assign.apply("a", 0, events, offsets["as"])

    def token(role: str, user: str = "u-admin", **kw) -> dict:
        return {"Authorization": f"Bearer {mint_token(auth, user_id=user, role=role, **kw)}"}

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://t")
    yield c, feed, feed_assign, token, client
    c.app.close()
    c.engine.dispose()


def assigned(cid, manager, team, minutes=0, stage=None):
    return CustomerAssigned(customer_id=cid, manager_id=manager, team_id=team, reason="manual", stage=stage,
                            assigned_at=T0 + timedelta(minutes=minutes))


async def test_list_filters_search_pages_and_masking(world):
    c, feed, feed_assign, token, client = world
    feed(*[registered(f"c{i:02d}", i, residence_country="HK" if i % 2 else "SG") for i in range(30)])
    feed(AccountOpened(customer_id="c03", account_id="a3", opened_at=T0 + timedelta(hours=1)),
         DepositCompleted(customer_id="c03", account_id="a3", transaction_id="x1", amount=Decimal("500.5"),
                          currency="USD", completed_at=T0 + timedelta(hours=2)))
    admin = token("admin")
    r = await client.get("/customers", params={"limit": 7}, headers=admin)
    assert r.status_code == 200, r.text
    seen, cursor = [], None
    while True:
        r = await client.get("/customers", params={"limit": 7, **({"cursor": cursor} if cursor else {})},
                             headers=admin)
        body = r.json()
        seen += [i["customer_id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"c{i:02d}" for i in reversed(range(30))]
    r = await client.get("/customers", params={"user_region": "SG", "stage": "registered", "limit": 100},
                         headers=admin)
    assert {i["customer_id"] for i in r.json()["items"]} == {f"c{i:02d}" for i in range(0, 30, 2)}
    r = await client.get("/customers", params={"deposit_currency": "USD", "deposit_min": "500"}, headers=admin)
    items = r.json()["items"]
    assert [i["customer_id"] for i in items] == ["c03"] and items[0]["deposits"] == {"USD": "500.5"}
    assert items[0]["stage"] == "funded"
    r = await client.get("/customers", params={"q": "name c1"}, headers=admin)
    assert {i["customer_id"] for i in r.json()["items"]} == {f"c{i}" for i in range(10, 20)}
    r = await client.get("/customers", params={"q": "c05@EXAMPLE"}, headers=admin)
    assert [i["customer_id"] for i in r.json()["items"]] == ["c05"]
    r = await client.get("/customers", params={"q": "+85290000007"}, headers=admin)
    assert [i["customer_id"] for i in r.json()["items"]] == ["c07"]
    # masking: admin has CustomerPiiRead, an auditor has not
    full = (await client.get("/customers", params={"q": "c07"}, headers=admin)).json()["items"][0]
    masked = (await client.get("/customers", params={"q": "c07"}, headers=token("auditor"))).json()["items"][0]
    assert full["email"] == "c07@example.com" and full["phone_number"] == "90000007"
    assert masked["email"] == "c***@example.com" and masked["phone_number"].endswith("0007")
    assert "9000" not in masked["phone_number"] and masked["name"].startswith("N") and "c07" not in masked["name"]
    r = await client.get("/customers", params={"sort": "assets", "order": "asc", "limit": 3}, headers=admin)
    assert r.status_code == 200 and r.json()["next_cursor"]
    counts = (await client.get("/customers/counts", headers=admin)).json()
    assert counts["counts"]["registered"] == 29 and counts["counts"]["funded"] == 1 and counts["source"] == "maintained"


async def test_bad_input_is_problem_json_naming_the_field(world):
    c, feed, feed_assign, token, client = world
    admin = token("admin")
    for params, field in [({"stage": "bogus"}, "stage"), ({"limit": 0}, "limit"), ({"user_region": "hk"}, "user_region"),
                          ({"cursor": "garbage"}, "cursor"), ({"deposit_min": "5"}, "deposit_currency"),
                          ({"registered_from": "2025-01-01T00:00:00"}, "registered_from")]:
        r = await client.get("/customers", params=params, headers=admin)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in r.json()["detail"], r.json()
    assert (await client.get("/customers")).status_code == 401
    for path in ("/customers", "/customers/counts", "/customers/export"):  # no token: 401 before any filter's 422
        for params in ({"stage": "bogus"}, {"deposit_min": "5"}, {"age_min": 30}):
            assert (await client.get(path, params=params)).status_code == 401, (path, params)
    assert (await client.get("/customers/nobody", headers=admin)).status_code == 404
    assert (await client.get("/customers/bad%20id", headers=admin)).status_code == 422
    r = await client.post("/customers/c1/remarks", json={"text": ""}, headers=admin)
    assert r.status_code == 422 and "text" in r.json()["detail"]


async def test_scope_on_list_detail_counts_and_export(world):
    c, feed, feed_assign, token, client = world
    feed(*[registered(f"s{i}", i) for i in range(6)])
    feed_assign(assigned("s0", "m1", "team-a"), assigned("s1", "m1", "team-a"), assigned("s2", "m2", "team-a"),
                assigned("s3", "m3", "team-b"), assigned("s4", "m1", "team-a", stage="funded"))
    feed_assign(CustomerUnassigned(customer_id="s4", manager_id="m1", stage="funded", reason="manual",
                                   unassigned_at=T0 + timedelta(minutes=5)))
    manager, lead, admin = token("manager", "m1", team_id="team-a"), token("team_lead", "l1", team_id="team-a"), token("admin")

    async def ids(headers, **params):
        r = await client.get("/customers", params={"limit": 100, **params}, headers=headers)
        assert r.status_code == 200, r.text
        return {i["customer_id"] for i in r.json()["items"]}

    assert await ids(manager) == {"s0", "s1"}
    assert await ids(lead) == {"s0", "s1", "s2"}
    assert await ids(admin) == {f"s{i}" for i in range(6)}
    assert await ids(admin, unassigned="true") == {"s4", "s5"}
    assert await ids(admin, manager_id="m1") == {"s0", "s1"}
    assert await ids(admin, team_id="team-b") == {"s3"}
    assert (await client.get("/customers/s2", headers=manager)).status_code == 404
    assert (await client.get("/customers/s2", headers=lead)).status_code == 200
    assert (await client.get("/customers/s3", headers=lead)).status_code == 404
    assert (await client.get("/customers/counts", headers=manager)).json()["total"] == 2
    assert (await client.get("/customers/counts", headers=lead)).json()["counts"]["registered"] == 3
    assert (await client.get("/customers/export", headers=manager)).status_code == 403  # no CustomerExport
    r = await client.get("/customers/export", headers=lead)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert r.status_code == 200 and {row["customer_id"] for row in rows} == {"s0", "s1", "s2"}
    assert all("@" in row["email"] and row["email"].split("@")[0].endswith("***") for row in rows)  # masked
    r = await client.get("/customers/export", headers=admin)
    assert {row["email"] for row in csv.DictReader(io.StringIO(r.text))} >= {"s5@example.com"}
    assert (await client.post("/customers/s3/remarks", json={"text": "hi"}, headers=manager)).status_code == 404


async def test_actions_detail_and_history(world):
    c, feed, feed_assign, token, client = world
    feed(registered("d1", 0, phone_dialing_code=None, phone_number=None, registration_ip_country="SG"),
         registered("d2", 1), ReferralLinked(customer_id="d2", referrer_customer_id="d1", linked_at=T0))
    feed(IdentityVerified(customer_id="d1", verified_at=T0 + timedelta(days=1), id_type="passport",
                          id_issuing_country="MY", id_number="K12345678"),
         TradeExecuted(customer_id="d1", account_id="a", trade_id="t1", symbol="AAPL", market="US", side="buy",
                       quantity=Decimal("1"), price=Decimal("190.1"), currency="USD",
                       executed_at=T0 + timedelta(days=3)))
    admin, mgr = token("admin"), token("manager", "m9", team_id="t9")
    feed_assign(assigned("d1", "m9", "t9"))
    r = await client.post("/customers/d1/remarks", json={"text": "called, interested"}, headers=mgr)
    assert r.status_code == 201, r.text
    r = await client.post("/customer-batches/remarks", json={"customer_ids": ["d1", "d2"], "text": "webinar"},
                          headers=admin)
    assert r.status_code == 201 and set(r.json()["remark_ids"]) == {"d1", "d2"}
    assert (await client.post("/customer-batches/remarks", json={"customer_ids": ["d1", "zz"], "text": "x"},
                              headers=admin)).status_code == 404
    r = await client.post("/customers/d1/tags", json={"add": ["vip", "hk-desk"]}, headers=mgr)
    assert r.json()["tags"] == ["hk-desk", "vip"]
    r = await client.post("/customer-batches/tags", json={"customer_ids": ["d1", "d2"], "add": ["q1"],
                                                          "remove": ["vip"]}, headers=admin)
    assert r.status_code == 200
    r = await client.post("/customers/d1/notes", json={"text": "private thought"}, headers=mgr)
    assert r.status_code == 201
    await client.post("/customers/d1/notes", json={"text": "admin note"}, headers=admin)
    r = await client.put("/customers/d1/verification", json={"status": "pending_review", "reason": "expired ID"},
                         headers=mgr)
    assert r.status_code == 403  # managers lack CustomerVerify
    r = await client.put("/customers/d1/verification", json={"status": "pending_review", "reason": "expired ID"},
                         headers=admin)
    assert r.status_code == 200, r.text
    r = await client.put("/customers/d1/verification", json={"status": "pending_review", "reason": "again"},
                         headers=admin)
    assert r.status_code == 409
    notes = (await client.get("/customers/d1/notes", headers=mgr)).json()["items"]
    assert [n["text"] for n in notes] == ["private thought"]
    remarks = (await client.get("/customers/d1/remarks", headers=mgr)).json()["items"]
    assert [x["text"] for x in remarks] == ["webinar", "called, interested"]
    d = (await client.get("/customers/d1", headers=admin)).json()
    assert d["basic"]["user_region"] == "SG" and d["basic"]["active_region"] == "MY"
    assert d["basic"]["tags"] == ["hk-desk", "q1"] and d["basic"]["verification_status"] == "pending_review"
    assert d["identity"]["id_number"] == "K12345678" and d["referral"]["referees"] == ["d2"]
    assert d["lifecycle"]["stage"] == "traded" and d["trading"]["recent_trades"][0]["price"] == "190.1"
    assert d["managers"][0]["manager_id"] == "m9"
    dm = (await client.get("/customers/d1", headers=mgr)).json()
    assert dm["identity"]["id_number"] != "K12345678" and dm["identity"]["id_number"].endswith("5678")
    past = (await client.get("/customers/d1", params={"as_of": (T0 + timedelta(days=2)).isoformat()},
                             headers=admin)).json()
    assert past["lifecycle"]["stage"] == "registered" and past["basic"]["verification_status"] == "verified"
    assert past["basic"]["active_region"] == "MY" and past["trading"]["trades_count"] == 0
    before = (await client.get("/customers/d1", params={"as_of": (T0 + timedelta(hours=1)).isoformat()},
                               headers=admin)).json()
    assert before["basic"]["active_region"] == "SG" and before["basic"]["verification_status"] == "unverified"
    assert (await client.get("/customers/d1", params={"as_of": (T0 - timedelta(days=1)).isoformat()},
                             headers=admin)).status_code == 404
    row = (await client.get("/customers", params={"tag": "q1", "verification_status": "pending_review"},
                            headers=admin)).json()["items"]
    assert [x["customer_id"] for x in row] == ["d1"]
    assert str(uuid.UUID(remarks[0]["remark_id"]))


def test_json_columns_are_parsed_by_orjson_and_what_it_refuses_by_json():
    from services.customer.bootstrap import _loads

    assert _loads(memoryview(b'{"HKD": "10.50"}')) == {"HKD": "10.50"} and _loads(b"[]") == [] and _loads(b"{}") == {}
    assert _loads(b'["\\ud800"]') == ["\ud800"]  # a lone surrogate's escape: orjson refuses it, json takes it
    assert _loads(b"[123456789012345678901234567890]") == [123456789012345678901234567890]  # beyond 64 bits
