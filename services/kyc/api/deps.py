"""Route dependencies: the container, KYC permissions (any-of), and domain error -> problem+json mapping."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request

from shared.runtime.api import Problem
from shared.runtime.api import run_command as kit_run_command
from shared.runtime.auth import Perm, Principal, Scope, require_any

from ..application import CaseNotFound
from ..domain.errors import UnknownDocument

T = TypeVar("T")
PROBLEM_BASE = "urn:whale-crm:problem:kyc:"
READ_PERMS = (Perm.KycReview, Perm.KycSecondReview, Perm.KycAdmin)
REVIEWER_PERMS = (Perm.KycReview, Perm.KycSecondReview)


def container(request: Request) -> Any:
    return request.app.state.container


def any_of(*perms: Perm) -> Callable[..., Awaitable[Principal]]:
    """401 without a valid token; 403 unless the principal holds one of `perms` and sees every customer (KYC
    review is not split by account manager: a narrower data scope cannot be honoured here)."""
    return require_any(*perms, scope=Scope.all, type_base=PROBLEM_BASE)


def is_reviewer(principal: Principal) -> bool:
    return any(principal.has(p) for p in REVIEWER_PERMS)


def run_command(fn: Callable[..., T], *args: Any, case_id: str | None = None, **kwargs: Any) -> Awaitable[T]:
    """Run a synchronous application command in a worker thread (the kit's `run_command`): domain errors and a
    lost concurrent write as problem+json; a missing case, or a missing document of the path, as a 404."""

    def missing(exc: Exception) -> Problem | None:
        if isinstance(exc, CaseNotFound):
            return Problem(
                404, "Not Found", f"KYC case {case_id or str(exc)!r} not found", type_=f"{PROBLEM_BASE}not_found"
            )
        if isinstance(exc, UnknownDocument) and exc.context.get("field") == "document_id":  # the path's document
            return Problem(404, "Not Found", exc.message, type_=f"{PROBLEM_BASE}{exc.code}")
        return None

    return kit_run_command(functools.partial(fn, *args, **kwargs), PROBLEM_BASE, what="case", problem=missing)
