"""KYC case workflow: every transition, document rules, four-eyes, completion, resubmission, risk flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.kyc.domain.case import KycCase, case_id_for
from services.kyc.domain.errors import (
    ClaimedByOther,
    FourEyesViolation,
    InvalidTransition,
    NotClaimed,
    UnknownDocument,
    UnknownReason,
)
from services.kyc.domain.rules import KycRules

RULES = KycRules()
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
KINDS = ("id_front", "id_back", "proof_of_address", "selfie", "financial_questionnaire")
FULL_DECL = {
    "is_pep": False,
    "net_worth": Decimal("250000"),
    "net_worth_currency": "USD",
    "annual_income": Decimal("90000"),
    "investment_experience_years": 3,
    "employment_status": "employed",
}


def docs(suffix: str = "", kinds=KINDS) -> list[dict]:
    return [
        {"document_id": f"d-{k}", "kind": k, "storage_ref": f"s3://bucket/{k}{suffix}", "uploaded_at": T0}
        for k in kinds
    ]


def open_case(*, decl=None, country="HK", kinds=KINDS, verified=None) -> KycCase:
    return KycCase.open(
        rules=RULES,
        customer_id="c1",
        application_id="app1",
        submitted_at=T0,
        documents=docs(kinds=kinds),
        declarations=FULL_DECL if decl is None else decl,
        id_issuing_country=country,
        verified_id_country=verified,
        account_type="cash",
        upstream_event_id="e-open",
    )


def accept_all(case: KycCase, reviewer: str = "r1") -> None:
    for d in case.active_documents():
        case.decide_document(
            rules=RULES,
            actor=reviewer,
            document_id=d["document_id"],
            decision="accepted",
            reason_code=None,
            note=None,
            at=T0,
        )


def names(case: KycCase) -> list[str]:
    return [type(e).__name__ for e in case.collect_events()]


def test_open_is_pending_with_deterministic_id_and_completion_of_fields_only():
    case = open_case()
    assert case.id == case_id_for("c1", "app1")
    assert case.state == "pending" and not case.high_risk
    assert case.completion_pct == 50  # 5 of 10 items: every field present, no document accepted yet
    assert names(case) == ["Opened"]


def test_claim_pending_then_claim_by_other_conflicts_and_own_reclaim_is_idempotent():
    case = open_case()
    assert case.claim(reviewer_id="r1", at=T0) is True
    assert case.state == "in_review" and case.reviewer_id == "r1"
    assert case.claim(reviewer_id="r1", at=T0) is False
    with pytest.raises(ClaimedByOther):
        case.claim(reviewer_id="r2", at=T0)


def test_assign_and_reassign_and_release():
    case = open_case()
    case.assign(reviewer_id="r1", by="admin", at=T0)
    assert case.state == "in_review" and case.reviewer_id == "r1"
    case.assign(reviewer_id="r2", by="admin", at=T0)
    assert case.reviewer_id == "r2"
    with pytest.raises(ClaimedByOther):
        case.release(by="r1", at=T0, admin=False)
    case.release(by="r2", at=T0, admin=False)
    assert case.state == "pending" and case.reviewer_id is None
    with pytest.raises(InvalidTransition):
        case.release(by="r2", at=T0, admin=False)


def test_deciding_an_unclaimed_case_or_someone_elses_case_conflicts():
    case = open_case()
    with pytest.raises(NotClaimed):
        case.decide_document(
            rules=RULES,
            actor="r1",
            document_id="d-selfie",
            decision="accepted",
            reason_code=None,
            note=None,
            at=T0,
        )
    with pytest.raises(NotClaimed):
        case.submit_review(rules=RULES, actor="r1", note=None, at=T0)
    case.claim(reviewer_id="r1", at=T0)
    with pytest.raises(ClaimedByOther):
        case.decide_document(
            rules=RULES,
            actor="r2",
            document_id="d-selfie",
            decision="accepted",
            reason_code=None,
            note=None,
            at=T0,
        )
    with pytest.raises(ClaimedByOther):
        case.request_more_info(
            rules=RULES, actor="r2", reasons=["other"], note=None, document_ids=[], fields=[], at=T0
        )


def test_document_decision_validation():
    case = open_case()
    case.claim(reviewer_id="r1", at=T0)
    with pytest.raises(UnknownDocument):
        case.decide_document(
            rules=RULES,
            actor="r1",
            document_id="nope",
            decision="accepted",
            reason_code=None,
            note=None,
            at=T0,
        )
    with pytest.raises(UnknownReason) as exc:
        case.decide_document(
            rules=RULES,
            actor="r1",
            document_id="d-selfie",
            decision="rejected",
            reason_code=None,
            note=None,
            at=T0,
        )
    assert exc.value.field == "reason_code"
    with pytest.raises(UnknownReason) as exc:
        case.decide_document(
            rules=RULES,
            actor="r1",
            document_id="d-selfie",
            decision="rejected",
            reason_code="not-a-reason",
            note=None,
            at=T0,
        )
    assert exc.value.field == "reason_code"


def test_rejected_document_cannot_be_accepted_without_resubmission_but_accepted_can_be_rejected():
    case = open_case()
    case.claim(reviewer_id="r1", at=T0)
    case.decide_document(
        rules=RULES,
        actor="r1",
        document_id="d-selfie",
        decision="rejected",
        reason_code="selfie_mismatch",
        note="face does not match",
        at=T0,
    )
    with pytest.raises(InvalidTransition, match="resubmits"):
        case.decide_document(
            rules=RULES,
            actor="r1",
            document_id="d-selfie",
            decision="accepted",
            reason_code=None,
            note=None,
            at=T0,
        )
    case.decide_document(
        rules=RULES,
        actor="r1",
        document_id="d-id_front",
        decision="accepted",
        reason_code=None,
        note=None,
        at=T0,
    )
    case.decide_document(
        rules=RULES,
        actor="r1",
        document_id="d-id_front",
        decision="rejected",
        reason_code="document_expired",
        note=None,
        at=T0,
    )
    assert case.documents["d-id_front"]["status"] == "rejected"
    # the same decision again records nothing
    before = case.version
    assert (
        case.decide_document(
            rules=RULES,
            actor="r1",
            document_id="d-id_front",
            decision="rejected",
            reason_code="document_expired",
            note=None,
            at=T0,
        )
        is False
    )
    assert case.version == before


def test_submit_review_needs_every_document_decided():
    case = open_case()
    case.claim(reviewer_id="r1", at=T0)
    case.decide_document(
        rules=RULES,
        actor="r1",
        document_id="d-selfie",
        decision="accepted",
        reason_code=None,
        note=None,
        at=T0,
    )
    with pytest.raises(InvalidTransition, match="no decision"):
        case.submit_review(rules=RULES, actor="r1", note=None, at=T0)


def test_all_accepted_low_risk_is_approved_with_full_completion():
    case = open_case()
    case.claim(reviewer_id="r1", at=T0)
    accept_all(case)
    assert case.submit_review(rules=RULES, actor="r1", note=None, at=T0) == "approved"
    assert case.state == "approved" and case.completion_pct == 100
    assert case.last_decision["decided_by"] == "r1" and case.last_decision["second_reviewer"] is None
    with pytest.raises(InvalidTransition):
        case.claim(reviewer_id="r2", at=T0)


def test_one_rejected_document_rejects_the_case_with_its_reason():
    case = open_case()
    case.claim(reviewer_id="r1", at=T0)
    accept_all(case)
    case.decide_document(
        rules=RULES,
        actor="r1",
        document_id="d-proof_of_address",
        decision="rejected",
        reason_code="suspected_forgery",
        note=None,
        at=T0,
    )
    assert case.submit_review(rules=RULES, actor="r1", note=None, at=T0) == "rejected"
    assert case.last_decision["reasons"] == ["suspected_forgery"]


def test_more_info_document_gives_more_info_requested():
    case = open_case()
    case.claim(reviewer_id="r1", at=T0)
    accept_all(case)
    case.decide_document(
        rules=RULES,
        actor="r1",
        document_id="d-id_back",
        decision="more_info_requested",
        reason_code="document_unreadable",
        note=None,
        at=T0,
    )
    assert case.submit_review(rules=RULES, actor="r1", note=None, at=T0) == "more_info_requested"
    assert case.last_decision["reasons"] == ["document_unreadable"]


def test_missing_required_document_or_field_cannot_be_approved():
    case = open_case(kinds=KINDS[:4], decl={**FULL_DECL, "employment_status": None})
    case.claim(reviewer_id="r1", at=T0)
    accept_all(case)
    assert case.submit_review(rules=RULES, actor="r1", note=None, at=T0) == "more_info_requested"
    assert case.last_decision["reasons"] == ["missing_required_document", "missing_required_field"]
    assert case.completion_pct == 80  # 4 documents + 4 fields of 10


def test_request_more_info_flags_documents_and_fields():
    case = open_case()
    case.claim(reviewer_id="r1", at=T0)
    accept_all(case)
    with pytest.raises(UnknownReason) as exc:
        case.request_more_info(
            rules=RULES, actor="r1", reasons=[], note=None, document_ids=[], fields=[], at=T0
        )
    assert exc.value.field == "reasons"
    with pytest.raises(UnknownReason) as exc:
        case.request_more_info(
            rules=RULES,
            actor="r1",
            reasons=["other"],
            note=None,
            document_ids=[],
            fields=["shoe_size"],
            at=T0,
        )
    assert exc.value.field == "fields"
    case.request_more_info(
        rules=RULES,
        actor="r1",
        reasons=["source_of_funds_unclear"],
        note="explain",
        document_ids=["d-financial_questionnaire"],
        fields=["annual_income"],
        at=T0,
    )
    assert case.state == "more_info_requested"
    assert case.documents["d-financial_questionnaire"]["status"] == "more_info_requested"
    assert case.completion_pct == 80  # questionnaire and annual income no longer count


def test_resubmission_after_more_info_new_version_pending_unchanged_kept():
    case = open_case()
    case.claim(reviewer_id="r1", at=T0)
    accept_all(case)
    case.decide_document(
        rules=RULES,
        actor="r1",
        document_id="d-selfie",
        decision="rejected",
        reason_code="selfie_mismatch",
        note=None,
        at=T0,
    )
    case.submit_review(rules=RULES, actor="r1", note=None, at=T0)
    new_docs = docs()
    new_docs[3] = {**new_docs[3], "storage_ref": "s3://bucket/selfie-v2"}
    later = T0 + timedelta(days=1)
    assert case.resubmit(
        rules=RULES,
        application_id="app1",
        submitted_at=later,
        documents=new_docs,
        declarations=FULL_DECL,
        id_issuing_country="HK",
        upstream_event_id="e2",
    )
    assert case.state == "resubmitted" and case.queued_at == later and case.submission == 2
    assert case.documents["d-selfie"]["version"] == 2 and case.documents["d-selfie"]["status"] == "pending"
    assert (
        case.documents["d-id_front"]["status"] == "accepted" and case.documents["d-id_front"]["version"] == 1
    )
    case.claim(reviewer_id="r2", at=later)
    case.decide_document(
        rules=RULES,
        actor="r2",
        document_id="d-selfie",
        decision="accepted",
        reason_code=None,
        note=None,
        at=later,
    )
    assert case.submit_review(rules=RULES, actor="r2", note=None, at=later) == "approved"


def test_resubmission_superseding_kind_and_stale_submission_ignored():
    case = open_case()
    replacement = [
        {
            "document_id": "d-poa-2",
            "kind": "proof_of_address",
            "storage_ref": "s3://x/poa2",
            "uploaded_at": T0,
        }
    ]
    assert case.resubmit(
        rules=RULES,
        application_id="app2",
        submitted_at=T0 + timedelta(hours=1),
        documents=replacement,
        declarations=FULL_DECL,
        id_issuing_country=None,
        upstream_event_id="e2",
    )
    assert case.documents["d-proof_of_address"]["status"] == "superseded"
    assert case.documents["d-id_front"]["status"] == "pending"
    assert case.state == "pending" and case.application_ids == ["app1", "app2"]
    assert case.id_issuing_country == "HK"
    assert not case.resubmit(
        rules=RULES,
        application_id="app1",
        submitted_at=T0 - timedelta(hours=1),
        documents=docs(),
        declarations=FULL_DECL,
        id_issuing_country="HK",
        upstream_event_id="e3",
    )


@pytest.mark.parametrize(
    ("decl", "country", "verified", "reason"),
    [
        ({**FULL_DECL, "is_pep": True}, "HK", None, "pep"),
        (FULL_DECL, "IR", None, "id_country:IR"),
        (FULL_DECL, "HK", "KP", "id_country:KP"),
        ({**FULL_DECL, "net_worth": Decimal("5000000.01")}, "HK", None, "net_worth_over_threshold"),
        ({**FULL_DECL, "net_worth_currency": "JPY"}, "HK", None, "net_worth_currency_unrated:JPY"),
    ],
)
def test_high_risk_rules(decl, country, verified, reason):
    case = open_case(decl=decl, country=country, verified=verified)
    assert case.high_risk and reason in case.risk_reasons


def test_net_worth_at_threshold_is_not_high_risk():
    case = open_case(decl={**FULL_DECL, "net_worth": Decimal("5000000")})
    assert not case.high_risk


def test_four_eyes_high_risk_needs_a_different_second_reviewer():
    case = open_case(decl={**FULL_DECL, "is_pep": True})
    case.claim(reviewer_id="r1", at=T0)
    accept_all(case)
    assert case.submit_review(rules=RULES, actor="r1", note=None, at=T0) == "awaiting_second_review"
    assert case.state == "awaiting_second_review" and case.first_reviewer_id == "r1"
    with pytest.raises(FourEyesViolation):
        case.second_review(rules=RULES, actor="r1", decision="approved", reasons=[], note=None, at=T0)
    with pytest.raises(UnknownReason):
        case.second_review(rules=RULES, actor="r2", decision="rejected", reasons=[], note=None, at=T0)
    case.second_review(rules=RULES, actor="r2", decision="approved", reasons=[], note="ok", at=T0)
    assert case.state == "approved"
    assert case.last_decision == {
        "decision": "approved",
        "decided_by": "r1",
        "second_reviewer": "r2",
        "decided_at": T0,
        "reasons": [],
    }


def test_four_eyes_anyone_who_decided_a_document_in_the_round_cannot_second_review():
    case = open_case(country="IR")
    case.assign(reviewer_id="r1", by="admin", at=T0)
    case.decide_document(
        rules=RULES,
        actor="r1",
        document_id="d-selfie",
        decision="accepted",
        reason_code=None,
        note=None,
        at=T0,
    )
    case.assign(reviewer_id="r2", by="admin", at=T0)
    accept_all(case, reviewer="r2")
    case.submit_review(rules=RULES, actor="r2", note=None, at=T0)
    with pytest.raises(FourEyesViolation):
        case.second_review(rules=RULES, actor="r1", decision="approved", reasons=[], note=None, at=T0)
    case.second_review(
        rules=RULES,
        actor="r3",
        decision="more_info_requested",
        reasons=["source_of_funds_unclear"],
        note=None,
        at=T0,
    )
    assert case.state == "more_info_requested"


def test_second_review_only_when_awaiting_it_and_high_risk_is_sticky():
    case = open_case(decl={**FULL_DECL, "is_pep": True})
    with pytest.raises(InvalidTransition):
        case.second_review(rules=RULES, actor="r2", decision="approved", reasons=[], note=None, at=T0)
    case.resubmit(
        rules=RULES,
        application_id="app1",
        submitted_at=T0 + timedelta(hours=1),
        documents=docs("b"),
        declarations=FULL_DECL,
        id_issuing_country="HK",
        upstream_event_id="e2",
    )
    assert case.high_risk and case.risk_reasons == ["pep"]


def test_resubmission_while_awaiting_second_review_goes_back_to_queue():
    case = open_case(decl={**FULL_DECL, "is_pep": True})
    case.claim(reviewer_id="r1", at=T0)
    accept_all(case)
    case.submit_review(rules=RULES, actor="r1", note=None, at=T0)
    case.resubmit(
        rules=RULES,
        application_id="app1",
        submitted_at=T0 + timedelta(hours=2),
        documents=docs("v2"),
        declarations=FULL_DECL,
        id_issuing_country="HK",
        upstream_event_id="e2",
    )
    assert case.state == "resubmitted" and case.first_reviewer_id is None and case.round_reviewers == []


def test_resubmission_during_review_keeps_the_claim():
    case = open_case()
    case.claim(reviewer_id="r1", at=T0)
    case.resubmit(
        rules=RULES,
        application_id="app1",
        submitted_at=T0 + timedelta(hours=2),
        documents=docs("v2"),
        declarations=FULL_DECL,
        id_issuing_country="HK",
        upstream_event_id="e2",
    )
    assert case.state == "in_review" and case.reviewer_id == "r1"


def test_identity_verification_completes_country_and_can_flag_risk():
    case = open_case(country=None)
    assert case.completion_pct == 40
    case.identity_verified(rules=RULES, country="KP", verified_at=T0, upstream_event_id="e-id")
    assert case.completion_pct == 50 and case.high_risk and case.has_seen("e-id")


def test_events_replay_to_the_same_state():
    case = open_case(decl={**FULL_DECL, "is_pep": True})
    case.claim(reviewer_id="r1", at=T0)
    accept_all(case)
    case.submit_review(rules=RULES, actor="r1", note=None, at=T0)
    case.second_review(rules=RULES, actor="r2", decision="approved", reasons=[], note=None, at=T0)
    events = case.collect_events()
    replayed = None
    for e in events:
        replayed = e.mutate(replayed)
    assert replayed.__dict__ == case.__dict__
