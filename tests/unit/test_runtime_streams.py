"""The faust driver connects with the same `KAFKA_*` TLS and SASL settings as every other client, and its engine
ends loudly when the faust app ends by itself."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl

import faust
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from shared.runtime import streams
from shared.runtime.pipeline import Pipeline
from shared.runtime.settings import KafkaSettings
from shared.runtime.streams import EngineEnded, broker_options
from tests.unit.test_runtime_pipeline import DLQ, KAFKA, TOPIC, FakeProducer, Store


def write_ca(path) -> str:
    """A self-signed CA certificate (PEM) under `path`; returns the subject's common name."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "whale-test-ca")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return "whale-test-ca"


def ca_names(context: ssl.SSLContext) -> list[str]:
    return [v for cert in context.get_ca_certs() for rdn in cert["subject"] for k, v in rdn if k == "commonName"]


def test_ssl_uses_the_configured_ca_bundle(tmp_path):
    cn = write_ca(tmp_path / "ca.pem")
    kafka = KafkaSettings(bootstrap_servers="k1:9093,k2:9093", security_protocol="SSL", ssl_cafile=tmp_path / "ca.pem")
    opts = broker_options(kafka)
    assert opts["broker"] == ["kafka://k1:9093", "kafka://k2:9093"]
    creds = opts["broker_credentials"]
    assert isinstance(creds, faust.SSLCredentials)
    assert ca_names(creds.context) == [cn]  # the CA bundle of the settings, as aiokafka's clients get it
    assert ca_names(kafka.client_kwargs()["ssl_context"]) == [cn]


def test_sasl_over_tls_carries_the_credentials_and_the_ca(tmp_path):
    cn = write_ca(tmp_path / "ca.pem")
    kafka = KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="tasks",
                          sasl_password=SecretStr("s3cret"), ssl_cafile=tmp_path / "ca.pem")
    creds = broker_options(kafka)["broker_credentials"]
    assert isinstance(creds, faust.SASLCredentials)
    assert (creds.username, creds.password, creds.mechanism.value) == ("tasks", "s3cret", "SCRAM-SHA-512")
    assert ca_names(creds.ssl_context) == [cn]


def test_plaintext_has_no_credentials():
    assert "broker_credentials" not in broker_options(KafkaSettings())


async def _engine(tmp_path, monkeypatch):
    """A faust engine whose app starts without a broker (its start and stop are no-ops here)."""
    async def nothing(*args, **kwargs) -> None:
        return None

    monkeypatch.setattr(streams, "align_group_offsets", nothing)
    pipeline = Pipeline([Store()], producer=FakeProducer(), dead_letter_topic=DLQ, service="unit", group="unit-g")
    driver = streams.FaustDriver(KAFKA, pipeline, group="unit-engine", topics=[TOPIC], client_id="unit",
                                 datadir=str(tmp_path / "faust"))
    monkeypatch.setattr(driver.app, "start", nothing)
    monkeypatch.setattr(driver.app, "stop", nothing)
    running = asyncio.create_task(driver.run())
    await asyncio.sleep(0.05)
    return driver, running


async def test_a_faust_app_that_crashes_by_itself_ends_the_engine_loudly(tmp_path, monkeypatch, capsys):
    """faust ends its app on a crash; the engine used to wait for a stop forever, consuming nothing."""
    driver, running = await _engine(tmp_path, monkeypatch)
    assert not running.done()
    await driver.app.crash(RuntimeError("consumer thread died"))
    with pytest.raises(EngineEnded, match="crashed.*consumer thread died"):
        await asyncio.wait_for(running, timeout=10)
    assert '"faust_engine_ended"' in capsys.readouterr().out


async def test_a_faust_engine_asked_to_stop_ends_without_error(tmp_path, monkeypatch):
    driver, running = await _engine(tmp_path, monkeypatch)
    await driver.stop()
    await asyncio.wait_for(running, timeout=10)
