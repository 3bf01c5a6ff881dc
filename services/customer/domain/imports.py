"""Manual import of existing customers and leads: one row → one validated fact, and the job's aggregate.

Pure: no I/O. `validate_row` turns a file row (a dict of header → text) into the fact the Customer
aggregate records (`import.customer_imported`) or into a rejection (field + reason code, never the value:
the file carries personal data). A row's customer id is deterministic (the file's `customer_id`, else a
keyed hash of its ID document, else of its e-mail or phone), and so is the fact id (the job and the row
number): processing a row again never creates a second customer nor a second fact.

`ImportJob` is the job's aggregate (the file, queued → done | failed). Its rows are imported in `lanes`
(`lane_of`: by the person's normalised name and date of birth, so two rows a probable-duplicate match
would pair are in one lane), each an `ImportLane` aggregate worked by one process: each processed chunk
is one `ChunkProcessed` event carrying the lane's new row offset (its checkpoint: how far it has read
the file) and the chunk's counts and rejections, saved in the transaction that stores the chunk's
customers, so a restart resumes each lane exactly after its last committed chunk. Jobs stored before
lanes existed carry their progress in the job's own `ChunkProcessed` events: one lane, resumed from it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
import zlib
from datetime import UTC, date, datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from shared.events.upstream import Channel, IdType

from .matching import normalise_dob, normalise_name

IMPORTED = "import.customer_imported"
IMPORT_NAMESPACE = uuid.UUID("7c1d2f0e-4a55-4b8e-9d0b-6a3e8f1c2b44")
JOB_NAMESPACE = uuid.UUID("2e8b6c1a-93f4-4f0e-8a71-5d2c9b7e4f10")

COLUMNS = ("customer_id", "name", "phone_dialing_code", "phone_number", "email", "id_type", "id_number",
           "id_issuing_country", "date_of_birth", "source", "institution_id", "registered_at", "language",
           "residence_country")
REQUIRED = ("name",)
REASONS = ("missing", "invalid_format", "unknown_value", "out_of_range", "no_identity", "too_long")

_CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_DIALING = re.compile(r"^\+[1-9][0-9]{0,3}$")
_PHONE = re.compile(r"^[0-9]{4,15}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]{1,63})+$")
_ID_NUMBER = re.compile(r"^[A-Za-z0-9\-]{4,32}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_INSTITUTION = re.compile(r"^[A-Za-z0-9_\-.:]{1,64}$")
ID_TYPES = frozenset(t.value for t in IdType)
SOURCES = frozenset(c.value for c in Channel)
OLDEST_BIRTH = date(1900, 1, 1)


class RowRejected(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def fact_id(job_id: str, row_no: int) -> str:
    return str(uuid.uuid5(IMPORT_NAMESPACE, f"{job_id}:{row_no}"))


def derived_customer_id(key: bytes, kind: str, value: str) -> str:
    """`imp-` + a keyed hash (HMAC-SHA256) of the person's identity: stable across files and runs with the
    same key, and no ID number, e-mail or phone can be recovered from it."""
    digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"imp-{digest[:32]}"


def _text(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _check(row: dict[str, Any], key: str, pattern: re.Pattern[str], *, upper: bool = False) -> str | None:
    value = _text(row, key)
    if value is None:
        return None
    if upper:
        value = value.upper()
    if not pattern.fullmatch(value):
        raise RowRejected(key, "invalid_format")
    return value


def _birth_date(value: Any, today: date) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        d = value.date()
    elif isinstance(value, date):
        d = value
    else:
        try:
            d = date.fromisoformat(str(value).strip())
        except ValueError:
            raise RowRejected("date_of_birth", "invalid_format") from None
    if d < OLDEST_BIRTH or d > today:
        raise RowRejected("date_of_birth", "out_of_range")
    return d.isoformat()


def _registered_at(value: Any, default: datetime) -> datetime:
    if value is None or value == "":
        return default
    if isinstance(value, datetime):
        at = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        try:
            at = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise RowRejected("registered_at", "invalid_format") from None
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
    if at > default:
        raise RowRejected("registered_at", "out_of_range")
    return at.astimezone(UTC)


def validate_row(row: dict[str, Any], *, job_id: str, row_no: int, at: datetime, key: bytes,
                 institutions: frozenset[str] | set[str]) -> tuple[str, dict[str, Any]]:
    """(customer id, fact) for a valid row; `RowRejected(field, reason)` otherwise. `at`: the job's time
    (the business time of a row without `registered_at`, and the latest one allowed)."""
    for key_ in REQUIRED:
        if _text(row, key_) is None:
            raise RowRejected(key_, "missing")
    name = _text(row, "name")
    assert name is not None
    if len(name) > 200:
        raise RowRejected("name", "too_long")
    dialing = _check(row, "phone_dialing_code", _DIALING)
    phone = _check(row, "phone_number", _PHONE)
    if (dialing is None) != (phone is None):
        raise RowRejected("phone_number" if phone is None else "phone_dialing_code", "missing")
    email = _check(row, "email", _EMAIL)
    id_type = _text(row, "id_type")
    if id_type is not None and id_type.lower() not in ID_TYPES:
        raise RowRejected("id_type", "unknown_value")
    id_number = _check(row, "id_number", _ID_NUMBER)
    if (id_type is None) != (id_number is None):
        raise RowRejected("id_number" if id_number is None else "id_type", "missing")
    issuing = _check(row, "id_issuing_country", _COUNTRY, upper=True)
    dob = _birth_date(row.get("date_of_birth"), at.date())
    source = _text(row, "source")
    if source is not None and source not in SOURCES:
        raise RowRejected("source", "unknown_value")
    institution = _check(row, "institution_id", _INSTITUTION)
    if institution is not None and institution not in institutions:
        raise RowRejected("institution_id", "unknown_value")
    registered_at = _registered_at(row.get("registered_at"), at)
    language = _check(row, "language", _LANGUAGE)
    residence = _check(row, "residence_country", _COUNTRY, upper=True)
    customer_id = _check(row, "customer_id", _CUSTOMER_ID)
    if customer_id is None:
        if id_number is not None:
            customer_id = derived_customer_id(key, "id", f"{id_type.lower()}:{issuing or ''}:{id_number.upper()}")  # type: ignore[union-attr]
        elif email is not None:
            customer_id = derived_customer_id(key, "email", email.lower())
        elif phone is not None:
            customer_id = derived_customer_id(key, "phone", f"{dialing}{phone}")
        else:
            raise RowRejected("customer_id", "no_identity")
    data = {"customer_id": customer_id, "job_id": job_id, "row": row_no, "registered_at": registered_at.isoformat(),
            "name": name, "phone_dialing_code": dialing, "phone_number": phone, "email": email,
            "id_type": id_type.lower() if id_type else None, "id_number": id_number, "id_issuing_country": issuing,
            "date_of_birth": dob, "source": source, "institution_id": institution, "language": language,
            "residence_country": residence}
    fact = {"id": fact_id(job_id, row_no), "type": IMPORTED, "at": registered_at, "data": data,
            "correlation_id": None}
    return customer_id, fact


# ------------------------------------------------------------------------------------------- the job
def job_uuid(job_id: str) -> uuid.UUID:
    return uuid.uuid5(JOB_NAMESPACE, job_id)


def job_id_of(sha256: str) -> str:
    """The job's id is its file's content hash: the same file uploaded twice is the same job."""
    return f"imp_{sha256[:32]}"


class ImportJob(Aggregate):
    """One uploaded file. States: queued → done | failed (its lanes' progress is theirs: the read model shows
    the job running from their first chunk); a job stored before lanes was running from its own first chunk."""

    @staticmethod
    def create_id(job_id: str, **_: Any) -> uuid.UUID:  # type: ignore[override]
        return job_uuid(job_id)

    @event("Created")
    def __init__(self, job_id: str, filename: str, file_format: str, sha256: str, size: int, created_by: str,
                 created_at: datetime, rows_estimate: int | None = None, lanes: int | None = None):
        self.job_id, self.filename, self.file_format = job_id, filename, file_format
        self.sha256, self.size, self.created_by, self.created_at = sha256, size, created_by, created_at
        self.state = "queued"
        self.rows_estimate = rows_estimate
        self.lanes = lanes  # None: stored before lanes (its progress is in its own ChunkProcessed events)
        self.offset = 0  # (before lanes) rows of the file processed, the checkpoint
        self.accepted = 0
        self.rejected = 0
        self.finished_at: datetime | None = None
        self.error: str | None = None

    @property
    def lane_count(self) -> int:
        return self.lanes or 1

    @event("ChunkProcessed")
    def _chunk_processed(self, job_id: str, offset: int, accepted_total: int, rejected_total: int,
                         rejects: list[dict[str, Any]], at: datetime) -> None:
        """Stored before lanes existed (a store's older jobs): folded and projected, no longer recorded."""
        self.state = "running"
        self.offset = offset
        self.accepted = accepted_total
        self.rejected = rejected_total

    def finish(self, at: datetime) -> None:
        self._finished(job_id=self.job_id, at=at)

    def fail(self, error: str, at: datetime) -> None:
        self._failed(job_id=self.job_id, error=error, at=at)

    @event("Finished")
    def _finished(self, job_id: str, at: datetime) -> None:
        self.state = "done"
        self.finished_at = at

    @event("Failed")
    def _failed(self, job_id: str, error: str, at: datetime) -> None:
        self.state = "failed"
        self.error = error
        self.finished_at = at


def lane_of(row: dict[str, Any], lanes: int) -> int:
    """The lane of a file row, from its raw values (before validation, which only the lane does): the
    normalised name and date of birth, the probable-duplicate key (`domain.matching`), so a pair the match
    step would queue for review is never split between two lanes that import it at the same moment. The same
    person under two spellings may be split: the lanes then conflict on the customer's version and the
    later chunk is folded again on top of the earlier one."""
    if lanes <= 1:
        return 0
    name, dob = row.get("name"), row.get("date_of_birth")
    key = f"{normalise_name(name if isinstance(name, str) else None) or ''}|{normalise_dob(dob) or ''}"
    return zlib.crc32(key.encode()) % lanes


def lane_uuid(job_id: str, lane: int) -> uuid.UUID:
    return uuid.uuid5(JOB_NAMESPACE, f"{job_id}:lane:{lane}")


class ImportLane(Aggregate):
    """The rows of one job in one lane, and how far the lane has read the file (`offset`: data rows read,
    its own and the other lanes'). States: running → done."""

    @staticmethod
    def create_id(job_id: str, lane: int, **_: Any) -> uuid.UUID:  # type: ignore[override]
        return lane_uuid(job_id, lane)

    @event("Created")
    def __init__(self, job_id: str, lane: int, lanes: int, offset: int, at: datetime):
        self.job_id, self.lane, self.lanes, self.offset = job_id, lane, lanes, offset
        self.state = "running"

    def record_chunk(self, offset: int, rows: int, accepted: int, rejects: list[dict[str, Any]],
                     at: datetime) -> None:
        """A chunk of the lane's rows (`rows` of them, `accepted` imported, `rejects`) read up to `offset`."""
        self._chunk_processed(job_id=self.job_id, lane=self.lane, offset=offset, rows=rows, accepted=accepted,
                              rejects=rejects, at=at)

    @event("ChunkProcessed")
    def _chunk_processed(self, job_id: str, lane: int, offset: int, rows: int, accepted: int,
                         rejects: list[dict[str, Any]], at: datetime) -> None:
        self.offset = offset

    def finish(self, at: datetime) -> None:
        self._finished(job_id=self.job_id, lane=self.lane, at=at)

    @event("Finished")
    def _finished(self, job_id: str, lane: int, at: datetime) -> None:
        self.state = "done"


# ------------------------------------------------------------------------------------------- institutions
def institution_uuid(institution_id: str) -> uuid.UUID:
    return uuid.uuid5(JOB_NAMESPACE, f"institution:{institution_id}")


class Institution(Aggregate):
    """An institution customers come through (institutional association): its name and who looks after it
    (a manager or a team). Routing rules can match its id."""

    @staticmethod
    def create_id(institution_id: str, **_: Any) -> uuid.UUID:  # type: ignore[override]
        return institution_uuid(institution_id)

    @event("Created")
    def __init__(self, institution_id: str, name: str, manager_id: str | None, team_id: str | None,
                 by: str, at: datetime):
        self.institution_id, self.name, self.manager_id, self.team_id = institution_id, name, manager_id, team_id
        self.updated_at = at

    @event("Updated")
    def update(self, institution_id: str, name: str, manager_id: str | None, team_id: str | None, by: str,
               at: datetime) -> None:
        self.name, self.manager_id, self.team_id = name, manager_id, team_id
        self.updated_at = at
