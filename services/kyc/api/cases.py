"""Case routes: queue, detail, claim/assign/release, document decisions, more info, submit, second review,
history; customer completion; the reason list."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from prometheus_client import Counter

from shared.runtime.api import Problem
from shared.runtime.auth import Perm, Principal
from shared.runtime.cursor import CursorQuery, codec_for
from shared.runtime.logging import get_logger

from ..domain.case import OPEN_STATES
from ..projections.queries import QueueFilter, customer_completion, queue_page
from .deps import READ_PERMS, any_of, container, is_reviewer, run_command
from .models import AssignBody, DocumentDecisionBody, MoreInfoBody, QueuePage, SecondReviewBody, SubmitBody
from .views import case_detail, history_entry

log = get_logger("kyc.api")
KYC_ACTIONS = Counter(
    "whale_kyc_actions_total", "Reviewer actions recorded on KYC cases", ["action", "outcome"]
)
router = APIRouter(prefix="/kyc", tags=["kyc"])

Reader = Annotated[Principal, Depends(any_of(*READ_PERMS))]
Reviewer = Annotated[Principal, Depends(any_of(Perm.KycReview))]
SecondReviewer = Annotated[Principal, Depends(any_of(Perm.KycSecondReview))]
Admin = Annotated[Principal, Depends(any_of(Perm.KycAdmin))]
CaseState = Literal[
    "pending",
    "in_review",
    "awaiting_second_review",
    "more_info_requested",
    "resubmitted",
    "approved",
    "rejected",
]


def _cid(request: Request) -> str | None:
    return getattr(request.state, "correlation_id", None)


def _now() -> datetime:
    return datetime.now(UTC)


async def _detail(request: Request, case: Any, principal: Principal) -> dict[str, Any]:
    c = container(request)
    c.wake()
    return case_detail(case, c.app.rules, reviewer=is_reviewer(principal))


@router.get("/queue", response_model=QueuePage)
async def queue(
    request: Request,
    principal: Reader,
    state: Annotated[
        list[CaseState] | None, Query(description="States to list (default: open states).")
    ] = None,
    reviewer: Annotated[
        str | None,
        Query(max_length=200, description="Cases held (claimed/assigned) by this reviewer id, or `me`."),
    ] = None,
    high_risk: bool | None = None,
    overdue: bool | None = None,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    """Cases oldest first (by time since (re)submission), keyset-paginated, with SLA times and overdue flags."""
    c = container(request)
    limit = min(limit, c.settings.queue_page_max)
    flt = QueueFilter(
        states=tuple(state or OPEN_STATES),
        reviewer_id=principal.user_id if reviewer == "me" else reviewer,
        high_risk=high_risk,
        overdue=overdue,
        customer_id=customer_id,
    )

    codec = codec_for(c.settings)
    after = codec.decode(cursor, "kyc-queue", (datetime, str)) if cursor else None

    def run() -> tuple[list[dict[str, Any]], Any]:
        with c.sessions() as s:
            return queue_page(s, now=_now(), sla=c.app.rules.sla, flt=flt, limit=limit,
                              after=tuple(after) if after else None)  # type: ignore[arg-type]

    items, last = await asyncio.to_thread(run)
    return {"items": items, "next_cursor": codec.encode("kyc-queue", list(last)) if last else None}


@router.get("/cases/{case_id}")
async def get_case(request: Request, case_id: str, principal: Reader) -> dict[str, Any]:
    c = container(request)
    case = await run_command(c.app.get_case, case_id, case_id=case_id)
    return case_detail(case, c.app.rules, reviewer=is_reviewer(principal))


@router.get("/cases/{case_id}/history")
async def get_history(request: Request, case_id: str, principal: Reader) -> dict[str, Any]:
    """Every action on the case, oldest first: who, when, what and why."""
    c = container(request)
    events = await run_command(c.app.case_history, case_id, case_id=case_id)
    reviewer = is_reviewer(principal)
    return {"case_id": case_id, "items": [history_entry(e, reviewer=reviewer) for e in events]}


@router.post("/cases/{case_id}/claim")
async def claim(request: Request, case_id: str, principal: Reviewer) -> dict[str, Any]:
    c = container(request)
    case, changed = await run_command(
        c.app.claim, case_id, principal.user_id, _now(), case_id=case_id, correlation_id=_cid(request)
    )
    if changed:
        KYC_ACTIONS.labels("claim", "in_review").inc()
        log.info("kyc_case_claimed", case_id=case_id, reviewer_id=principal.user_id)
    return await _detail(request, case, principal)


@router.post("/cases/{case_id}/assign")
async def assign(request: Request, case_id: str, body: AssignBody, principal: Admin) -> dict[str, Any]:
    c = container(request)
    case, changed = await run_command(
        c.app.assign,
        case_id,
        body.reviewer_id,
        principal.user_id,
        _now(),
        case_id=case_id,
        correlation_id=_cid(request),
    )
    if changed:
        KYC_ACTIONS.labels("assign", "in_review").inc()
        log.info(
            "kyc_case_assigned", case_id=case_id, reviewer_id=body.reviewer_id, actor_id=principal.user_id
        )
    return await _detail(request, case, principal)


@router.post("/cases/{case_id}/release")
async def release(
    request: Request,
    case_id: str,
    principal: Annotated[Principal, Depends(any_of(Perm.KycReview, Perm.KycAdmin))],
) -> dict[str, Any]:
    c = container(request)
    case, _ = await run_command(
        c.app.release,
        case_id,
        principal.user_id,
        _now(),
        principal.has(Perm.KycAdmin),
        case_id=case_id,
        correlation_id=_cid(request),
    )
    KYC_ACTIONS.labels("release", case.state).inc()
    log.info("kyc_case_released", case_id=case_id, actor_id=principal.user_id)
    return await _detail(request, case, principal)


@router.post("/cases/{case_id}/documents/{document_id}/decision")
async def decide_document(
    request: Request, case_id: str, document_id: str, body: DocumentDecisionBody, principal: Reviewer
) -> dict[str, Any]:
    c = container(request)
    case, changed = await run_command(
        c.app.decide_document,
        case_id,
        principal.user_id,
        document_id,
        body.decision,
        body.reason_code,
        body.note,
        _now(),
        case_id=case_id,
        correlation_id=_cid(request),
    )
    if changed:
        KYC_ACTIONS.labels("document_decision", body.decision).inc()
        log.info(
            "kyc_document_decided",
            case_id=case_id,
            document_id=document_id,
            decision=body.decision,
            reason_code=body.reason_code,
            reviewer_id=principal.user_id,
        )
    return await _detail(request, case, principal)


@router.post("/cases/{case_id}/request-info")
async def request_info(
    request: Request, case_id: str, body: MoreInfoBody, principal: Reviewer
) -> dict[str, Any]:
    c = container(request)
    case, _ = await run_command(
        c.app.request_more_info,
        case_id,
        principal.user_id,
        body.reasons,
        body.note,
        body.document_ids,
        body.fields,
        _now(),
        case_id=case_id,
        correlation_id=_cid(request),
    )
    KYC_ACTIONS.labels("request_info", "more_info_requested").inc()
    log.info("kyc_more_info_requested", case_id=case_id, reviewer_id=principal.user_id, reasons=body.reasons)
    return await _detail(request, case, principal)


@router.post("/cases/{case_id}/submit")
async def submit(
    request: Request, case_id: str, principal: Reviewer, body: SubmitBody | None = None
) -> dict[str, Any]:
    """Close the review: the case decision follows from the document decisions (high-risk approvals go to a
    second reviewer)."""
    c = container(request)
    case, outcome = await run_command(
        c.app.submit_review,
        case_id,
        principal.user_id,
        body.note if body else None,
        _now(),
        case_id=case_id,
        correlation_id=_cid(request),
    )
    KYC_ACTIONS.labels("submit", outcome).inc()
    log.info("kyc_review_submitted", case_id=case_id, reviewer_id=principal.user_id, outcome=outcome)
    return await _detail(request, case, principal)


@router.post("/cases/{case_id}/second-review")
async def second_review(
    request: Request, case_id: str, body: SecondReviewBody, principal: SecondReviewer
) -> dict[str, Any]:
    c = container(request)
    case, _ = await run_command(
        c.app.second_review,
        case_id,
        principal.user_id,
        body.decision,
        body.reasons,
        body.note,
        _now(),
        case_id=case_id,
        correlation_id=_cid(request),
    )
    KYC_ACTIONS.labels("second_review", body.decision).inc()
    log.info(
        "kyc_second_review_recorded", case_id=case_id, reviewer_id=principal.user_id, decision=body.decision
    )
    return await _detail(request, case, principal)


@router.get("/customers/{customer_id}/completion")
async def completion(
    request: Request,
    customer_id: str,
    principal: Annotated[Principal, Depends(any_of(*READ_PERMS, Perm.ClientProfileReadOnly))],
) -> dict[str, Any]:
    """KYC completion percentage of the customer (their latest case): share of required items accepted."""
    c = container(request)

    def run() -> dict[str, Any] | None:
        with c.sessions() as s:
            return customer_completion(s, customer_id)

    found = await asyncio.to_thread(run)
    if found is None:
        raise Problem(
            404,
            "Not Found",
            f"no KYC record for customer {customer_id!r}",
            type_="urn:whale-crm:problem:kyc:not_found",
        )
    return found


@router.get("/reasons")
async def reasons(request: Request, principal: Reader) -> dict[str, Any]:
    """The configured reason list reviewers pick from."""
    catalog = container(request).app.rules.reasons.reasons
    return {"items": [{"code": k, "label": v} for k, v in catalog.items()]}
