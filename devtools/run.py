"""`make run`: every service on the embedded default (SQLite per service, local Kafka) plus demo traffic,
behind the console's gateway.

Starts each service as its own process (`python -m services.<name> all`; each takes its rights from the
access directory, `<NAME>_ACCESS_DIRECTORY=enforce`), waits until each answers /readyz, seeds the demo
organisation, roles and staff into the access service, waits until every service's directory has them, then
seeds demo teams / managers / rules through the public APIs (`devtools.seed`), builds the web
console and serves it with the five APIs through nginx (`devtools.gateway`), then runs the demo platform
generator. Prints the console URL, each API's docs URL and a ready-made token per role. Ctrl-C stops
everything. With WHALE_DEV_SIGNIN=1 (the end-to-end stack sets it) the console offers a development sign-in as any
demo user (`devtools.devsignin`).

    python -m devtools.run [--rate 5] [--customers 500] [--no-demo] [--fresh]
                           [--port-base 8100] [--var var/run] [--topic-prefix P] [--no-console] [--no-build]

Ports: the gateway on --port-base, the APIs on base+1 … base+7 (customer, assignment, tasks, summary,
kyc, usercrm, campaigns), base+8 (access) and base+10 (audit), the workers' health on API+100, the development
sign-in on base+9 (its sign-ins are audit records too), Keycloak on base+12. A second stack (end-to-end tests) takes another base, var directory and topic prefix.

Sign-in: Keycloak (`infra/keycloak.sh`, realm `whale` generated from the demo staff, `devtools.keycloak`) is
the console's OpenID Connect provider; every service verifies its RS256 tokens through its JWKS
(`AUTH_JWKS_URL`, `AUTH_USER_CLAIM=staff_id`) and, development only, the stack's own HS256 tokens
(`AUTH_DEV_JWT_SECRET`: seeding, the simulated staff, the ready-made tokens, the development sign-in).
Without a JDK >= 21, or with --no-oidc, Keycloak is not started and the console offers the development
sign-in instead (said loudly).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from shared.events import topics
from shared.runtime.audit import AuditEmitter
from shared.runtime.auth import mint_token
from shared.runtime.db import make_engine
from shared.runtime.kafka import ensure_topics
from shared.runtime.logging import configure_logging, get_logger
from shared.runtime.settings import ONE_DATABASE_SERVICES, AuthSettings, KafkaSettings

from . import demo, devsignin, keycloak
from .devsignin import DEMO_USERS
from .token import DEV_SECRET

ROOT = Path(__file__).resolve().parents[1]
PORT_BASE = 8100
SERVICE_ORDER = ("customer", "assignment", "tasks", "summary", "kyc", "usercrm", "campaigns", "access", "audit")
# API port = base + offset (base+9 is the development sign-in)
PORT_OFFSETS = {"customer": 1, "assignment": 2, "tasks": 3, "summary": 4, "kyc": 5, "usercrm": 6, "campaigns": 7,
                "access": 8, "audit": 10}
PORTS = {name: PORT_BASE + PORT_OFFSETS[name] for name in SERVICE_ORDER}
DEV_SIGNIN_OFFSET = 9
KEYCLOAK = ROOT / "infra" / "keycloak.sh"
log = get_logger("run")

def ports_for(base: int) -> dict[str, int]:
    return {name: base + PORT_OFFSETS[name] for name in SERVICE_ORDER}


def available_services() -> list[str]:
    return [s for s in topics.SERVICES if (ROOT / "services" / s / "__main__.py").exists()]


def oidc_env(issuer: str) -> dict[str, str]:
    """What every service needs to verify Keycloak's tokens (and, development only, the stack's own); and the
    audit service's collector of Keycloak's failed logins (the development realm's client secret)."""
    return {"AUTH_JWT_ALGORITHM": "RS256", "AUTH_JWKS_URL": f"{issuer}/protocol/openid-connect/certs",
            "AUTH_JWT_ISSUER": issuer, "AUTH_JWT_AUDIENCE": keycloak.AUDIENCE, "AUTH_USER_CLAIM": keycloak.STAFF_CLAIM,
            "AUTH_DEV_JWT_SECRET": os.environ.get("AUTH_JWT_SECRET", DEV_SECRET),
            "AUDIT_KEYCLOAK_URL": issuer.split("/realms/")[0], "AUDIT_KEYCLOAK_REALM": keycloak.REALM,
            "AUDIT_KEYCLOAK_CLIENT_ID": keycloak.EVENTS_CLIENT,
            "AUDIT_KEYCLOAK_CLIENT_SECRET": os.environ.get("AUDIT_KEYCLOAK_CLIENT_SECRET", keycloak.EVENTS_SECRET),
            "AUDIT_KEYCLOAK_POLL_S": os.environ.get("AUDIT_KEYCLOAK_POLL_S", "5")}


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
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "AUTH_JWT_ALGORITHM": "HS256",
        "AUTH_JWT_SECRET": env.get("AUTH_JWT_SECRET", DEV_SECRET),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        f"{prefix}LOG_LEVEL": env.get(f"{prefix}LOG_LEVEL", env.get("LOG_LEVEL", "INFO")),
        "PYTHONUNBUFFERED": "1",
    })
    if name not in ONE_DATABASE_SERVICES:
        env[f"{prefix}EVENTSTORE_URL"] = f"sqlite:///{var / name / 'eventstore.db'}"
    if name == "tasks":
        env["TASKS_FAUST_DATADIR"] = str(var / name / "faust")
    if name == "audit":  # the chain's head anchored every minute here (hourly by default): the console's
        env.setdefault("AUDIT_ANCHOR_INTERVAL_S", "60")  # check compares anchors minutes after a start
    env.update(extra or {})
    if env["AUTH_JWT_ALGORITHM"] == "RS256":  # list cursors: one key for the api and worker of a service
        env.setdefault(f"{prefix}CURSOR_SECRET", f"{env.get('AUTH_DEV_JWT_SECRET', DEV_SECRET)}-{name}-cursors")
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


