"""The fault suite's own system: its own Kafka broker and PostgreSQL cluster (other ports, data under
var/fault: the shared ones are never stopped), the services as processes started the way `make run`
starts them (devtools.run: migrations, then each service's worker and API process), one PostgreSQL
database per service, and the probes that tell when the system has drained.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from devtools import run as launcher
from ops import kafka_ops
from ops import status as ops_status
from shared.events import topics
from shared.runtime.kafka import ensure_topics
from shared.runtime.settings import ONE_DATABASE_SERVICES, KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var" / "fault"
SERVICES = ["customer", "assignment", "tasks", "summary", "kyc", "usercrm"]
KAFKA_PORT = int(os.environ.get("FAULT_KAFKA_PORT", "19192"))  # controller: +1
PG_PORT = int(os.environ.get("FAULT_PG_PORT", "55532"))
SECRET = "fault-suite-secret-fault-suite-secret"


def _script(name: str, action: str, env: dict[str, str], timeout: float = 240) -> None:
    subprocess.run([str(ROOT / "infra" / name), action], env=env, check=True, capture_output=True, timeout=timeout)


@dataclass
class Infra:
    """The suite's broker and database server (infra/kafka.sh and infra/postgres.sh on other ports)."""

    var: Path = VAR

    def _kafka_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS",)}
        env.update(KAFKA_PORT=str(KAFKA_PORT), KAFKA_DATA_DIR=str(self.var / "kafka"), WHALE_FORCE_LOCAL_KAFKA="1",
                   KAFKA_HEAP="512m")
        return env

    def _pg_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "WHALE_TEST_DATABASE_URL"}
        env.update(PG_PORT=str(PG_PORT), PG_DATA_DIR=str(self.var / "pg"))
        return env

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{KAFKA_PORT}"

    def pg_url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{PG_PORT}/{db}"

    def fresh(self) -> None:
        """Stop what a previous run may have left, and start from empty data directories."""
        self.stop()
        shutil.rmtree(self.var, ignore_errors=True)
        self.var.mkdir(parents=True)

    def start_kafka(self) -> None:
        _script("kafka.sh", "start", self._kafka_env())

    def stop_kafka(self) -> None:
        _script("kafka.sh", "stop", self._kafka_env())

    def start_pg(self) -> None:
        _script("postgres.sh", "start", self._pg_env())

    def stop_pg(self) -> None:
        _script("postgres.sh", "stop", self._pg_env())

    def stop(self) -> None:
        for stop in (self.stop_kafka, self.stop_pg):
            try:
                stop()
            except (subprocess.SubprocessError, OSError):
                pass

    def create_databases(self, names: list[str]) -> None:
        with psycopg.connect(self.pg_url(), autocommit=True) as conn:
            for name in names:
                conn.execute(f'CREATE DATABASE "{name}"')


def free_port_base(start: int = 18400, step: int = 20) -> int:
    """A base whose API ports (base+1..+5) and worker health ports (+100) are free."""
    for base in range(start, start + 40 * step, step):
        ports = [p for i in range(1, 6) for p in (base + i, base + i + 100)]
        if all(_free(p) for p in ports):
            return base
    raise RuntimeError("no free port range for the fault suite's services")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@dataclass
class Stack:
    """The services, each as a worker process and an API process (devtools.run's launcher)."""

    infra: Infra
    kafka: KafkaSettings
    ports: dict[str, int]
    extra_env: dict[str, str]
    envs: dict[str, dict[str, str]] = field(default_factory=dict)
    procs: dict[tuple[str, str], subprocess.Popen] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        return self.infra.var / "logs"

    def worker_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name] + 100}"

    def api_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    async def start(self) -> None:
        await ensure_topics(self.kafka, [self.kafka.topic(t) for t in topics.ALL_TOPICS])
        dbs: dict[str, str] = {}
        for name in SERVICES:
            dbs[f"{name.upper()}_DATABASE_URL"] = f"fault_{name}"
            if name not in ONE_DATABASE_SERVICES:
                dbs[f"{name.upper()}_EVENTSTORE_URL"] = f"fault_{name}_events"
        self.infra.create_databases(list(dbs.values()))
        for name in SERVICES:
            own = {k: self.infra.pg_url(db) for k, db in dbs.items() if k.startswith(name.upper() + "_")}
            self.envs[name] = launcher.service_env(name, self.infra.var, self.kafka.bootstrap_servers, self.ports,
                                                   {**self.extra_env, **own})
        await asyncio.to_thread(launcher.migrate_all, self.envs)
        for name in SERVICES:
            for command in ("worker", "api"):
                self.procs[(name, command)] = launcher.spawn(name, command, self.envs[name], self.logs)
        await asyncio.gather(*(self.wait_ready(name, command) for name, command in self.procs))

    async def wait_ready(self, name: str, command: str, timeout: float = 180) -> None:
        port = self.ports[name] + (100 if command == "worker" else 0)
        await launcher.wait_ready(name, self.procs[(name, command)], timeout=timeout, logs=self.logs, port=port)

    def kill9(self, name: str, command: str = "worker") -> None:
        proc = self.procs[(name, command)]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def respawn(self, name: str, command: str = "worker") -> None:
        self.procs[(name, command)] = launcher.spawn(name, command, self.envs[name], self.logs)

    def exited(self) -> list[str]:
        return [f"{n}-{c} (code {p.returncode})" for (n, c), p in self.procs.items() if p.poll() is not None]

    def stop(self) -> None:
        launcher.stop_services({f"{n}-{c}": p for (n, c), p in self.procs.items()})

    def env_for(self, name: str) -> dict[str, str]:
        return self.envs[name]


