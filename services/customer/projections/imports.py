"""The read-model fold of manual-import jobs and institutions (run with the customer rows, in the events'
transaction): a job's row follows its events (created, each lane's chunk adding its rows to the totals,
done or failed; a job stored before lanes: each chunk's totals), each chunk's rejections become rows
(number, field, reason: never a value of the file), an institution's row is its latest version. A chunk
adds (`rows_read = rows_read + n`) rather than sets, so the lanes' transactions, committed in any order by
several processes, each count once; a rebuild writes the same rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, case, update
from sqlalchemy.orm import Session

from ..domain.imports import ImportJob, ImportLane, Institution
from .tables import Tables, insert_for, upsert


def apply_import_events(session: Session, t: Tables, events: list[Any]) -> None:
    jobs: dict[str, dict[str, Any]] = {}
    progress: dict[str, dict[str, Any]] = {}
    added: dict[str, dict[str, Any]] = {}  # job → what its lanes' chunks in these events add
    rejects: list[dict[str, Any]] = []
    institutions: dict[str, dict[str, Any]] = {}
    for e in events:
        if isinstance(e, ImportJob.Created):
            jobs[e.job_id] = {"job_id": e.job_id, "filename": e.filename, "file_format": e.file_format,
                              "sha256": e.sha256, "size": e.size, "created_by": e.created_by,
                              "rows_estimate": getattr(e, "rows_estimate", None),
                              "created_at": e.created_at, "state": "queued", "rows_read": 0, "accepted": 0,
                              "rejected": 0, "updated_at": e.created_at, "finished_at": None, "error": None}
        elif isinstance(e, ImportJob.ChunkProcessed):
            _progress(jobs, progress, e.job_id, {"state": "running", "rows_read": e.offset,
                                                 "accepted": e.accepted_total, "rejected": e.rejected_total,
                                                 "updated_at": e.at})
            rejects.extend(_reject_rows(e))
        elif isinstance(e, ImportLane.ChunkProcessed):
            created = jobs.get(e.job_id)
            if created is not None and created["state"] == "queued":  # a stored job's row: the UPDATE's CASE
                created["state"] = "running"
            target = created or added.setdefault(e.job_id, {"rows_read": 0, "accepted": 0, "rejected": 0,
                                                            "updated_at": e.at})
            target["rows_read"] += e.rows
            target["accepted"] += e.accepted
            target["rejected"] += len(e.rejects)
            target["updated_at"] = max(target["updated_at"], e.at)
            rejects.extend(_reject_rows(e))
        elif isinstance(e, ImportJob.Finished):
            _progress(jobs, progress, e.job_id, {"state": "done", "finished_at": e.at, "updated_at": e.at})
        elif isinstance(e, ImportJob.Failed):
            _progress(jobs, progress, e.job_id, {"state": "failed", "finished_at": e.at, "updated_at": e.at,
                                                 "error": e.error[:200]})
        elif isinstance(e, Institution.Created | Institution.Updated):
            row = institutions.get(e.institution_id)
            institutions[e.institution_id] = {
                "institution_id": e.institution_id, "name": e.name, "manager_id": e.manager_id,
                "team_id": e.team_id, "updated_at": e.at,
                "created_at": e.at if isinstance(e, Institution.Created) or row is None else row["created_at"]}
    if jobs:
        upsert(session, t.import_job, [jobs[k] for k in sorted(jobs)], ["job_id"])
    for keys, rows in _by_columns(progress):
        stmt = (update(t.import_job).where(t.import_job.c.job_id == bindparam("b_job_id"))
                .values({k: bindparam(f"b_{k}") for k in keys}))
        session.execute(stmt, [{f"b_{k}": v for k, v in r.items()} for r in rows])
    if added:
        j = t.import_job.c
        session.execute(
            update(t.import_job).where(j.job_id == bindparam("b_job_id")).values(
                rows_read=j.rows_read + bindparam("b_rows_read"), accepted=j.accepted + bindparam("b_accepted"),
                rejected=j.rejected + bindparam("b_rejected"),
                state=case((j.state == "queued", "running"), else_=j.state),
                updated_at=case((j.updated_at < bindparam("b_updated_at"), bindparam("b_updated_at")),
                                else_=j.updated_at)),
            [{"b_job_id": job_id, **{f"b_{k}": v for k, v in added[job_id].items()}}
             for job_id in sorted(added)])
    if rejects:
        session.execute(insert_for(session, t.import_reject).on_conflict_do_nothing(), rejects)
    if institutions:
        rows = [institutions[k] for k in sorted(institutions)]
        stmt = insert_for(session, t.institution)
        session.execute(stmt.on_conflict_do_update(
            index_elements=["institution_id"],
            set_={c: stmt.excluded[c] for c in ("name", "manager_id", "team_id", "updated_at")}), rows)


def _reject_rows(e: ImportJob.ChunkProcessed | ImportLane.ChunkProcessed) -> list[dict[str, Any]]:
    """A chunk's rejections as report rows (number, field, reason: never a value of the file)."""
    return [{"job_id": e.job_id, "row_no": r["row"], "field": r["field"], "reason": r["reason"]} for r in e.rejects]


def _progress(jobs: dict[str, dict[str, Any]], progress: dict[str, dict[str, Any]], job_id: str,
              values: dict[str, Any]) -> None:
    if job_id in jobs:  # created in this batch: the inserted row carries it
        jobs[job_id].update(values)
    else:
        progress.setdefault(job_id, {}).update(values)


def _by_columns(progress: dict[str, dict[str, Any]]) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for job_id in sorted(progress):
        values = progress[job_id]
        keys = tuple(sorted(values))
        groups.setdefault(keys, []).append({"job_id": job_id, **values})
    return sorted(groups.items())
