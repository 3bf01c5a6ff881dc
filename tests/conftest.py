"""Test infrastructure: the real Kafka broker and a real PostgreSQL, started by the project's own scripts.

- Kafka: `KAFKA_BOOTSTRAP_SERVERS` if set, else infra/kafka.sh starts (or reuses) the local broker.
- PostgreSQL: `WHALE_TEST_DATABASE_URL` (a server URL; the tests create and drop their own databases in it)
  if set, else infra/postgres.sh starts (or reuses) a throwaway cluster on 127.0.0.1.
Each test gets its own topic prefix and its own databases, so tests never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from shared.runtime.kafka import delete_topics_with_prefix
from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[1]
configure_logging(os.environ.get("LOG_LEVEL", "WARNING"))
# The services' APIs built in-process by the tests publish no audit records unless a test asks for them
# (`AuditEmitSettings(enabled=True)`: tests/unit/test_audit_emit.py, tests/integration/test_audit_flow.py);
# the processes `make run` and the console's e2e start publish them (the default is on).
os.environ.setdefault("AUDIT_EMIT_ENABLED", "false")
# One customer match-index key for the services the tests build in-process and the `ops rebuild --verify`
# subprocesses they start (without it each derives its own from its own token secret, and the rebuilt
# match index differs from the live one).
os.environ.setdefault("CUSTOMER_MATCH_KEY", "tests-customer-match-key-0123456789")


def _run(script: str, *args: str) -> str:
    out = subprocess.run([str(ROOT / "infra" / script), *args], check=True, capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    _run("kafka.sh", "start")
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}"
    return os.environ["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = os.environ.get("WHALE_TEST_DATABASE_URL")
    if not url:
        _run("postgres.sh", "start")
        url = _run("postgres.sh", "url", "postgres")
        os.environ["WHALE_TEST_DATABASE_URL"] = url
    return url


# The topic prefixes this session handed out, per broker: their topics are deleted when the session ends, so a
# long-lived development broker does not collect thousands of partition directories (each one open files) over
# a day of test runs until it hits its open-files limit and stops answering.
_PREFIXES: dict[str, list[str]] = {}
TOPIC_CLEANUP_TIMEOUT_S = 120.0


@pytest.fixture()
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    """Kafka settings with a fresh topic prefix: this test's topics are its own (deleted at the session's end)."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    _PREFIXES.setdefault(kafka_bootstrap, []).append(prefix)
    return KafkaSettings(
        bootstrap_servers=kafka_bootstrap,
        topic_prefix=prefix,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        fetch_max_wait_ms=50,
        linger_ms=1,
    )


@pytest.fixture()
def pg_database(pg_server_url: str) -> Callable[[str], str]:
    """Factory: `pg_database("customer")` creates a fresh database and returns its URL (dropped afterwards)."""
    created: list[str] = []
    base = pg_server_url.rsplit("/", 1)[0]

    def make(label: str = "db") -> str:
        name = f"t_{label}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return f"{base}/{name}"

    yield make
    for name in created:
        try:
            with psycopg.connect(pg_server_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error:
            pass


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> Callable[[str], str]:
    def make(label: str = "db") -> str:
        return f"sqlite:///{tmp_path / (label + '.db')}"

    return make


async def eventually(check: Callable[[], Awaitable[Any] | Any], *, timeout: float = 20.0,
                     interval: float = 0.05, message: str = "condition not met") -> Any:
    """Poll `check` until it returns a truthy value or raises no AssertionError, with a deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: BaseException | None = None
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
                result = await result
            if result:
                return result
            last = None
        except AssertionError as exc:
            last = exc
        if loop.time() > deadline:
            raise AssertionError(f"{message} within {timeout}s" + (f": {last}" if last else ""))
        await asyncio.sleep(interval)  # poll interval under a deadline


@pytest.fixture()
def poll() -> Callable[..., Awaitable[Any]]:
    return eventually


async def ops_rebuild_verified(service: str, database_url: str) -> dict[str, dict[str, Any]]:
    """Run `python -m ops rebuild SERVICE --verify` on the service's database (the worker stopped): asserts it
    proved the rebuilt read model equal to the live one; returns its report per table."""
    import json
    import sys

    env = {**os.environ, f"{service.upper()}_DATABASE_URL": database_url}
    ops = await asyncio.create_subprocess_exec(sys.executable, "-m", "ops", "rebuild", service, "--verify", env=env,
                                               cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                               stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(ops.communicate(), timeout=180)
    assert ops.returncode == 0, err.decode()[-2000:]
    tables = {r["table"]: r for r in map(json.loads, out.decode().splitlines()) if "table" in r}  # not the logs
    assert tables and all(r["equal"] for r in tables.values()), tables
    return tables


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath) or "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


# The fault suite (tests/fault) starts a whole system of its own and runs for minutes: `make test` runs it
# on its own after everything else (WHALE_FAULT_SUITE=1 pytest tests/fault), never inside the main run.
collect_ignore = [] if os.environ.get("WHALE_FAULT_SUITE") else ["fault"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Delete the topics of this session's prefixes (in a thread of its own: the tests' loop is gone by now).
    A broker that does not answer in time only costs a warning: the test results stand."""
    log = get_logger("tests")
    for bootstrap, prefixes in _PREFIXES.items():
        outcome: dict[str, Any] = {}

        def run(bootstrap: str = bootstrap, prefixes: list[str] = prefixes, outcome: dict[str, Any] = outcome) -> None:
            try:
                outcome["deleted"] = asyncio.run(asyncio.wait_for(delete_topics_with_prefix(
                    KafkaSettings(bootstrap_servers=bootstrap), prefixes),
                                                                  TOPIC_CLEANUP_TIMEOUT_S))
            except Exception as exc:  # noqa: BLE001 - cleanup only
                outcome["error"] = repr(exc)

        worker = threading.Thread(target=run, name="topic-cleanup", daemon=True)
        worker.start()
        worker.join(TOPIC_CLEANUP_TIMEOUT_S + 10)
        if "deleted" in outcome:
            log.info("test_topics_deleted", bootstrap=bootstrap, prefixes=len(prefixes), topics=outcome["deleted"])
        else:
            log.warning("test_topics_not_deleted", bootstrap=bootstrap, prefixes=len(prefixes),
                        error=outcome.get("error", "timed out"))