def migrate_all(envs: dict[str, dict[str, str]]) -> None:
    """Migrate every service at once (each into its own database); raise naming the services that failed.
    On any interruption the migrations still running are killed, not left behind."""
    running = {name: subprocess.Popen([sys.executable, "-m", f"services.{name}", "migrate"], env=env, cwd=ROOT,
                                      stdout=subprocess.DEVNULL) for name, env in envs.items()}
    try:
        failed = [name for name, p in running.items() if p.wait() != 0]
    finally:
        for p in running.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    if failed:
        raise RuntimeError(f"migration failed: {', '.join(failed)}")


def spawn(name: str, command: str, env: dict[str, str], logs: Path) -> subprocess.Popen:
    """`python -m services.<name> <command>` (api, worker or all) in its own session, output appended to
    `<logs>/<name>.log` (`<name>-<command>.log` for an api or worker process)."""
    logs.mkdir(parents=True, exist_ok=True)
    out = (logs / (f"{name}.log" if command == "all" else f"{name}-{command}.log")).open("ab")
    return subprocess.Popen([sys.executable, "-m", f"services.{name}", command], env=env, cwd=ROOT,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def directory_env(names: list[str]) -> dict[str, str]:
    """With the access service in the stack every service takes its rights from the access directory
    (`<NAME>_ACCESS_DIRECTORY=enforce`, unless the environment says otherwise); without it, from the tokens."""
    if "access" not in names:
        return {}
    return {f"{n.upper()}_ACCESS_DIRECTORY": os.environ.get(f"{n.upper()}_ACCESS_DIRECTORY", "enforce") for n in names}


def start_services(names: list[str], var: Path, bootstrap: str, ports: dict[str, int] | None = None,
                   extra_env: dict[str, str] | None = None) -> dict[str, subprocess.Popen]:
    """Migrate, then start every service (`all`); if anything fails or is interrupted on the way, the services
    already started are stopped before the error propagates (a failed start leaves no process behind)."""
    envs = {name: service_env(name, var, bootstrap, ports, {**directory_env(names), **(extra_env or {})})
            for name in names}
    procs: dict[str, subprocess.Popen] = {}
    try:
        migrate_all(envs)
        for name in names:
            procs[name] = spawn(name, "all", envs[name], var / "logs")
    except BaseException:
        stop_services(procs)
        raise
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


def banner(names: list[str], auth: AuthSettings, ports: dict[str, int] | None = None,
           console: str | None = None, dev_signin: bool = False, issuer: str | None = None) -> str:
    ports = ports or PORTS
    lines = ["", "Whale CRM is running (embedded default: SQLite per service, local Kafka).", ""]
    if console:
        lines += [f"  Console: {console}" + ("   (development sign-in: pick a demo user)" if dev_signin else "")]
        if issuer:
            lines += [f"  Sign-in: Keycloak {issuer} — username = staff id (admin-1, M-HK-LEAD, M-HK-1, kyc-ann, "
                      f"kyc-bob, audit-1, sre-1, …), password {keycloak.PASSWORD}"]
        lines += [""]
    for name in names:
        lines.append(f"  {name:<11} API docs: http://127.0.0.1:{ports[name]}/docs")
    lines += ["", "Ready-made tokens (valid 8 h; send as 'Authorization: Bearer <token>'):"]
    for role, user, team, what in DEMO_USERS:
        token = mint_token(auth, user_id=user, role=role, team_id=team)
        lines.append(f"  {role:<13} {what}\n    {token}")
    lines += ["", "Logs: <var>/logs/<service>.log, <var>/gateway/access.log   Stop: Ctrl-C", ""]
    return "\n".join(lines)


def build_console() -> None:
    """`npm ci` when web/node_modules is missing or stale, then `vite build` into web/dist."""
    subprocess.run([str(ROOT / "infra" / "web.sh"), "npm"], check=True)
    subprocess.run(["npm", "run", "--silent", "build"], cwd=ROOT / "web", check=True, stdout=subprocess.DEVNULL)


def start_keycloak(port: int, var: Path, origin: str) -> str | None:
    """`infra/keycloak.sh start` (installs on first use); its issuer URL, or None (said loudly) when it cannot
    run here: the console then offers the development sign-in."""
    env = {**os.environ, "KEYCLOAK_ORIGINS": origin + " " + origin.replace("127.0.0.1", "localhost"), "PYTHON": sys.executable}
    started = time.monotonic()
    done = subprocess.run([str(KEYCLOAK), "start", str(port), str(var / "keycloak")], env=env, cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        why = "no JDK >= 21 on this machine" if done.returncode == 3 else f"exit code {done.returncode}"
        log.error("keycloak_unavailable", reason=why, detail=done.stderr[-1500:],
                  fallback="the console offers the development sign-in (WHALE_DEV_SIGNIN=1)")
        sys.stderr.write(f"\n*** Keycloak did not start ({why}): signing in through the development sign-in "
                         f"instead. See {var / 'keycloak' / 'keycloak.log'} ***\n\n")
        return None
    log.info("keycloak_ready", port=port, seconds=round(time.monotonic() - started, 1))
    return keycloak.issuer(port)


def stop_keycloak(port: int, var: Path) -> None:
    subprocess.run([str(KEYCLOAK), "stop", str(port), str(var / "keycloak")], cwd=ROOT, check=False)


async def main_async(args: argparse.Namespace) -> int:
    var = (ROOT / args.var) if not Path(args.var).is_absolute() else Path(args.var)
    if args.fresh and var.exists():
        shutil.rmtree(var)
    if args.topic_prefix is not None:
        os.environ["KAFKA_TOPIC_PREFIX"] = args.topic_prefix  # the services and the demo platform inherit it
    ports = ports_for(args.port_base)
    kafka = KafkaSettings()
    await ensure_topics(kafka, [kafka.topic(t) for t in topics.ALL_TOPICS])
    names = available_services()
    auth = AuthSettings(jwt_secret=os.environ.get("AUTH_JWT_SECRET", DEV_SECRET))
    gateway = None
    kc_port = args.port_base + keycloak.PORT_OFFSET
    oidc = not args.no_oidc and os.environ.get("WHALE_OIDC", "1") != "0"
    # Keycloak starts while the console builds and the services start: they fetch its keys on the first token
    kc = (asyncio.create_task(asyncio.to_thread(start_keycloak, kc_port, var, f"http://127.0.0.1:{args.port_base}"))
          if oidc else None)
    if not args.no_console and not (args.no_build and (ROOT / "web" / "dist" / "index.html").exists()):
        await asyncio.to_thread(build_console)
    extra = oidc_env(keycloak.issuer(kc_port)) if oidc else None
    try:
        procs = start_services(names, var, kafka.bootstrap_servers, ports, extra)
    except BaseException:
        if kc is not None:
            await kc
            stop_keycloak(kc_port, var)
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    side: list[asyncio.Task[None]] = []
    servers: list[Any] = []  # in-process HTTP servers (the dev sign-in): stopped, not cancelled
    try:
        await asyncio.gather(*(wait_ready(n, procs[n], timeout=args.ready_timeout, ports=ports, logs=var / "logs")
                               for n in names))
        manager_codes: list[str] = []
        try:
            from . import seed

            manager_codes = await seed.seed(ports, auth, names, kafka=kafka)
            if "customer" in names and not args.no_demo:  # the demo imports a small file of existing customers
                from .seed_imports import seed_import

                await seed_import(ports, auth, seed.TEAMS[0]["team_id"])
        except ImportError:
            pass
        issuer = await kc if kc is not None else None
        if issuer:
            os.environ.update({"WHALE_OIDC_ISSUER": issuer, "WHALE_OIDC_CLIENT_ID": keycloak.CONSOLE_CLIENT})
        dev = (devsignin.enabled() or not issuer) and not args.no_console  # no provider: the dev sign-in
        if not args.no_console:
            from shared.runtime.service import HttpServer

            from .gateway import Gateway

            dev_port = args.port_base + DEV_SIGNIN_OFFSET if dev else None
            if dev_port:
                signins = AuditEmitter("devsignin", kafka, make_engine(f"sqlite:///{var / 'devsignin' / 'spool.db'}"))
                server = HttpServer(devsignin.create_app(auth, audit=signins), "127.0.0.1", dev_port)
                servers.append(server)
                side.append(asyncio.create_task(server.run()))
            gateway = Gateway(var, args.port_base, ports, dev_signin_port=dev_port)
            await asyncio.to_thread(gateway.start)
        sys.stdout.write(banner(names, auth, ports, gateway.url if gateway else None, dev, issuer))
        sys.stdout.flush()
        tasks = []
        if not args.no_demo:
            tasks.append(asyncio.create_task(demo.run(kafka, rate=args.rate, customers=args.customers, total=None,
                                                      seed=args.seed, manager_codes=manager_codes)))
            try:
                from . import seed

                if not args.no_staff:
                    tasks.append(asyncio.create_task(seed.play_staff(ports, auth, names, stop)))
            except (ImportError, AttributeError):
                pass
        watched = {**procs, **({"gateway": gateway.proc} if gateway and gateway.proc else {})}
        watch = asyncio.create_task(_watch(watched, stop))
        await stop.wait()
        for t in [*tasks, watch]:
            t.cancel()
        # let them end (the demo platform stops its producer): cancelled again by asyncio.run's own clean-up
        # instead, its producer was left open ("Unclosed AIOKafkaProducer" at every Ctrl-C)
        await asyncio.gather(*tasks, watch, return_exceptions=True)
        return 0
    finally:
        # the dev sign-in's server ends its lifespan (its audit emitter stops): cancelled mid-lifespan, uvicorn
        # logged a CancelledError traceback at ERROR on every Ctrl-C
        for server in servers:
            await server.stop()
        if side:
            await asyncio.wait(side, timeout=10)
        for t in side:
            t.cancel()
        if gateway is not None:
            gateway.stop()
        stop_services(procs)
        if kc is not None:
            if not kc.done():
                await asyncio.wait([kc])
            stop_keycloak(kc_port, var)


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
    p.add_argument("--fresh", action="store_true", help="wipe the var directory (SQLite stores) first")
    p.add_argument("--port-base", type=int, default=PORT_BASE, help="gateway port; the APIs take base+1..base+5")
    p.add_argument("--var", default="var/run", help="directory of the stores, logs and gateway config")
    p.add_argument("--topic-prefix", default=None, help="KAFKA_TOPIC_PREFIX for every service (isolation)")
    p.add_argument("--no-console", action="store_true", help="no console build, gateway or sign-in")
    p.add_argument("--no-build", action="store_true", help="serve the existing web/dist when there is one")
    p.add_argument("--no-oidc", action="store_true", help="no Keycloak: the development sign-in only (HS256)")
    p.add_argument("--no-staff", action="store_true", help="no simulated staff (KYC decisions, follow-ups)")
    p.add_argument("--ready-timeout", type=float, default=90, help="seconds each service gets to answer /readyz")
    args = p.parse_args()
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"), service="run")
    raise SystemExit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
