"""Route dependencies: the container, KYC permissions (any-of), and domain error -> problem+json mapping."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError
from fastapi import Depends, Request

from shared.runtime.api import Problem, domain_problem
from shared.runtime.auth import Perm, Principal, Scope, require

from ..application import CaseNotFound
from ..domain.errors import DomainError, UnknownDocument

T = TypeVar("T")
PROBLEM_BASE = "urn:whale-crm:problem:kyc:"
READ_PERMS = (Perm.KycReview, Perm.KycSecondReview, Perm.KycAdmin)
REVIEWER_PERMS = (Perm.KycReview, Perm.KycSecondReview)


def container(request: Request) -> Any:
    return request.app.state.container


def any_of(*perms: Perm) -> Callable[..., Principal]:
    """401 without a valid token; 403 unless the principal holds one of `perms` and sees every customer."""

    def dependency(principal: Principal = Depends(require())) -> Principal:
        if not any(principal.has(p) for p in perms):
            raise Problem(
                403,
                "Forbidden",
                f"requires one of: {', '.join(str(p) for p in perms)}",
                type_=f"{PROBLEM_BASE}forbidden",
            )
        if principal.scope != Scope.all:
            # KYC review is not split by account manager: a narrower data scope cannot be honoured here.
            raise Problem(
                403,
                "Forbidden",
                "KYC review requires the all-customers data scope",
                type_=f"{PROBLEM_BASE}scope",
            )
        return principal

    return dependency


def is_reviewer(principal: Principal) -> bool:
    return any(principal.has(p) for p in REVIEWER_PERMS)


def to_problem(exc: Exception, case_id: str | None = None) -> Problem:
    if isinstance(exc, CaseNotFound):
        return Problem(
            404, "Not Found", f"KYC case {case_id or str(exc)!r} not found", type_=f"{PROBLEM_BASE}not_found"
        )
    if isinstance(exc, UnknownDocument) and exc.context.get("field") == "document_id":  # the path's document
        return Problem(404, "Not Found", exc.message, type_=f"{PROBLEM_BASE}{exc.code}")
    if isinstance(exc, DomainError):
        return domain_problem(exc, PROBLEM_BASE)
    if isinstance(exc, IntegrityError):
        return Problem(
            409,
            "Conflict",
            "the case changed concurrently; reload and retry",
            type_=f"{PROBLEM_BASE}concurrent_change",
        )
    raise exc


async def run_command(fn: Callable[..., T], *args: Any, case_id: str | None = None, **kwargs: Any) -> T:
    """Run a synchronous application command in a worker thread, mapping domain errors to problems."""
    try:
        return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))
    except (DomainError, CaseNotFound, IntegrityError) as exc:
        raise to_problem(exc, case_id) from None
