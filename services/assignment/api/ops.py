"""Operations (Operator): run the reclaim scheduler now."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends

from shared.runtime.auth import Perm, Principal, require

from .deps import container

router = APIRouter(tags=["operations"])


@router.post("/ops/reclaim")
async def reclaim_now(p: Principal = Depends(require(Perm.Operator)), c: Any = Depends(container)) -> dict[str, Any]:
    """Reclaims every customer whose protection period has expired, and finishes pending hand-overs."""
    reclaimed = await asyncio.to_thread(c.reclaimer.run_once)
    swept = await asyncio.to_thread(c.assigner.sweep_handovers)
    c.wake()
    return {"reclaimed": reclaimed, "handed_over": swept}