@dataclass(frozen=True)
class Backlog:
    """What the system still has to do: consumer lag per group, unpublished / unprojected stored events per
    component, and workers that are not ready."""

    lag: dict[str, int]
    backlog: dict[str, int]
    not_ready: list[str]
    stalled: list[str]

    @property
    def total(self) -> int:
        return sum(self.lag.values()) + sum(self.backlog.values())

    @property
    def drained(self) -> bool:
        return self.total == 0 and not self.not_ready and not self.stalled


async def backlog(stack: Stack) -> Backlog:
    lag: dict[str, int] = {}
    rows = await kafka_ops.consumer_lag(stack.kafka, "whale-", "")
    stored = await asyncio.to_thread(faust_positions, stack)
    for row in rows:
        n = row.lag
        if row.group == FAUST_GROUP:  # its committed offsets trail its stored positions (see faust_positions)
            n = max(0, row.end - stored.get((row.topic, row.partition), 0) - 1)
        lag[row.group] = lag.get(row.group, 0) + n
    heads = await ops_status.status({n: stack.worker_url(n) for n in SERVICES}, timeout_s=5)
    comp: dict[str, int] = {}
    not_ready, stalled = [], []
    for head, rows in heads:
        if head["state"] != "ready":
            not_ready.append(head["service"])
        for r in rows:
            comp[f"{r.service}/{r.component}"] = r.backlog
            if r.state == "stalled":
                stalled.append(f"{r.service}/{r.component}")
    return Backlog(lag, comp, not_ready, stalled)


FAUST_GROUP = "whale-tasks"


def faust_positions(stack: Stack) -> dict[tuple[str, int], int]:
    """Where the tasks engine (faust) is, per topic partition: the positions it stored with its effects (the
    engine's tracking records, the cards' consumer positions). faust's committed offsets are no measure:
    with the relays' transaction markers in the topics they trail the stored positions by minutes after
    the engine has applied everything (seen in this suite: lag 1,149 → 0 over 9 minutes, nothing consumed)."""
    out: dict[tuple[str, int], int] = {}
    env = stack.env_for("tasks")
    with psycopg.connect(env.get("TASKS_EVENTSTORE_URL", env["TASKS_DATABASE_URL"])) as conn:  # one database, or two
        for name, last in conn.execute("SELECT application_name, max(notification_id) FROM tasks_tracking "
                                       "WHERE application_name LIKE 'whale-tasks-engine:%' GROUP BY 1"):
            _, topic, partition = name.rsplit(":", 2)
            out[(topic, int(partition))] = int(last)
    with psycopg.connect(env["TASKS_DATABASE_URL"]) as conn:
        for topic, partition, nxt in conn.execute("SELECT topic, partition, next_offset FROM consumer_position"):
            out[(topic, partition)] = max(out.get((topic, partition), 0), int(nxt))
    return out


async def safe_backlog(stack: Stack) -> Backlog | None:
    """The backlog, or None while it cannot be measured (broker down)."""
    try:
        return await asyncio.wait_for(backlog(stack), timeout=20)
    except Exception:  # noqa: BLE001 - the broker may be down during a fault
        return None


async def wait_until(pred, timeout: float, interval: float = 1.0) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `await pred()` is true (raises TimeoutError after `timeout`)."""
    start = time.monotonic()
    while True:
        if await pred():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"not within {timeout:.0f} s")
        await asyncio.sleep(interval)  # polling the system's state under a deadline


async def wait_drained(stack: Stack, timeout: float, quiet_s: float = 6.0) -> float:
    """Seconds until nothing is left to do and stays so for `quiet_s` (two probes, `quiet_s` apart)."""
    start = time.monotonic()
    while True:
        b = await safe_backlog(stack)
        if b is not None and b.drained:
            await asyncio.sleep(quiet_s)  # still nothing to do after a while: drained, not between batches
            b2 = await safe_backlog(stack)
            if b2 is not None and b2.drained:
                return time.monotonic() - start
        if b is not None:
            _trace(stack, b)
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"not drained within {timeout:.0f} s: {b}")
        await asyncio.sleep(1.0)  # polling lag and backlogs under a deadline


def _trace(stack: Stack, b: Backlog) -> None:
    """What is left, appended to <var>/backlog.log (how a drain went, for the report's reader)."""
    left = {k: v for k, v in {**b.lag, **b.backlog}.items() if v}
    with (stack.infra.var / "backlog.log").open("a") as f:
        f.write(f"{time.strftime('%H:%M:%S')} total={b.total} not_ready={b.not_ready} stalled={b.stalled} {left}\n")


def rebuild_verify(stack: Stack, name: str, timeout: float = 300) -> tuple[int, str]:
    """`python -m ops rebuild NAME --verify` with the service's environment: (exit code, its output)."""
    out = subprocess.run([sys.executable, "-m", "ops", "rebuild", name, "--verify"],
                         env=stack.env_for(name), cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return out.returncode, (out.stdout + out.stderr)[-3000:]
