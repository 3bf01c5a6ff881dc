"""A broker of a test's own (`own_broker`): for the tests that stop and start it (outages). The shared broker
of the other tests is never touched."""

from __future__ import annotations

import os
import random
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def spare_port_pair() -> int:
    """A port p with p and p+1 (the controller's) free, below the ephemeral range (32768 and up on Linux):
    there, a client's outgoing connection can take the port while the broker is stopped, and the broker
    cannot start again ("Address already in use", seen on a busy machine)."""
    for _ in range(200):
        port = random.randrange(20_000, 32_000)
        if _free(port) and _free(port + 1):
            return port
    raise RuntimeError("no spare port pair")


class OwnBroker:
    """A single-node broker of this test (infra/kafka.sh with its own port and data directory)."""

    def __init__(self, data_dir: Path):
        self.port = spare_port_pair()
        self.env = {**os.environ, "WHALE_FORCE_LOCAL_KAFKA": "1", "KAFKA_PORT": str(self.port),
                    "KAFKA_DATA_DIR": str(data_dir), "KAFKA_HEAP": "384m"}

    def _run(self, command: str) -> None:
        subprocess.run([str(ROOT / "infra" / "kafka.sh"), command], env=self.env, check=True,
                       capture_output=True, timeout=240)

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        self._run("stop")

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture()
def own_broker(tmp_path: Path):
    broker = OwnBroker(tmp_path / "kafka")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
