"""Customer domain: region rules (every priority branch), lifecycle derivation, order independence."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.customer.domain.customer import Customer
from services.customer.domain.derive import AccountStatus, view
from services.customer.domain.lifecycle import derive_stage, stage_timeline
from services.customer.domain.regions import active_region, region_from_phone, user_region
from services.customer.domain.state import evolve, new_state
from shared.events.crm_customer import Stage

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


# ------------------------------------------------------------------------------------------ regions
def test_user_region_prefers_residence_country():
    assert user_region("SG", "+852", "91234567", "US") == "SG"


def test_user_region_falls_back_to_full_phone_number_region():
    # +1 is shared by the US and Canada: the full number decides (416 is Toronto).
    assert user_region(None, "+1", "4165551234", "US") == "CA"
    assert user_region(None, "+1", "2125551234", "CA") == "US"
    assert user_region(None, "+852", "91234567", "SG") == "HK"


def test_user_region_uses_dialing_code_when_the_number_is_unknown_or_unmatched():
    assert user_region(None, "+44", None, "US") == "GB"
    assert region_from_phone("+852", "0000") == "HK"  # not a valid HK number: the dialing code's region


def test_user_region_falls_back_to_registration_ip_country():
    assert user_region(None, None, None, "JP") == "JP"
    assert user_region(None, "+800", "12345678", "JP") == "JP"  # non-geographic code: no region


def test_user_region_unknown_when_nothing_is_known():
    assert user_region(None, None, None, None) is None


def test_active_region_prefers_id_issuing_country_then_user_region():
    assert active_region("CN", "HK") == "CN"
    assert active_region(None, "HK") == "HK"
    assert active_region(None, None) is None


# ---------------------------------------------------------------------------------------- lifecycle
def test_stage_is_highest_milestone_and_timeline_is_order_free():
    ms = {Stage.registered: at(0), Stage.pending_account_opening: at(10), Stage.pending_funding: None,
          Stage.funded: None, Stage.traded: None}
    assert derive_stage(ms) == Stage.pending_account_opening
    assert stage_timeline(ms) == {Stage.registered: at(0), Stage.pending_account_opening: at(10)}
    assert derive_stage({s: None for s in Stage}) is None


def test_skipped_stages_are_dated_by_the_later_milestone():
    ms = {Stage.registered: at(0), Stage.pending_account_opening: None, Stage.pending_funding: None,
          Stage.funded: None, Stage.traded: at(50)}
    tl = stage_timeline(ms)
    assert derive_stage(ms) == Stage.traded
    assert tl[Stage.funded] == at(50) and tl[Stage.pending_funding] == at(50) and tl[Stage.registered] == at(0)


def fact(i: int, type_: str, minutes: int, **data):
    return {"id": f"e{i}", "type": type_, "at": at(minutes), "data": {"customer_id": "c1", **data}}


def journey() -> list[dict]:
    return [
        fact(1, "registration.customer_registered", 0, channel="organic", phone_dialing_code="+852",
             phone_number="91234567", email="a@example.com", registration_ip_country="SG", name="Ann Lee"),
        fact(2, "account.application_submitted", 10, application_id="app1", documents=[{}], id_issuing_country="CN"),
        fact(3, "account.opened", 20, application_id="app1", account_id="acc1"),
        fact(4, "funding.deposit_completed", 30, account_id="acc1", transaction_id="tx1", amount="100.10",
             currency="USD"),
        fact(5, "funding.deposit_completed", 31, account_id="acc1", transaction_id="tx2", amount="0.2",
             currency="USD"),
        fact(6, "trading.trade_executed", 40, account_id="acc1", trade_id="t1", symbol="0700", market="HK",
             side="buy", quantity="100", price="300.5", currency="HKD"),
        fact(7, "registration.profile_updated", 45, residence_country="GB"),
        fact(8, "kyc.identity_verified", 46, id_type="passport", id_issuing_country="MY", id_number="X1234567"),
        fact(9, "trading.asset_snapshot_taken", 60, account_id="acc1", currency="USD", total_assets="1234.5",
             cash="10", positions=[]),
        fact(10, "referral.referral_linked", 1, referrer_customer_id="c0", referral_code="R1"),
    ]


def fold(facts: list[dict]) -> dict:
    s = new_state("c1")
    for f in facts:
        s = evolve(s, f)
    return view(s)


def test_in_order_journey_derives_everything():
    v = fold(journey())
    assert v["stage"] == "traded"
    assert v["stage_entered_at"] == {"registered": at(0), "pending_account_opening": at(10),
                                     "pending_funding": at(20), "funded": at(30), "traded": at(40)}
    assert v["account_status"] == AccountStatus.opened
    assert str(v["deposits"]["USD"]) == "100.30"
    assert v["user_region"] == "GB" and v["active_region"] == "MY"  # residence beats phone; ID beats user region
    assert v["verification_status"] == "verified" and v["referrer_customer_id"] == "c0"
    assert v["total_assets"] == Decimal("1234.5") and v["trades_count"] == 1


@pytest.mark.parametrize("seed", range(12))
def test_any_order_with_duplicates_gives_the_same_view(seed):
    facts = journey()
    rnd = random.Random(seed)
    shuffled = facts + rnd.sample(facts, 4)  # duplicates (upstream re-publication)
    rnd.shuffle(shuffled)
    assert fold(shuffled) == fold(facts)


def test_deposit_before_account_opened_and_trade_before_funding():
    facts = journey()
    v = fold([facts[5], facts[3], facts[0]])  # trade, deposit, registration: no application, no account yet
    assert v["stage"] == "traded" and v["account_status"] == "none"
    assert v["stage_entered_at"]["pending_funding"] == at(30)  # dated by the deposit until the account arrives


def test_profile_update_older_than_registration_does_not_win():
    reg = fact(1, "registration.customer_registered", 10, channel="organic", residence_country="HK")
    old = fact(2, "registration.profile_updated", 5, residence_country="SG")
    for order in itertools.permutations([reg, old]):
        assert fold(list(order))["residence_country"] == "HK"


def test_account_rejected_then_resubmitted_and_closed():
    sub1 = fact(1, "account.application_submitted", 10, application_id="a1", documents=[{}])
    rej = fact(2, "account.rejected", 20, application_id="a1", reason="blurry")
    assert fold([sub1, rej])["account_status"] == "rejected"
    sub2 = fact(3, "account.application_submitted", 30, application_id="a1", documents=[{}])
    assert fold([rej, sub2, sub1])["account_status"] == "applied"
    opened = fact(4, "account.opened", 40, application_id="a1", account_id="x")
    closed = fact(5, "account.closed", 50, account_id="x")
    assert fold([closed, opened])["account_status"] == "closed"
    assert fold([closed, opened])["stage"] == "pending_funding"


def test_crm_verification_change_is_last_writer_wins_with_platform():
    ver = fact(1, "kyc.identity_verified", 10, id_type="passport", id_issuing_country="HK")
    crm = {"id": "x1", "type": "crm.verification_changed", "at": at(20),
           "data": {"status": "pending_review", "reason": "doc expired", "by": "u1"}}
    assert fold([crm, ver])["verification_status"] == "pending_review"


def test_aggregate_records_effects_and_ignores_republished_events():
    c = Customer(customer_id="c1")
    facts = journey()
    assert c.record(facts[3]) is not None
    assert c.record(facts[3]) is None
    c.record(facts[0])
    events = c.collect_events()
    kinds = [e["kind"] for ev in events[1:] for e in ev.effects]
    assert kinds == ["stage_changed", "funds_moved", "customer_registered"]
    assert events[1].effects[0]["from_stage"] is None and events[1].effects[0]["to_stage"] == "funded"
    assert events[-1].row["registered"] is True and events[-1].row["user_region"] == "HK"
