"""Rule engine: ordering, round-robin fairness, least-loaded, capacity, skipping absent/resigned managers,
referral codes, language matching."""

from __future__ import annotations

from collections import Counter

import pytest

from services.assignment.domain.rules import (
    Candidate,
    CustomerFacts,
    Rule,
    TeamView,
    language_matches,
    pick_in_team,
    round_robin_order,
    route,
)


def cand(mid: str, team: str = "T1", status: str = "active", capacity: int = 100, load: int = 0) -> Candidate:
    return Candidate(mid, team, status, capacity, load)


def rule(rid: str, position: int, version: int = 1, **kw) -> Rule:
    return Rule.from_dict({"rule_id": rid, "version": version, "position": position, **kw})


def facts(**kw) -> CustomerFacts:
    return CustomerFacts(customer_id=kw.pop("customer_id", "c1"), **kw)


def test_rules_are_tried_in_position_order_and_first_match_wins():
    managers = {"m1": cand("m1"), "m2": cand("m2")}
    rules = [rule("late", 20, manager_id="m2"), rule("early", 10, manager_id="m1", regions=["HK"])]
    d = route(facts(active_region="HK"), rules, {}, managers)
    assert (d.manager_id, d.rule_id, d.rule_version, d.reason) == ("m1", "early", 1, "rule")
    d = route(facts(active_region="SG"), rules, {}, managers)
    assert (d.manager_id, d.rule_id) == ("m2", "late")


def test_every_criterion_must_match_and_empty_matches_anything():
    r = rule("r", 1, manager_id="m1", regions=["HK"], channels=["referral"], languages=["zh"], referral_codes=["P1"])
    managers = {"m1": cand("m1")}
    ok = facts(active_region="HK", channel="referral", language="zh-HK", referral_code="p1")
    assert route(ok, [r], {}, managers).manager_id == "m1"
    for bad in (dict(active_region="SG"), dict(channel="organic"), dict(language="en"), dict(referral_code="P2")):
        f = facts(**{**dict(active_region="HK", channel="referral", language="zh-HK", referral_code="P1"), **bad})
        assert route(f, [r], {}, managers).manager_id is None, bad


def test_region_is_active_region_falling_back_to_user_region():
    r = rule("r", 1, manager_id="m1", regions=["MY"])
    managers = {"m1": cand("m1")}
    assert route(facts(user_region="MY"), [r], {}, managers).manager_id == "m1"
    assert route(facts(user_region="MY", active_region="SG"), [r], {}, managers).manager_id is None


def test_language_prefix_matching():
    assert language_matches(("zh",), "zh-HK")
    assert language_matches(("zh-hk",), "zh-HK")
    assert not language_matches(("zh-hk",), "zh-TW")
    assert not language_matches(("zh",), "zhx")
    assert language_matches((), None)
    assert not language_matches(("en",), None)


def test_round_robin_is_fair_over_many_customers():
    team = TeamView("T1", ("m3", "m1", "m2"))
    managers = {m: cand(m) for m in team.members}
    picks = []
    for _ in range(300):
        chosen = pick_in_team(team, managers, "round_robin")
        picks.append(chosen)
        team = TeamView("T1", team.members, chosen)
    assert picks[:4] == ["m1", "m2", "m3", "m1"]
    assert Counter(picks) == {"m1": 100, "m2": 100, "m3": 100}


def test_round_robin_continues_after_a_cursor_that_left_the_team():
    assert round_robin_order(("a", "c", "d"), "b") == ["c", "d", "a"]
    assert round_robin_order(("a", "c"), None) == ["a", "c"]
    assert round_robin_order((), "x") == []


def test_capacity_and_status_are_respected_and_skipped():
    team = TeamView("T1", ("m1", "m2", "m3", "m4"), rr_cursor=None)
    managers = {"m1": cand("m1", status="absent"), "m2": cand("m2", status="resigned"),
                "m3": cand("m3", capacity=5, load=5), "m4": cand("m4", capacity=5, load=4)}
    assert pick_in_team(team, managers, "round_robin") == "m4"
    managers["m4"] = cand("m4", capacity=5, load=5)
    assert pick_in_team(team, managers, "round_robin") is None
    assert pick_in_team(team, {"m9": cand("m9")}, "round_robin") is None  # members unknown to the engine


