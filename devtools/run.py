"""`make run`: every service on the embedded default (SQLite per service, local Kafka) plus demo traffic.

Starts each service as its own process (`python -m services.<name> all`), waits until each answers
/readyz, seeds demo teams / managers / rules through the public APIs (`devtools.seed`), then runs the demo
platform generator. Prints each API's docs URL and a ready-made token per role. Ctrl-C stops everything.

    python -m devtools.run [--rate 5] [--customers 500] [--no-demo] [--fresh]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from shared.events import topics
from shared.runtime.auth import mint_token
from shared.runtime.kafka import ensure_topics
from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.settings import AuthSettings, KafkaSettings

from . import demo
from .token import DEV_SECRET

ROOT = Path(__file__).resolve().parents[1]
PORTS = {"customer": 8101, "assignment": 8102, "tasks": 8103, "summary": 8104, "kyc": 8105, "usercrm": 8106}
log = get_logger("run")

DEMO_USERS = [
    ("admin", "admin-1", None, "head of client services (scope: all)"),
    ("team_lead", "M-HK-LEAD", "T-HK", "Hong Kong team lead (scope: team)"),
    ("manager", "M-HK-1", "T-HK", "account manager (scope: own)"),
    ("kyc_reviewer", "kyc-ann", None, "KYC reviewer"),
    ("kyc_senior", "kyc-bob", None, "senior KYC reviewer (four-eyes)"),
    ("operator", "sre-1", None, "SRE / operator"),
]


def available_services() -> list[str]:
    return [s for s in topics.SERVICES if (ROOT / "services" / s / "__main__.py").exists()]


def service_env(name: str, var: Path, bootstrap: str, ports: dict[str, int] | None = None,
                extra: dict[str, str] | None = None) -> dict[str, str]:
    ports = ports or PORTS
    prefix = name.upper() + "_"
    env = dict(os.environ)
    env.update({
        f"{prefix}API_HOST": "127.0.0.1",
        f"{prefix}API_PORT": str(ports[name]),
        f"{prefix}WORKER_HEALTH_PORT": str(ports[name] + 100),
        f"{prefix}DATABASE_URL": f"sqlite:///{var / name / 'readmodel.db'}",
        f"{prefix}EVENTSTORE_URL": f"sqlite:///{var / name / 'eventstore.db'}",
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "AUTH_JWT_ALGORITHM": "HS256",
        "AUTH_JWT_SECRET": env.get("AUTH_JWT_SECRET", DEV_SECRET),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        f"{prefix}LOG_LEVEL": env.get(f"{prefix}LOG_LEVEL", env.get("LOG_LEVEL", "INFO")),
        "PYTHONUNBUFFERED": "1",
    })
    if name == "tasks":
        env["TASKS_FAUST_DATADIR"] = str(var / name / "faust")
    env.update(extra or {})
    return env


async def wait_ready(name: str, proc: subprocess.Popen, timeout: float = 90, ports: dict[str, int] | None = None,
                     logs: Path | None = None, *, port: int | None = None) -> None:
    """Poll the process's /readyz (its API port, or `port`: a worker's health port) under a deadline."""
    url = f"http://127.0.0.1:{port or (ports or PORTS)[name]}/readyz"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while loop.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode}; see {logs or 'var/run/logs'}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.25)  # polling a starting process, under a deadline
    raise RuntimeError(f"{name} not ready after {timeout}s; see {logs or 'var/run/logs'}")


def migrate(name: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", f"services.{name}", "migrate"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def spawn(name: str, command: str, env: dict[str, str], logs: Path) -> subprocess.Popen:
    """`python -m services.<name> <command>` (api, worker or all) in its own session, output appended to
    `<logs>/<name>.log` (`<name>-<command>.log` for an api or worker process)."""
    logs.mkdir(parents=True, exist_ok=True)
    out = (logs / (f"{name}.log" if command == "all" else f"{name}-{command}.log")).open("ab")
    return subprocess.Popen([sys.executable, "-m", f"services.{name}", command], env=env, cwd=ROOT,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def start_services(names: list[str], var: Path, bootstrap: str, ports: dict[str, int] | None = None,
                   extra_env: dict[str, str] | None = None) -> dict[str, subprocess.Popen]:
    procs: dict[str, subprocess.Popen] = {}
    for name in names:
        env = service_env(name, var, bootstrap, ports, extra_env)
        migrate(name, env)
        procs[name] = spawn(name, "all", env, var / "logs")
    return procs


def stop_services(procs: dict[str, subprocess.Popen]) -> None:
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs.values():
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def banner(names: list[str], auth: AuthSettings) -> str:
    lines = ["", "Whale CRM is running (embedded default: SQLite per service, local Kafka).", ""]
    for name in names:
        lines.append(f"  {name:<11} API docs: http://127.0.0.1:{PORTS[name]}/docs")
    lines += ["", "Ready-made tokens (valid 8 h; send as 'Authorization: Bearer <token>'):"]
    for role, user, team, what in DEMO_USERS:
        token = mint_token(auth, user_id=user, role=role, team_id=team)
        lines.append(f"  {role:<13} {what}\n    {token}")
    lines += ["", "Logs: var/run/logs/<service>.log   Stop: Ctrl-C", ""]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    var = ROOT / "var" / "run"
    if args.fresh and var.exists():
        shutil.rmtree(var)
    kafka = KafkaSettings()
    await ensure_topics(kafka, topics.ALL_TOPICS)
    names = available_services()
    auth = AuthSettings(jwt_secret=os.environ.get("AUTH_JWT_SECRET", DEV_SECRET))
    procs = start_services(names, var, kafka.bootstrap_servers)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.gather(*(wait_ready(n, procs[n]) for n in names))
        manager_codes: list[str] = []
        try:
            from . import seed

            manager_codes = await seed.seed(PORTS, auth, names)
        except ImportError:
            pass
        sys.stdout.write(banner(names, auth))
        sys.stdout.flush()
        tasks = []
        if not args.no_demo:
            tasks.append(asyncio.create_task(demo.run(kafka, rate=args.rate, customers=args.customers, total=None,
                                                      seed=args.seed, manager_codes=manager_codes)))
            try:
                from . import seed

                tasks.append(asyncio.create_task(seed.play_staff(PORTS, auth, names, stop)))
            except (ImportError, AttributeError):
                pass
        watch = asyncio.create_task(_watch(procs, stop))
        await stop.wait()
        for t in [*tasks, watch]:
            t.cancel()
        return 0
    finally:
        stop_services(procs)


async def _watch(procs: dict[str, subprocess.Popen], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for name, p in procs.items():
            if p.poll() is not None:
                log.error("service_exited", service=name, code=p.returncode)
                stop.set()
        await asyncio.sleep(1.0)  # supervisor check interval


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=5.0, help="demo events per second")
    p.add_argument("--customers", type=int, default=500)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-demo", action="store_true")
    p.add_argument("--fresh", action="store_true", help="wipe var/run (SQLite stores) first")
    args = p.parse_args()
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"), service="run")
    raise SystemExit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
