"""Route dependencies: who may read and change access (every staff member's rights are the whole company's
business: only the all-customers scope), and domain error -> problem+json mapping."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from shared.runtime.api import Problem
from shared.runtime.api import run_command as kit_run_command
from shared.runtime.auth import Perm, Principal, Scope, require, require_any

T = TypeVar("T")
PROBLEM_BASE = "urn:whale-crm:problem:access:"

Caller = Annotated[Principal, Depends(require())]  # any signed-in member (their own answers)
Reader = Annotated[Principal, Depends(require_any(Perm.AccessManage, Perm.AuditRead, scope=Scope.all))]
Manager = Annotated[Principal, Depends(require_any(Perm.AccessManage, scope=Scope.all))]


def container(request: Request) -> Any:
    return request.app.state.container


def not_found(what: str) -> Problem:
    return Problem(404, "Not Found", f"{what} not found", type_=f"{PROBLEM_BASE}not_found")


def run_command(fn: Callable[..., T], *args: Any, **kwargs: Any) -> Awaitable[T]:
    """Run a synchronous application command in a worker thread, mapping domain errors and a lost concurrent
    write to problems (the kit's `run_command`)."""
    return kit_run_command(functools.partial(fn, *args, **kwargs), PROBLEM_BASE)


async def read(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """`fn(session, *args)` on the read model, in a worker thread."""
    c = container(request)

    def run() -> T:
        with c.sessions() as s:
            return fn(s, *args)

    return await asyncio.to_thread(run)