def test_least_loaded_picks_fewest_customers_ties_in_round_robin_order():
    team = TeamView("T1", ("m1", "m2", "m3"), rr_cursor="m1")
    managers = {"m1": cand("m1", load=3), "m2": cand("m2", load=7), "m3": cand("m3", load=3)}
    assert pick_in_team(team, managers, "least_loaded") == "m3"  # m3 comes before m1 after the cursor
    managers["m3"] = cand("m3", status="absent", load=0)
    assert pick_in_team(team, managers, "least_loaded") == "m1"


def test_a_rule_with_nobody_eligible_falls_through_and_says_so():
    managers = {"m1": cand("m1", status="absent"), "m2": cand("m2", team="T2")}
    teams = {"T1": TeamView("T1", ("m1",)), "T2": TeamView("T2", ("m2",))}
    rules = [rule("first", 1, team_id="T1"), rule("second", 2, team_id="T2", strategy="least_loaded")]
    d = route(facts(), rules, teams, managers)
    assert (d.manager_id, d.rule_id, d.advance_team) == ("m2", "second", "T2")
    assert d.inputs["skipped"] == ["rule first v1: no eligible manager"]
    assert d.inputs["strategy"] == "least_loaded"


def test_disabled_rules_and_unknown_targets_never_match():
    managers = {"m1": cand("m1")}
    rules = [rule("off", 1, manager_id="m1", enabled=False), rule("ghost", 2, team_id="NOPE")]
    d = route(facts(), rules, {}, managers)
    assert d.manager_id is None and d.reason == "pool"
    assert d.inputs["skipped"] == ["rule ghost v1: no eligible manager"]


def test_referral_code_manager_wins_over_rules_unless_unavailable():
    managers = {"qr": cand("qr", team="T9"), "m1": cand("m1")}
    rules = [rule("all", 1, manager_id="m1")]
    d = route(facts(referral_code="QR-1"), rules, {}, managers, referral_manager_id="qr")
    assert (d.manager_id, d.reason, d.team_id, d.rule_id) == ("qr", "referral_code", "T9", None)
    managers["qr"] = cand("qr", status="resigned")
    d = route(facts(referral_code="QR-1"), rules, {}, managers, referral_manager_id="qr")
    assert (d.manager_id, d.reason) == ("m1", "rule")
    assert d.inputs["skipped"] == ["referral_code manager qr: resigned"]


def test_inputs_record_why_without_personal_data():
    d = route(facts(channel="campaign", user_region="HK", language="en"),
              [rule("r", 1, version=4, manager_id="m1", channels=["campaign"])], {}, {"m1": cand("m1")})
    assert d.rule_version == 4
    assert d.inputs == {"channel": "campaign", "region": "HK", "user_region": "HK", "active_region": None,
                        "language": "en", "referral_code": None, "matched": "rule r v4", "strategy": "round_robin"}


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded"])
def test_rules_targeting_a_manager_do_not_move_the_team_cursor(strategy):
    d = route(facts(), [rule("r", 1, manager_id="m1", strategy=strategy)], {}, {"m1": cand("m1")})
    assert d.advance_team is None and d.team_id == "T1"


def test_a_rule_can_route_by_institution():
    managers = {"m1": cand("m1"), "m2": cand("m2")}
    rules = [rule("bank", 10, manager_id="m1", institutions=["Inst-Harbour"]), rule("rest", 20, manager_id="m2")]
    d = route(facts(channel="manual_import", institution_id="inst-harbour"), rules, {}, managers)
    assert (d.manager_id, d.rule_id) == ("m1", "bank") and d.inputs["institution_id"] == "inst-harbour"
    assert route(facts(channel="manual_import", institution_id="inst-other"), rules, {}, managers).manager_id == "m2"
    assert route(facts(channel="manual_import"), rules, {}, managers).manager_id == "m2"


def test_a_rule_can_route_by_segment():
    managers = {"m1": cand("m1"), "m2": cand("m2")}
    rules = [rule("vip", 10, manager_id="m1", segments=["seg-a", "seg-b"]), rule("rest", 20, manager_id="m2")]
    d = route(facts(segments=("seg-x", "seg-b")), rules, {}, managers)
    assert (d.manager_id, d.rule_id) == ("m1", "vip") and d.inputs["segments"] == ["seg-x", "seg-b"]
    assert route(facts(segments=("seg-x",)), rules, {}, managers).manager_id == "m2"
    assert route(facts(), rules, {}, managers).manager_id == "m2"
    assert route(facts(segments=("SEG-A",)), rules, {}, managers).manager_id == "m2"  # ids are exact
    assert "segments" not in route(facts(), rules, {}, managers).inputs
