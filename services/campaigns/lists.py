"""Audience lists: a CSV of customer ids (a `customer_id` column; up to 1,000,000 rows) uploaded once, validated
row by row, then named by a campaign's audience (`audience.list_id`) instead of an inline list.

The API streams the upload to a temporary file (`shared.runtime.uploads`: hashed, never whole in memory) and
stores it in `cp_list_chunk` (1 MiB chunks: the worker reads it back as one stream, no shared volume). The
list's id is `lst_` + the hash of the content and the uploader: the same file uploaded again by the same person
is the same list and changes nothing. The worker's `ListImporter` (leader only) reads the file after the list's
checkpoint in chunks of rows; each chunk's members, rejects and the new checkpoint are written in ONE
transaction, so a restart resumes after the last committed chunk and a replayed chunk adds nothing (keys).
A row is rejected (row, field, reason — never the value) when its id is `malformed`, `unknown_customer` (not in
the customers the service has consumed), `out_of_scope` (beyond the uploader's data scope) or a `duplicate` of
an earlier row."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import String, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from shared.runtime.logging import get_logger
from shared.runtime.sqlrows import insert_ignore
from shared.runtime.uploads import BadFile, chunked_text, csv_rows, header_of

from .projections import queries as q
from .projections.tables import audience_list, customer, list_chunk, list_member, list_reject, owner

log = get_logger("campaigns.lists")
COLUMN = "customer_id"
header = header_of((COLUMN,), (COLUMN,))
CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")  # the contracts' CustomerId
FILE_CHUNK = 1 << 20
ACTIVE = ("queued", "running")


def list_id_of(sha256: str, user_id: str) -> str:
    return "lst_" + hashlib.sha256(f"{sha256}:{user_id}".encode()).hexdigest()[:32]


def store(session: Session, list_id: str, path: Path) -> None:
    """The uploaded file into `cp_list_chunk`, 1 MiB at a time (a failed list's earlier rows gone first)."""
    for table in (list_chunk, list_member, list_reject, audience_list):
        session.execute(table.delete().where(table.c.list_id == list_id))
    with path.open("rb") as f:
        for seq, data in enumerate(iter(lambda: f.read(FILE_CHUNK), b"")):
            session.execute(list_chunk.insert().values(list_id=list_id, seq=seq, data=data))


def check_header(path: Path) -> None:
    """`BadFile` unless the file has a `customer_id` column (reads up to the first row only)."""
    for _ in csv_rows(path, 0, header):
        return


def _opener(bind: Any, list_id: str) -> Any:
    def chunk(seq: int) -> bytes | None:
        with Session(bind) as s:
            return s.scalar(select(list_chunk.c.data).where(list_chunk.c.list_id == list_id, list_chunk.c.seq == seq))

    return chunked_text(chunk)


def _among(session: Session, column: Any, ids: list[str]) -> Any:
    """`column IN ids`; on PostgreSQL `= ANY(array)`: one parameter instead of thousands."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(String)))
    return column.in_(ids)


def validate(session: Session, rows: list[tuple[int, Mapping[str, Any]]], list_id: str,
             scope: q.DataScope) -> tuple[list[str], list[dict[str, Any]]]:
    """One chunk: (accepted ids, reject rows). Duplicates: of an earlier row of the chunk or an earlier chunk."""
    wellformed = {n: str(r.get(COLUMN, "")).strip() for n, r in rows}
    ids = sorted({v for v in wellformed.values() if CUSTOMER_ID.fullmatch(v)})
    known: dict[str, bool] = {}  # known id -> within the scope
    earlier: set[str] = set()
    if ids:
        found = select(customer.c.customer_id, owner.c.manager_id, owner.c.team_id).select_from(
            customer.outerjoin(owner, owner.c.customer_id == customer.c.customer_id))
        known = {c: scope.holds(m, t) for c, m, t in session.execute(
            found.where(_among(session, customer.c.customer_id, ids)))}
        earlier = set(session.scalars(select(list_member.c.customer_id).where(
            list_member.c.list_id == list_id, _among(session, list_member.c.customer_id, ids))))
    accepted: list[str] = []
    rejects: list[dict[str, Any]] = []
    for n, _ in rows:
        v = wellformed[n]
        reason = ("malformed" if not CUSTOMER_ID.fullmatch(v) else "unknown_customer" if v not in known
                  else "out_of_scope" if not known[v] else "duplicate" if v in earlier else None)
        if reason:
            rejects.append({"list_id": list_id, "row_no": n, "field": COLUMN, "reason": reason})
        else:
            earlier.add(v)
            accepted.append(v)
    return accepted, rejects


class ListImporter:
    """`run_once`: import the oldest unfinished list to its end (a leader's scheduler tick calls it)."""

    def __init__(self, sessions: sessionmaker[Session], *, chunk_rows: int = 5000):
        self.sessions, self.chunk_rows = sessions, chunk_rows

    def run_once(self) -> int:
        with self.sessions() as s:
            row = s.execute(select(audience_list).where(audience_list.c.state.in_(ACTIVE))
                            .order_by(audience_list.c.created_at, audience_list.c.list_id).limit(1)).mappings().first()
        if row is None:
            return 0
        try:
            self._import(dict(row))
        except BadFile as exc:
            self._finish(row["list_id"], "failed", f"{exc.field}: {exc}"[:200])
        return 1

    def _import(self, job: dict[str, Any]) -> None:
        list_id, scope = job["list_id"], q.DataScope.of(job["scope"])
        rows = csv_rows(_opener(self.sessions.kw["bind"], list_id), int(job["rows_read"]), header)
        done = int(job["rows_read"])
        while chunk := list(islice(rows, self.chunk_rows)):
            with self.sessions.begin() as s:
                accepted, rejects = validate(s, chunk, list_id, scope)
                insert_ignore(s, list_member, [{"list_id": list_id, "customer_id": c} for c in accepted],
                              ["list_id", "customer_id"])
                insert_ignore(s, list_reject, rejects, ["list_id", "row_no"])
                done += len(chunk)
                s.execute(update(audience_list).where(audience_list.c.list_id == list_id).values(
                    state="running", rows_read=done, accepted=audience_list.c.accepted + len(accepted),
                    rejected=audience_list.c.rejected + len(rejects), updated_at=datetime.now(UTC)))
        self._finish(list_id, "done", None)
        log.info("audience_list_imported", list_id=list_id, rows=done)

    def _finish(self, list_id: str, state: str, error: str | None) -> None:
        now = datetime.now(UTC)
        with self.sessions.begin() as s:
            s.execute(update(audience_list).where(audience_list.c.list_id == list_id).values(
                state=state, error=error, updated_at=now, finished_at=now))
