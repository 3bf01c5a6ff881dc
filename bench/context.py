"""What a benchmark module gets: Kafka settings with a fresh prefix, PostgreSQL databases, the baseline."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from shared.runtime.kafka import delete_topics_with_prefix
from shared.runtime.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[1]


def _pg_server_url() -> str:
    url = os.environ.get("WHALE_TEST_DATABASE_URL")
    if url:
        return url
    subprocess.run([str(ROOT / "infra" / "postgres.sh"), "start"], check=True)
    return subprocess.run([str(ROOT / "infra" / "postgres.sh"), "url", "postgres"], check=True,
                          capture_output=True, text=True).stdout.strip()


def _bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


@dataclass
class BenchContext:
    quick: bool
    baseline: dict[str, Any] = field(default_factory=dict)
    _databases: list[str] = field(default_factory=list)
    _prefixes: list[str] = field(default_factory=list)

    @property
    def kafka(self) -> KafkaSettings:
        """Fresh topic prefix on every access: each benchmark gets its own topics (deleted by `delete_topics`)."""
        prefix = f"b{uuid.uuid4().hex[:8]}."
        self._prefixes.append(prefix)
        return KafkaSettings(
            bootstrap_servers=_bootstrap(),
            topic_prefix=prefix,
            session_timeout_ms=6000,
            heartbeat_interval_ms=1000,
            fetch_max_wait_ms=50,
        )

    def pg_database(self, label: str = "bench") -> str:
        server = _pg_server_url()
        name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self._databases.append(name)
        return f"{server.rsplit('/', 1)[0]}/{name}"

    def kept_database(self, name: str, ready: Callable[[str], bool]) -> tuple[str, bool]:
        """A database that outlives the run (never dropped by `cleanup`), for a set-up too slow to repeat:
        reused when `ready(url)` holds, otherwise created afresh. Returns (url, reused)."""
        server = _pg_server_url()
        url = f"{server.rsplit('/', 1)[0]}/{name}"
        with psycopg.connect(server, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        if exists and ready(url):
            return url, True
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return url, False

    async def delete_topics(self) -> int:
        """Delete the topics of every prefix handed out so far. A development broker kept them for its retention
        (7 days): a run's raw baseline alone is 200 MB, and a day of benchmark runs filled this machine's disk
        (57 GB of topics), which stopped the broker. Returns how many; a failure is reported, not raised."""
        prefixes, self._prefixes = self._prefixes, []
        try:
            return await delete_topics_with_prefix(KafkaSettings(bootstrap_servers=_bootstrap()), prefixes)
        except Exception as exc:  # noqa: BLE001 - the figures are taken; the topics expire by retention anyway
            sys.stderr.write(f"bench: could not delete the run's topics ({type(exc).__name__}: {exc})\n")
            return 0

    def cleanup(self) -> None:
        server = _pg_server_url()
        for name in self._databases:
            try:
                with psycopg.connect(server, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except psycopg.Error:
                pass
        self._databases.clear()
