"""User CRM domain: the request state machine, maker-checker rules, profile completion, masking per tab,
templates, and the contract's parameter rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.usercrm.domain.approval import ApprovalRules
from services.usercrm.domain.completion import REQUIRED, completion
from services.usercrm.domain.errors import InvalidTransition, SelfApproval
from services.usercrm.domain.masking import mask
from services.usercrm.domain.request import UserRequest, answer_transition
from services.usercrm.domain.summary import summarise
from services.usercrm.domain.templates import TemplateError, render
from shared.events.crm_usercrm import RequestAction as A
from shared.events.crm_usercrm import RequestState as S
from shared.events.crm_usercrm import UserRequest as Contract

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def request(needs_approval: bool = False, by: str = "M1") -> UserRequest:
    return UserRequest(request_id=str(uuid.uuid4()), customer_id="C1", action="deposit",
                       params={"money": {"account_id": "A1", "amount": "20000", "currency": "USD"}},
                       requested_by=by, requested_role="manager", at=NOW, reason=None, correlation_id="c-1",
                       needs_approval=needs_approval, amount="20000", currency="USD")


def test_answers_move_a_sent_request_to_done_and_late_answers_change_nothing():
    r = request()
    assert r.state == S.submitted
    assert r.platform_answer("accepted", at=NOW, upstream_event_id="e1")
    assert r.platform_answer("completed", at=NOW, upstream_event_id="e2", result={"transaction_id": "T1"})
    assert r.state == S.completed and r.result == {"transaction_id": "T1"} and r.done_at == NOW
    assert not r.platform_answer("accepted", at=NOW, upstream_event_id="e3")  # late
    assert not r.platform_answer("failed", at=NOW, upstream_event_id="e4", reason_code="x")  # after done
    assert r.state == S.completed


def test_failure_without_acceptance_and_transition_table():
    r = request()
    assert r.platform_answer("failed", at=NOW, upstream_event_id="e1", reason_code="insufficient_funds")
    assert r.state == S.failed and r.failure_code == "insufficient_funds"
    assert answer_transition(S.submitted, "accepted") == S.accepted
    assert answer_transition(S.accepted, "accepted") is None  # repeated
    for never_sent in (S.awaiting_approval, S.declined):
        with pytest.raises(InvalidTransition):
            answer_transition(never_sent, "completed")


def test_maker_checker_second_person_only():
    r = request(needs_approval=True)
    assert r.state == S.awaiting_approval
    with pytest.raises(InvalidTransition):
        r.platform_answer("completed", at=NOW, upstream_event_id="e1")  # never sent
    with pytest.raises(SelfApproval):
        r.approve(by="M1", role="team_lead", at=NOW)
    r.approve(by="L1", role="team_lead", at=NOW)
    assert r.state == S.submitted and r.approved_by == "L1"
    with pytest.raises(InvalidTransition):
        r.approve(by="L2", role="admin", at=NOW)
    d = request(needs_approval=True)
    with pytest.raises(SelfApproval):
        d.decline(by="M1", role="manager", at=NOW, note=None)
    d.decline(by="L1", role="team_lead", at=NOW, note="no")
    assert d.state == S.declined and d.done_at == NOW


def test_approval_rules_per_currency_and_action():
    rules = ApprovalRules(thresholds={"USD": Decimal("10000"), "HKD": Decimal("78000")},
                          default_threshold=Decimal("5000"))
    assert rules.needs_approval(A.deposit, Decimal("10000.01"), "USD")
    assert not rules.needs_approval(A.deposit, Decimal("10000"), "USD")  # at the limit: no
    assert not rules.needs_approval(A.withdraw, Decimal("50000"), "HKD")
    assert rules.needs_approval(A.start_allocation, Decimal("6000"), "EUR")  # default threshold
    assert rules.needs_approval(A.allocation_deposit, Decimal("80000"), "hkd")
    assert not rules.needs_approval(A.send_message, None, None)
    assert not rules.needs_approval(A.stop_allocation, Decimal("1000000000"), "USD")


def test_completion_counts_fields_bank_account_and_kyc():
    empty = completion({}, 0, None)
    assert empty.pct == 0 and "banking.bank_account" in empty.missing and "compliance.kyc" in empty.missing
    full_sections = {s: {f: "x" for f in fields} for s, fields in REQUIRED.items()}
    assert completion(full_sections, 1, 100).pct == 100 and completion(full_sections, 1, 100).missing == ()
    no_kyc = completion(full_sections, 1, None)
    assert 0 < no_kyc.pct < 100 and no_kyc.missing == ("compliance.kyc",)
    half_kyc = completion(full_sections, 1, 50)
    assert no_kyc.pct < half_kyc.pct < 100
    partial = completion({"general": {"email": "a@b.c", "phone_number": ""}}, 0, None)
    assert "general.phone_number" in partial.missing and "general.email" not in partial.missing


def test_masking_per_tab_unless_pii_permission():
    general = {"email": "wing@example.com", "phone_number": "91234567", "address_line": "1 Queen's Road",
               "language": "en", "name": "Wing Chan"}
    masked = mask("general", general, unmasked=False)
    assert masked["email"] == "w***@example.com" and masked["phone_number"] == "****4567"
    assert masked["address_line"].startswith("1") and "Queen" not in masked["address_line"]
    assert masked["language"] == "en" and masked["name"].startswith("W") and "Chan" not in masked["name"]
    assert mask("general", general, unmasked=True) == general
    personal = mask("personal", {"date_of_birth": "1990-01-02", "id_numbers": [{"kind": "passport",
                                                                               "number": "K12345678"}]}, False)
    assert personal["date_of_birth"] == "****" and personal["id_numbers"][0]["number"] == "*****5678"
    bank = mask("banking", {"account_number": "123456789012", "holder_name": "Wing", "provider": "HSBC"}, False)
    assert bank["account_number"] == "********9012" and bank["provider"] == "HSBC"
    assert mask("logs", {"ip": "2001:db8:1:2::1"}, False)["ip"].startswith("2001:db8:*")
    assert mask("financial_status", {"tax_id": "TX9988776655"}, False)["tax_id"].endswith("6655")


def test_templates_and_summary_carry_no_personal_data():
    templates = {"hello": {"subject": "Hi {name}", "body": "Hello {name}, from {brand}"}}
    assert render(templates, "hello", {"name": "Wing", "brand": "Whale"}) == ("Hi Wing", "Hello Wing, from Whale")
    with pytest.raises(TemplateError) as err:
        render(templates, "hello", {"brand": "Whale"})
    assert err.value.field == "variables.name"
    with pytest.raises(TemplateError):
        render(templates, "nope", {})
    summary = summarise({"message": {"channel": "sms", "template_id": "hello", "body": "Hello Wing"},
                         "change": {"personal": {"first_name": "Wing", "date_of_birth": "1990-01-01"}}})
    assert summary == {"channel": "sms", "template_id": "hello", "section": "personal",
                       "fields": ["date_of_birth", "first_name"]}


def test_request_contract_requires_the_parameters_of_its_action():
    base = {"request_id": "r1", "customer_id": "C1", "requested_by": "M1", "requested_at": NOW}
    with pytest.raises(ValidationError):
        Contract(**base, action="block")  # reason is mandatory
    with pytest.raises(ValidationError):
        Contract(**base, action="block", reason="   ")
    with pytest.raises(ValidationError):
        Contract(**base, action="deposit")  # money missing
    with pytest.raises(ValidationError):
        Contract(**base, action="start_allocation", money={"account_id": "A1", "amount": "1", "currency": "USD"})
    with pytest.raises(ValidationError):
        Contract(**base, action="reset_password", reason="x", money={"account_id": "A1", "amount": "1",
                                                                      "currency": "USD"})
    with pytest.raises(ValidationError):
        Contract(**base, action="change_info", change={})  # exactly one section
    ok = Contract(**base, action="change_info", change={"social": {"links": {"x": "https://x.com/w"}}})
    assert ok.change is not None and ok.change.section == "social"


def test_owner_and_access_level_requests_carry_their_block_and_a_reason():
    base = {"request_id": "r1", "customer_id": "C1", "requested_by": "L1", "requested_at": NOW}
    owner = {"owner_id": "M2", "team_id": "T1", "previous_owner_id": "M1"}
    with pytest.raises(ValidationError):
        Contract(**base, action="change_owner", owner=owner)  # reason is mandatory
    with pytest.raises(ValidationError):
        Contract(**base, action="change_owner", reason="leave")  # the owner block is missing
    with pytest.raises(ValidationError):
        Contract(**base, action="change_access_level", reason="desk", owner=owner)  # wrong block
    with pytest.raises(ValidationError):
        Contract(**base, action="change_access_level", reason="desk", access={"access_level": "root"})
    ok = Contract(**base, action="change_access_level", reason="desk", access={"access_level": "support"})
    assert ok.access is not None and ok.access.access_level == "support"
    assert summarise({"owner": owner}) == owner  # manager ids, no personal data
    assert summarise({"access": {"access_level": "admin"}}) == {"access_level": "admin"}
