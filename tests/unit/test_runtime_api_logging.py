"""API factory (health, readiness, metrics, correlation ids, problem+json) and log redaction."""

from __future__ import annotations

import io
import json

import httpx
import structlog

from shared.runtime.api import Problem, create_app
from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.settings import AuthSettings

AUTH = AuthSettings(jwt_secret="unit-test-secret-unit-test-secret")


async def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_health_readiness_metrics_and_correlation_id() -> None:
    state = {"db_up": True}

    async def database() -> None:
        if not state["db_up"]:
            raise ConnectionError("db down")

    app = create_app(service="unit", auth=AUTH, readiness=[database])

    @app.get("/boom")
    def boom() -> None:
        raise Problem(409, "Conflict", "case is not claimed", type_="urn:whale-crm:problem:transition")

    async with await _client(app) as c:
        assert (await c.get("/healthz")).json() == {"status": "ok"}
        assert (await c.get("/readyz")).status_code == 200
        state["db_up"] = False
        r = await c.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"] == {"database": "ConnectionError"}
        r = await c.get("/boom", headers={"x-correlation-id": "corr-123"})
        assert r.status_code == 409 and r.headers["x-correlation-id"] == "corr-123"
        assert r.json() == {"type": "urn:whale-crm:problem:transition", "title": "Conflict", "status": 409,
                            "detail": "case is not claimed"}
        r = await c.get("/nope")
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
        metrics = (await c.get("/metrics")).text
        assert 'whale_http_seconds_count{method="GET",route="/boom",service="unit",status="409"}' in metrics


def test_personal_data_is_redacted_from_logs() -> None:
    buf = io.StringIO()
    configure_logging("INFO", service="unit")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=buf))
    try:
        get_logger("t").info("customer_registered", customer_id="C1", phone="+85291234567",
                             email="a@b.c", id_number="A123", name="Chan Tai Man", event_id="e1")
    finally:
        configure_logging("INFO")
    line = json.loads(buf.getvalue().strip().splitlines()[-1])
    assert line["event"] == "customer_registered" and line["customer_id"] == "C1" and line["event_id"] == "e1"
    for key in ("phone", "email", "id_number", "name"):
        assert line[key] == "[redacted]"
    assert "+85291234567" not in buf.getvalue() and "Chan Tai Man" not in buf.getvalue()


def test_kafka_ssl_settings_build_a_tls_context() -> None:
    import ssl

    from shared.runtime.settings import KafkaSettings

    kw = KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="svc",
                       sasl_password="pw").client_kwargs()
    assert isinstance(kw["ssl_context"], ssl.SSLContext) and kw["sasl_plain_username"] == "svc"
    assert "ssl_context" not in KafkaSettings().client_kwargs()
