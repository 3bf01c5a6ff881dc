"""KYC read model from the event log: SLA totals from event times, per-customer completion, idempotent
re-application, and a rebuild giving identical rows (SQLite read model, in-memory event store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.kyc.bootstrap import bootstrap
from services.kyc.domain.case import case_id_for
from services.kyc.projections.queries import QueueFilter, queue_page
from services.kyc.projections.tables import kyc_case, kyc_customer
from services.kyc.settings import KycSettings
from shared.events import registry
from shared.events.upstream import AccountApplicationSubmitted
from shared.runtime.handlers import EventSourcedBatchHandler

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


def submitted(at: datetime, ref: str = "v1"):
    payload = AccountApplicationSubmitted(
        customer_id="p1",
        application_id="pa1",
        submitted_at=at,
        id_issuing_country="HK",
        documents=[{"document_id": "pd1", "kind": "selfie", "storage_ref": f"ref-{ref}", "uploaded_at": at}],
        declarations={
            "net_worth": "10",
            "annual_income": "5",
            "investment_experience_years": 1,
            "employment_status": "student",
        },
    )
    return registry.decode(registry.envelope(payload, producer="platform").model_dump(mode="json"))


def rows(c) -> tuple[list[dict], list[dict]]:
    with c.sessions() as s:
        cases = [dict(r) for r in s.execute(select(kyc_case)).mappings()]
        customers = [dict(r) for r in s.execute(select(kyc_customer)).mappings()]
    return cases, customers


def test_sla_totals_completion_rebuild(tmp_path):
    c = bootstrap(KycSettings(database_url=f"sqlite:///{tmp_path / 'kyc.db'}"))
    handler = EventSourcedBatchHandler(c.app, "kyc-upstream", c.app.process_upstream, ["t"])
    handler.apply("t", 0, [submitted(T0)], 1)
    case_id = str(case_id_for("p1", "pa1"))
    app = c.app
    app.claim(case_id, "r1", T0 + H)  # 1 h in the queue
    app.release(case_id, "r1", T0 + 2 * H, False)  # 1 h in review
    app.claim(case_id, "r2", T0 + 5 * H)  # 3 h more in the queue
    app.decide_document(case_id, "r2", "pd1", "rejected", "selfie_mismatch", None, T0 + 5.5 * H)
    app.submit_review(case_id, "r2", None, T0 + 6 * H)  # 1 h more in review
    cases, customers = rows(c)
    row = cases[0]
    assert row["state"] == "rejected" and row["decided_by"] == "r2"
    assert row["queue_seconds_total"] == 4 * 3600 and row["review_seconds_total"] == 2 * 3600
    assert row["documents_pending"] == 0 and row["completion_pct"] == 50  # 5 fields of 10 items, no document
    assert customers[0]["latest_state"] == "rejected" and customers[0]["completion_pct"] == 50

    # resubmission puts it back in the queue with its own age
    handler.apply("t", 0, [submitted(T0 + 24 * H, ref="v2")], 2)
    with c.sessions() as s:
        items, _ = queue_page(s, now=T0 + 30 * H, sla=app.rules.sla, flt=QueueFilter(), limit=10)
    assert [(i["state"], i["age_seconds"], i["overdue"]) for i in items] == [("resubmitted", 6 * 3600, False)]
    assert items[0]["time_in_queue_seconds"] == 4 * 3600 + 6 * 3600

    before = rows(c)
    # re-applying the same notifications changes nothing; a rebuild gives the same rows
    with c.sessions.begin() as s:  # the fold the events' transactions ran, over every stored event again
        app.read_model(s, [app.mapper.to_domain_event(n)
                           for n in app.process_recorder.select_notifications(start=1, limit=100)])
    assert rows(c) == before
    assert c.rebuild_read_model() > 0
    assert rows(c) == before


def test_event_store_encrypted_at_rest_when_a_key_is_configured(tmp_path):
    from eventsourcing.cryptography import AESCipher

    es = tmp_path / "kyc.db"  # the one database: event store and read model
    settings = KycSettings(database_url=f"sqlite:///{es}", eventstore_cipher_key=AESCipher.create_key(32))
    c = bootstrap(settings)
    handler = EventSourcedBatchHandler(c.app, "kyc-upstream", c.app.process_upstream, ["t"])
    handler.apply("t", 0, [submitted(T0, ref="very-private-ref")], 1)
    assert c.app.get_case(case_id_for("p1", "pa1")).documents["pd1"]["storage_ref"] == "ref-very-private-ref"
    c.app.close()
    c.engine.dispose()
    raw = es.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("es.db-*"))
    assert b"very-private-ref" not in raw and b"student" not in raw
    assert rows(c)[0][0]["state"] == "pending"
