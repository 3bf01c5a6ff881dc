"""Existing-customer matching: normalisation, the keyed hash, the decision, and the customer service's match
step, review queue, merge and unmerge in-process on SQLite (the broker and PostgreSQL path:
tests/integration/test_customer_matching_flow.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from services.customer.bootstrap import bootstrap
from services.customer.consumers import UpstreamHandler
from services.customer.domain.matching import (
    MatchKeyer,
    decide,
    match_inputs,
    normalise_dob,
    normalise_id_number,
    normalise_name,
    normalise_phone,
)
from services.customer.domain.state import new_state
from services.customer.settings import CustomerSettings
from shared.events import registry
from shared.events.upstream import CustomerRegistered, DepositCompleted, IdentityVerified
from shared.runtime.auth import mint_token
from shared.runtime.settings import AuthSettings, KafkaSettings

T0 = datetime(2025, 3, 1, tzinfo=UTC)


# ------------------------------------------------------------------------------------------ pure
def test_names_normalise_across_case_punctuation_order_and_width():
    assert normalise_name("CHAN, Tai-Man") == normalise_name("tai man chan") == "chan man tai"
    assert normalise_name("ＣＨＡＮ Tai Man") == "chan man tai"  # full-width letters (NFKC)
    assert normalise_name("  ") is None and normalise_name(None) is None


def test_dates_phones_and_id_numbers_normalise():
    assert normalise_dob("1990-02-03") == normalise_dob(date(1990, 2, 3)) == "1990-02-03"
    assert normalise_dob("not a date") is None
    assert normalise_phone("+852", "91234567") == "+85291234567"
    assert normalise_phone("+44", "07911123456") == "+447911123456"  # the national trunk 0 is dropped
    assert normalise_id_number("a123456(7)", "hk") == normalise_id_number("A 123 456 7", "HK") == "HK:A1234567"
    assert normalise_id_number("A1234567", "HK") != normalise_id_number("A1234567", "SG")


def test_the_index_holds_keyed_hashes_only():
    keyer = MatchKeyer(b"k" * 32)
    hashes = keyer.hashes({"id_number": "HK:A1234567"})
    assert hashes["id_number"] != MatchKeyer(b"x" * 32).hashes({"id_number": "HK:A1234567"})["id_number"]
    assert "A1234567" not in hashes["id_number"] and len(hashes["id_number"]) == 64
    # the same value under another key kind is another hash (a phone never matches a customer number)
    assert keyer.digest("customer_number", "1") != keyer.digest("verified_phone", "1")


def test_match_inputs_take_a_phone_only_when_verified_and_name_with_birth_date():
    s = new_state("c1")
    s["profile"] = {"name": ["Chan Tai Man", T0, "f1"], "phone": [["+852", "91234567"], T0, "f1"],
                    "phone_verified": [False, T0, "f1"]}
    assert match_inputs(s) == {}
    s["profile"]["phone_verified"] = [True, T0, "f1"]
    s["identity"] = {"date_of_birth": "1990-02-03", "legal_name": None, "id_number": "A1234567",
                     "issuing_country": "HK"}
    assert match_inputs(s) == {"verified_phone": "+85291234567", "name_dob": "chan man tai|1990-02-03",
                               "id_number": "HK:A1234567"}


def test_exact_keys_win_and_the_decision_is_deterministic():
    found = {"name_dob": {"b"}, "verified_phone": {"z", "y"}, "customer_number": {"x"}}
    d = decide(found)
    assert (d.kind, d.key, d.candidate_id, d.reason) == ("exact", "customer_number", "x", "exact:customer_number")
    assert decide({"verified_phone": {"z", "y"}}).candidate_id == "y"
    assert decide({"name_dob": {"b", "a"}}).reason == "probable:name_dob"
    assert decide({"name_dob": {"a"}}, refused_probable={"a"}) is None  # already suggested
    assert decide({"id_number": {"a"}}, refused_exact={"a"}) is None  # a person separated them
    assert decide({}) is None


# ------------------------------------------------------------------------------- service in-process
def ev(payload):
    return registry.decode(registry.envelope(payload, producer="test").model_dump(mode="json"))


def reg(cid, minutes, **kw):
    return CustomerRegistered(**{"customer_id": cid, "registered_at": T0 + timedelta(minutes=minutes),
                                 "channel": "organic", "name": f"Name {cid}", **kw})


def identity(cid, minutes, *, number, name="Chan Tai Man", dob="1990-02-03"):
    return IdentityVerified(customer_id=cid, verified_at=T0 + timedelta(minutes=minutes), id_type="national_id",
                            id_issuing_country="HK", id_number=number, legal_name=name,
                            date_of_birth=date.fromisoformat(dob))


@pytest.fixture()
def svc(tmp_path):
    auth = AuthSettings(jwt_secret="unit-secret-0123456789-abcdefghijklmnop")
    c = bootstrap(CustomerSettings(database_url=f"sqlite:///{tmp_path}/customer.db", auth=auth,
                                   kafka=KafkaSettings(topic_prefix="unit.")))
    handler = UpstreamHandler(c.app, "g", ["t"], c.cache, c.matcher)
    offset = [0]

    def feed(*payloads):
        offset[0] += len(payloads)
        handler.apply("t", 0, [ev(p) for p in payloads], offset[0])

    def token(role="admin", user="u-admin", **kw):
        return {"Authorization": f"Bearer {mint_token(auth, user_id=user, role=role, **kw)}"}

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=c.api), base_url="http://t")
    yield c, feed, token, client
    c.app.close()
    c.engine.dispose()


def published(c, kind):
    from services.customer.outbox import map_event

    out = []
    for n in c.app.process_recorder.select_notifications(start=1, limit=100_000):
        for o in map_event(c.app.mapper.to_domain_event(n)):
            if o.payload.EVENT_TYPE == f"crm.customer.{kind}":
                out.append(o.payload)
    return out


@pytest.mark.asyncio
async def test_a_registration_with_a_known_customer_number_converts_the_existing_customer(svc):
    c, feed, token, client = svc
    feed(reg("old", 0, customer_number="C-001"), reg("other", 1, customer_number="C-002"))
    feed(reg("new", 60, customer_number="c001"))  # the same number, written differently
    merged = published(c, "merged")
    assert [(m.survivor_id, m.merged_id, m.reason) for m in merged] == [("old", "new", "exact:customer_number")]
    page = (await client.get("/customers", headers=token())).json()
    assert sorted(i["customer_id"] for i in page["items"]) == ["old", "other"]
    counts = (await client.get("/customers/counts", headers=token())).json()
    assert counts["total"] == 2 and counts["source"] == "maintained"
    r = await client.get("/customers/new", headers=token())
    assert r.status_code == 301 and r.headers["location"] == "old" and r.json()["survivor_id"] == "old"
    r = await client.get("/customers/new/360", headers=token(), follow_redirects=True)
    assert r.status_code == 200 and r.json()["profile"]["customer_id"] == "old"  # ../old/360
    detail = (await client.get("/customers/old", headers=token())).json()
    assert detail["merge"]["merged_ids"] == ["new"]
    # the merged customer's later deposit converts the survivor too (its milestones follow)
    feed(DepositCompleted(customer_id="new", transaction_id="tx1", account_id="acc1", amount="100", currency="HKD",
                          completed_at=T0 + timedelta(minutes=90)))
    assert c.app.get_customer("old").view["stage"] == "funded"
    with c.sessions() as s:  # the index holds hashes, never the clear number, and no row of the merged one
        rows = s.execute(select(c.tables.match_key)).mappings().all()
    assert {r["customer_id"] for r in rows} == {"old", "other"}
    assert all("001" not in r["digest"] for r in rows)
    # unmerge restores both
    assert (await client.post("/customers/new/unmerge", json={"comment": "different people"},
                              headers=token(user="lead"))).status_code == 200
    page = (await client.get("/customers", headers=token())).json()
    assert sorted(i["customer_id"] for i in page["items"]) == ["new", "old", "other"]
    assert c.app.get_customer("old").view["stage"] == "registered"
    assert [u.merged_id for u in published(c, "unmerged")] == ["new"]
    # a later fact on the separated customer does not merge them again
    feed(reg("new", 61, customer_number="C-001", name="again"))
    assert c.app.get_customer("new").view["merged_into"] is None


@pytest.mark.asyncio
async def test_a_probable_match_waits_for_review_then_merges_and_unmerges(svc):
    c, feed, token, client = svc
    feed(reg("s1", 0), identity("s1", 1, number="A1111111"))
    feed(reg("c1", 50), identity("c1", 51, number="B2222222", name="TAI MAN, chan"))  # other ID: probable
    assert c.app.get_customer("c1").view["merged_into"] is None
    assert [(m.customer_id, m.candidate_id) for m in published(c, "match_suspected")] == [("c1", "s1")]
    masked = (await client.get("/customer-matches", headers=token("team_lead", user="lead", team_id="T1"))).json()
    assert masked["items"] == []  # neither customer is in the lead's team
    queue = (await client.get("/customer-matches", headers=token("auditor", user="aud"))).json()
    item = queue["items"][0]
    assert (item["customer_id"], item["candidate_id"], item["status"]) == ("c1", "s1", "pending")
    assert item["candidate"]["name"] == "N******" and item["candidate"]["date_of_birth"] == "****-**-**"
    full = (await client.get("/customer-matches", headers=token())).json()["items"][0]
    assert full["candidate"]["date_of_birth"] == "1990-02-03"
    # a manager may not merge; an admin may
    r = await client.post("/customer-matches/c1/s1/merge", json={}, headers=token("manager", user="m1"))
    assert r.status_code == 403
    r = await client.post("/customer-matches/c1/c1/merge", json={}, headers=token())
    assert r.status_code == 422
    r = await client.post("/customer-matches/c1/s1/merge", json={"comment": "same passport photo"},
                          headers=token())
    assert r.status_code == 200 and r.json() == {"survivor_id": "s1", "merged_id": "c1", "reason": "review:name_dob"}
    assert (await client.get("/customer-matches", headers=token())).json()["items"] == []
    merged = (await client.get("/customer-matches?status=merged", headers=token())).json()["items"]
    assert merged[0]["decided_by"] == "u-admin" and merged[0]["comment"] == "same passport photo"
    assert (await client.post("/customer-matches/c1/s1/merge", json={}, headers=token())).status_code == 409
    ids = [i["customer_id"] for i in (await client.get("/customers", headers=token())).json()["items"]]
    assert ids == ["s1"]
    assert (await client.post("/customers/c1/unmerge", json={}, headers=token())).status_code == 200
    ids = [i["customer_id"] for i in (await client.get("/customers", headers=token())).json()["items"]]
    assert sorted(ids) == ["c1", "s1"]
    assert (await client.post("/customers/c1/unmerge", json={}, headers=token())).status_code == 409


@pytest.mark.asyncio
async def test_reject_keeps_both_and_is_not_suggested_again(svc):
    c, feed, token, client = svc
    feed(reg("s1", 0), identity("s1", 1, number="A1"), reg("c1", 5), identity("c1", 6, number="B2"))
    r = await client.post("/customer-matches/c1/s1/reject", json={"comment": "twins"}, headers=token())
    assert r.status_code == 204
    assert (await client.post("/customer-matches/c1/s1/reject", json={}, headers=token())).status_code == 409
    feed(identity("c1", 7, number="B3"))  # keys changed again: the rejected pair is not suggested again
    assert len(published(c, "match_suspected")) == 1
    rejected = (await client.get("/customer-matches?status=rejected", headers=token())).json()["items"]
    assert [(x["customer_id"], x["comment"]) for x in rejected] == [("c1", "twins")]


def test_within_one_batch_the_earlier_customer_survives_and_rebuild_gives_the_same_rows(svc):
    c, feed, _, _ = svc
    feed(reg("a", 0, phone_dialing_code="+852", phone_number="91234567", phone_verified=True),
         reg("b", 1, phone_dialing_code="+852", phone_number="91234567", phone_verified=False),  # not verified
         reg("d", 2, phone_dialing_code="+852", phone_number="91234567", phone_verified=True))
    assert c.app.get_customer("d").view["merged_into"] == "a"
    assert c.app.get_customer("b").view["merged_into"] is None
    tables = c.tables.read_model

    def dump():
        with c.sessions() as s:
            return {t.name: sorted(map(str, s.execute(select(t)).tuples())) for t in tables}

    before = dump()
    c.rebuild_read_model()
    assert dump() == before
