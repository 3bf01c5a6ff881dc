"""Operator tooling for SREs.

    python -m ops lag [--group-prefix whale-]             consumer lag per service / group / partition
    python -m ops dlq list SERVICE [--reason R]           dead-lettered events (coordinates + error only)
    python -m ops dlq show SERVICE REF [--payload]        one dead letter (payload only with --payload)
    python -m ops dlq redrive SERVICE (REF... | --all | --reason R)
                                                          publish back to the original topic; e.g. after an
                                                          upgrade: --reason unknown_schema_version
    python -m ops rebuild SERVICE [--verify]              rebuild a service's read models by replay
    python -m ops audit verify [--database-url URL]       recompute the audit store's hash chain; exits 1
                                                          naming the first broken sequence number
    python -m ops status [--worker SERVICE=URL ...]       each relay/projection: position, backlog, age of
                                                          the oldest unprocessed event, ok or stalled
    python -m ops reclaim-now [--url URL]                 run the protection-period reclaim now
    python -m ops token --role ROLE [--user U] [--team T] mint a development token
    python -m ops topics delete --prefix P [--prefix P...] delete every topic named P... (development: a test
                                                          run's or an e2e stack's topics); never an empty prefix

Kafka settings come from KAFKA_* variables; output is JSON lines (one object per row) for scripting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

import httpx

from shared.events import topics
from shared.events.errors import REASONS
from shared.runtime.auth import mint_token
from shared.runtime.kafka import delete_topics_with_prefix
from shared.runtime.settings import AuthSettings, KafkaSettings

from . import kafka_ops


def emit(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, default=str) + "\n")


async def cmd_lag(args: argparse.Namespace) -> int:
    kafka = KafkaSettings()
    groups = args.group_prefix if args.group_prefix is not None else kafka.topic_prefix + "whale-"
    rows = await kafka_ops.consumer_lag(kafka, groups, kafka.topic_prefix)
    for r in rows:
        emit({"group": r.group, "topic": r.topic, "partition": r.partition, "committed": r.committed,
              "end": r.end, "lag": r.lag})
    total = sum(r.lag for r in rows)
    sys.stderr.write(f"total lag: {total} over {len({r.group for r in rows})} groups\n")
    return 0


async def cmd_dlq(args: argparse.Namespace) -> int:
    settings = KafkaSettings()
    letters = await kafka_ops.read_dead_letters(settings, args.service, limit=args.limit)
    if args.reason:
        letters = [d for d in letters if d.record["error"].get("reason") == args.reason]
    if args.action == "list":
        for d in letters:
            emit(d.summary())
        sys.stderr.write(f"{len(letters)} dead letters in {topics.dead_letter_topic(args.service)}\n")
        return 0
    every = args.all or (args.reason is not None and not args.refs)
    chosen = letters if every else [d for d in letters if d.ref in set(args.refs)]
    if args.action == "show":
        if not chosen:
            sys.stderr.write("no such dead letter\n")
            return 1
        for d in chosen:
            out = {**d.summary(), "message": d.record["error"].get("message")}
            if args.payload:  # may contain personal data: only on explicit request, to this terminal
                out["value"] = d.record.get("value_text")
            emit(out)
        return 0
    if args.action == "redrive":
        if not chosen:
            sys.stderr.write("nothing to re-drive (give REFs, --all or --reason)\n")
            return 1
        n = await kafka_ops.redrive(settings, chosen)
        sys.stderr.write(f"re-drove {n} events to their original topics\n")
        return 0
    return 2


async def cmd_status(args: argparse.Namespace) -> int:
    from . import status

    workers = dict(w.split("=", 1) for w in args.worker) if args.worker else status.default_workers()
    stalled = 0
    for head, rows in await status.status(workers):
        emit(head)
        for row in rows:
            emit(row.as_dict())
            stalled += row.state == "stalled"
    sys.stderr.write(f"{len(workers)} workers, {stalled} stalled components\n")
    return 1 if stalled else 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    from .rebuild import rebuild

    return rebuild(args.service, verify=args.verify)


def cmd_audit(args: argparse.Namespace) -> int:
    from .audit import verify

    return verify(args.database_url)


def cmd_reclaim(args: argparse.Namespace) -> int:
    auth = AuthSettings()
    token = os.environ.get("WHALE_OPERATOR_TOKEN") or mint_token(auth, user_id="ops-cli", role="operator")
    r = httpx.post(f"{args.url.rstrip('/')}/ops/reclaim", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    emit({"status": r.status_code, "body": r.json() if r.headers.get("content-type", "").startswith(
        ("application/json", "application/problem+json")) else r.text})
    return 0 if r.status_code < 400 else 1


def cmd_token(args: argparse.Namespace) -> int:
    from devtools.token import main as token_main

    argv = ["--role", args.role] + (["--user", args.user] if args.user else []) + (
        ["--team", args.team] if args.team else []) + (
        ["--private-key", args.private_key] if args.private_key else [])
    return token_main(argv)


async def cmd_topics(args: argparse.Namespace) -> int:
    prefixes = [p for p in args.prefix if p]
    if not prefixes:
        sys.stderr.write("ops topics delete: give a non-empty --prefix\n")
        return 2
    deleted = await delete_topics_with_prefix(KafkaSettings(), prefixes)
    emit({"deleted": deleted, "prefixes": prefixes})
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ops", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    lag = sub.add_parser("lag")
    lag.add_argument("--group-prefix", default=None, help="default: KAFKA_TOPIC_PREFIX + whale-")
    dlq = sub.add_parser("dlq")
    dlq.add_argument("action", choices=["list", "show", "redrive"])
    dlq.add_argument("service", choices=topics.SERVICES)
    dlq.add_argument("refs", nargs="*", help="dead-letter refs topic:partition:offset (from `dlq list`)")
    dlq.add_argument("--all", action="store_true")
    dlq.add_argument("--reason", choices=sorted(REASONS), help="only dead letters with this contract reason")
    dlq.add_argument("--payload", action="store_true")
    dlq.add_argument("--limit", type=int, default=10_000)
    rb = sub.add_parser("rebuild")
    rb.add_argument("service", choices=topics.SERVICES)
    rb.add_argument("--verify", action="store_true")
    au = sub.add_parser("audit")
    au.add_argument("action", choices=["verify"])
    au.add_argument("--database-url", default=None, help="default: AUDIT_DATABASE_URL")
    st = sub.add_parser("status")
    st.add_argument("--worker", action="append", default=[], metavar="SERVICE=URL",
                    help="a worker's health URL (repeatable); default: OPS_WORKER_URLS or the local ports")
    rc = sub.add_parser("reclaim-now")
    rc.add_argument("--url", default=os.environ.get("WHALE_ASSIGNMENT_URL", "http://127.0.0.1:8102"))
    tk = sub.add_parser("token")
    tk.add_argument("--role", required=True)
    tk.add_argument("--user")
    tk.add_argument("--team")
    tk.add_argument("--private-key", help="PEM file, for RS256 clusters (AUTH_JWT_ALGORITHM=RS256)")
    tp = sub.add_parser("topics")
    tp.add_argument("action", choices=["delete"])
    tp.add_argument("--prefix", action="append", required=True, help="a topic-name prefix (repeatable)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.cmd == "lag":
        return asyncio.run(cmd_lag(args))
    if args.cmd == "dlq":
        return asyncio.run(cmd_dlq(args))
    if args.cmd == "rebuild":
        return cmd_rebuild(args)
    if args.cmd == "status":
        return asyncio.run(cmd_status(args))
    if args.cmd == "audit":
        return cmd_audit(args)
    if args.cmd == "reclaim-now":
        return cmd_reclaim(args)
    if args.cmd == "token":
        return cmd_token(args)
    if args.cmd == "topics":
        return asyncio.run(cmd_topics(args))
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
