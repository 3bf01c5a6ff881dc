"""CRM actions: remarks (single, batch), tags (add/remove, bulk), private notes, verification status.

Every action is a fact stored on the Customer aggregate (audit trail, history "as of", outbox), checked
against the caller's data scope first: out-of-scope or unknown customers answer 404.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.events.crm_customer import VerificationStatus
from shared.runtime.api import Problem
from shared.runtime.auth import Perm, Principal, require
from shared.runtime.logging import get_logger

from ..application import CustomerNotFound
from .deps import CustomerIdPath, blocking, container, not_found, read, visible_ids
from .detail import jsonable
from .query import TagText

router = APIRouter(tags=["customer actions"])
log = get_logger("customer.api")
CustomerIdStr = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]{1,64}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RemarkIn(Strict):
    text: Text = Field(description="Remark text (visible to everyone who can see the customer).")


class BatchRemarkIn(Strict):
    customer_ids: list[CustomerIdStr] = Field(min_length=1, max_length=500)
    text: Text


class TagsIn(Strict):
    add: list[TagText] = Field(default_factory=list, max_length=50)
    remove: list[TagText] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _something(self) -> TagsIn:
        if not self.add and not self.remove:
            raise ValueError("give tags to add or to remove")
        if set(self.add) & set(self.remove):
            raise ValueError("a tag cannot be added and removed at once")
        return self


class BulkTagsIn(TagsIn):
    customer_ids: list[CustomerIdStr] = Field(min_length=1, max_length=500)


class NoteIn(Strict):
    text: Text = Field(description="Private note, visible only to its author.")


class VerificationIn(Strict):
    status: VerificationStatus
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _act(c: Any, principal: Principal, ids: list[str], fact_type: str, data: dict[str, Any],
         correlation_id: str | None, check: Any = None) -> list[dict[str, Any]]:
    visible = read(c, lambda s: visible_ids(s, c.tables, principal, ids))
    missing = [i for i in dict.fromkeys(ids) if i not in visible]
    if missing:
        raise CustomerNotFound(missing[0])
    if check is not None:
        check(c.app.get_customer(ids[0]))
    return c.app.record_crm_facts(ids, fact_type, data, at=datetime.now(UTC), correlation_id=correlation_id)


async def _run(request: Request, c: Any, principal: Principal, ids: list[str], fact_type: str,
               data: dict[str, Any], check: Any = None) -> list[dict[str, Any]]:
    try:
        return await blocking(_act, c, principal, ids, fact_type, data,
                              getattr(request.state, "correlation_id", None), check)
    except CustomerNotFound as exc:
        raise not_found(str(exc.args[0])) from None


@router.post("/customers/{customer_id}/remarks", status_code=201, summary="Add a remark")
async def add_remark(customer_id: CustomerIdPath, body: RemarkIn, request: Request,
                     principal: Principal = Depends(require(Perm.ClientProfileReadOnly, Perm.CustomerWrite)),
                     c: Any = Depends(container)) -> dict[str, Any]:
    facts = await _run(request, c, principal, [customer_id], "crm.remark_added",
                       {"text": body.text, "by": principal.user_id, "batch_id": None})
    log.info("customer_remark_added", customer_id=customer_id, remark_id=facts[0]["id"], user_id=principal.user_id)
    return jsonable({"remark_id": facts[0]["id"], "customer_id": customer_id, "author": principal.user_id,
                     "text": body.text, "created_at": facts[0]["at"]})


@router.post("/customer-batches/remarks", status_code=201, summary="Add the same remark to many customers")
async def batch_remarks(body: BatchRemarkIn, request: Request,
                        principal: Principal = Depends(require(Perm.ClientProfileReadOnly, Perm.CustomerWrite)),
                        c: Any = Depends(container)) -> dict[str, Any]:
    batch_id = str(uuid.uuid4())
    ids = list(dict.fromkeys(body.customer_ids))
    facts = await _run(request, c, principal, ids, "crm.remark_added",
                       {"text": body.text, "by": principal.user_id, "batch_id": batch_id})
    log.info("customer_batch_remarks_added", batch_id=batch_id, customers=len(ids), user_id=principal.user_id)
    return {"batch_id": batch_id, "remark_ids": {cid: f["id"] for cid, f in zip(ids, facts, strict=True)}}


@router.post("/customers/{customer_id}/tags", summary="Add and/or remove tags")
async def change_tags(customer_id: CustomerIdPath, body: TagsIn, request: Request,
                      principal: Principal = Depends(require(Perm.ClientProfileReadOnly, Perm.CustomerWrite)),
                      c: Any = Depends(container)) -> dict[str, Any]:
    await _run(request, c, principal, [customer_id], "crm.tags_changed",
               {"add": sorted(set(body.add)), "remove": sorted(set(body.remove)), "by": principal.user_id})
    state = (await blocking(c.app.get_customer, customer_id)).state
    log.info("customer_tags_changed", customer_id=customer_id, user_id=principal.user_id)
    return {"customer_id": customer_id, "tags": state["tags"]}


@router.post("/customer-batches/tags", summary="Add and/or remove tags on many customers")
async def bulk_tags(body: BulkTagsIn, request: Request,
                    principal: Principal = Depends(require(Perm.ClientProfileReadOnly, Perm.CustomerWrite)),
                    c: Any = Depends(container)) -> dict[str, Any]:
    ids = list(dict.fromkeys(body.customer_ids))
    await _run(request, c, principal, ids, "crm.tags_changed",
               {"add": sorted(set(body.add)), "remove": sorted(set(body.remove)), "by": principal.user_id})
    log.info("customer_bulk_tags_changed", customers=len(ids), user_id=principal.user_id)
    return {"customer_ids": ids, "added": sorted(set(body.add)), "removed": sorted(set(body.remove))}


@router.post("/customers/{customer_id}/notes", status_code=201, summary="Add a private note (author only)")
async def add_note(customer_id: CustomerIdPath, body: NoteIn, request: Request,
                   principal: Principal = Depends(require(Perm.ClientProfileReadOnly, Perm.CustomerWrite)),
                   c: Any = Depends(container)) -> dict[str, Any]:
    facts = await _run(request, c, principal, [customer_id], "crm.note_added",
                       {"text": body.text, "by": principal.user_id})
    log.info("customer_note_added", customer_id=customer_id, note_id=facts[0]["id"], user_id=principal.user_id)
    return jsonable({"note_id": facts[0]["id"], "customer_id": customer_id, "author": principal.user_id,
                     "text": body.text, "created_at": facts[0]["at"]})


@router.put("/customers/{customer_id}/verification", summary="Update the verification status, with a reason")
async def set_verification(customer_id: CustomerIdPath, body: VerificationIn, request: Request,
                           principal: Principal = Depends(require(Perm.ClientProfileReadOnly, Perm.CustomerVerify)),
                           c: Any = Depends(container)) -> dict[str, Any]:
    def check(customer: Any) -> None:
        current = customer.state["verification"]["status"] if customer.state["verification"] else "unverified"
        if current == body.status.value:
            raise Problem(409, "Conflict", f"status: the customer is already {current}",
                          type_="urn:whale-crm:problem:no-change")

    facts = await _run(request, c, principal, [customer_id], "crm.verification_changed",
                       {"status": body.status.value, "reason": body.reason, "by": principal.user_id}, check)
    log.info("customer_verification_changed", customer_id=customer_id, status=body.status.value,
             user_id=principal.user_id)
    return jsonable({"customer_id": customer_id, "status": body.status.value, "reason": body.reason,
                     "changed_by": principal.user_id, "changed_at": facts[0]["at"]})
