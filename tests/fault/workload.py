"""The fault suite's workload: upstream traffic from the demo platform (devtools.demo, seeded), published at a
steady rate as the brokerage platforms would, plus exact duplicates and poison records; and the expected
outcome, computed from the records sent by a model of the business rules written here (not by calling the
services' code).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaProducer

from devtools.demo import Platform
from shared.events import Payload, encode, registry, topics
from shared.events import upstream as up
from shared.runtime.settings import KafkaSettings


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes
    value: bytes


@dataclass
class Sent:
    """Everything published upstream: the distinct events (in order), duplicates and poison records."""

    events: list[tuple[str, Payload]] = field(default_factory=list)  # (event id, payload)
    records: list[Record] = field(default_factory=list)  # the events' records, as sent
    duplicates: int = 0
    poison: list[Record] = field(default_factory=list)


class Publisher:
    """Publishes records with an idempotent producer; a send that fails (broker down) is retried with a new
    producer until it is acknowledged (a platform does not lose its events: at-least-once)."""

    def __init__(self, kafka: KafkaSettings):
        self.kafka = kafka
        self.producer: AIOKafkaProducer | None = None
        self.failures = 0

    async def _ready(self) -> AIOKafkaProducer:
        if self.producer is None:
            p = AIOKafkaProducer(**self.kafka.client_kwargs(), client_id="fault-platform", enable_idempotence=True,
                                 acks="all", linger_ms=5)
            try:
                await asyncio.wait_for(p.start(), timeout=15)
            except BaseException:
                await _close(p)
                raise
            self.producer = p
        return self.producer

    async def send(self, records: list[Record]) -> None:
        while True:
            try:
                p = await self._ready()
                futures = [await p.send(r.topic, value=r.value, key=r.key) for r in records]
                await asyncio.wait_for(asyncio.gather(*futures), timeout=30)
                return
            except Exception:  # noqa: BLE001 - the broker is away: keep the records, retry with a new producer
                self.failures += 1
                p, self.producer = self.producer, None
                if p is not None:
                    await _close(p)
                await asyncio.sleep(1.0)  # retry interval while the broker is away

    async def stop(self) -> None:
        if self.producer is not None:
            await _close(self.producer)
            self.producer = None


async def _close(p: AIOKafkaProducer) -> None:
    try:
        await asyncio.wait_for(p.stop(), timeout=10)
    except Exception:  # noqa: BLE001 - closing a producer of a broker that is gone
        pass


class Workload:
    """The demo platform's upstream events (only the topics the five services read), `total` of them at
    `rate` per second."""

    def __init__(self, kafka: KafkaSettings, *, seed: int, total: int, rate: float):
        self.kafka, self.total, self.rate = kafka, total, rate
        self.platform = Platform(seed=seed, manager_codes=[])
        self.rng = random.Random(seed + 1)
        self.sent = Sent()
        self.publisher = Publisher(kafka)
        self.started = 0.0
        self.finished = 0.0
        self.hold = asyncio.Event()  # set when the faults are over: the flow goes on at least until then
        self.hold.set()

    def _next(self) -> list[Record]:
        out = []
        while not out:
            for payload in self.platform.next_events(10**9):
                contract = registry.latest(payload.EVENT_TYPE)
                if contract.topic not in topics.UPSTREAM_TOPICS:
                    continue  # the User CRM's topics: not read by the five services
                env = registry.envelope(payload, producer="fault-platform", correlation_id=f"fault-{len(self.sent.events)}")
                rec = Record(self.kafka.topic(contract.topic), env.partition_key.encode(), encode(env))
                self.sent.events.append((str(env.event_id), payload))
                self.sent.records.append(rec)
                out.append(rec)
        return out

    async def run(self) -> None:
        """Publish at a steady rate until `total` events are out and `hold` is set (a backlog built while the
        broker was away goes out as soon as it is back)."""
        self.started = time.monotonic()
        due = 0
        while len(self.sent.events) < self.total or not self.hold.is_set():
            due = int((time.monotonic() - self.started) * self.rate) + 1
            batch: list[Record] = []
            while len(self.sent.events) < due:
                batch += self._next()
            if batch:
                await self.publisher.send(batch)
            await asyncio.sleep(0.05)  # pacing of the simulated platform
        self.finished = time.monotonic()

    async def duplicates(self, n: int) -> int:
        """Re-send `n` records already sent, byte for byte (same key, same value)."""
        chosen = self.rng.sample(self.sent.records, min(n, len(self.sent.records)))
        await self.publisher.send(chosen)
        self.sent.duplicates += len(chosen)
        return len(chosen)

    async def poison(self, upstream: list[str]) -> list[Record]:
        """Records no consumer can apply, on each of these upstream topics: not JSON, not UTF-8, a JSON array,
        an envelope without its payload's required fields, an unknown event type, a nesting too deep to
        decode, and a big record of nothing. Keyed `POISON-<n>` so their dead letters can be found."""
        base = len(self.sent.poison)
        good = json.loads(self.sent.records[0].value)
        bad_payload = {**good, "event_id": "5f0e8b9c-0000-4000-8000-00000000dead", "payload": {"customer_id": "X"}}
        unknown = {**good, "event_id": "5f0e8b9c-0000-4000-8000-00000000beef", "event_type": "registration.nothing_known"}
        deep = ("[" * 100_000 + "]" * 100_000).encode()
        values = [b"this is not json", b"\xff\xfe\x00garbage", b"[1, 2, 3]", json.dumps(bad_payload).encode(),
                  json.dumps(unknown).encode(), deep, b"{" + b" " * 900_000 + b"}"]
        out = []
        for t in upstream:
            for v in values:
                out.append(Record(self.kafka.topic(t), f"POISON-{base + len(out)}".encode(), v))
        await self.publisher.send(out)
        self.sent.poison += out
        return out


# ------------------------------------------------------------------------------------------ the model
# The business rules, as the product documents state them (services' READMEs, docs/pipeline.md), applied to
# what was sent: a customer's stage is the highest milestone reached (registered → application submitted →
# account opened → first deposit → first trade); each task node has at most one open task per customer:
# the node of the current stage (none once traded), `first_trade` after a trade, `large_withdrawal` after a
# withdrawal at or over its currency's threshold, `account_rejected` while the latest application decision
# is a rejection and no account is open; the summary's account-opening decisions count each opened account
# and each rejected application once (a resubmitted application rejected again is one rejection); every
# open task is with the customer's manager; routing rules send
# referred customers (referral, manager QR) to one team and everyone else to the other; a KYC case per
# application, pending while no reviewer acts.
STAGES = ["registered", "pending_account_opening", "pending_funding", "funded", "traded"]
STAGE_NODE = {"registered": "tmt_registration", "pending_account_opening": "pending_account_opening",
              "pending_funding": "pending_funding", "funded": "funded"}
LARGE_WITHDRAWAL = {"USD": Decimal("10000"), "HKD": Decimal("78000"), "SGD": Decimal("13500"), "AUD": Decimal("15000")}
REFERRED_CHANNELS = {"referral", "manager_qr"}


@dataclass
class Expected:
    customers: dict[str, str]  # customer id -> stage
    team: dict[str, str]  # customer id -> team by the routing rules
    open_tasks: set[tuple[str, str]]  # (customer id, node)
    kyc_cases: set[tuple[str, str]]  # (customer id, application id)
    openings: int
    rejections: int  # applications rejected

    def stage_counts(self) -> dict[str, int]:
        c = Counter(self.customers.values())
        return {s: c.get(s, 0) for s in STAGES}

    def task_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(node for _, node in self.open_tasks).items()))


def expected_outcome(events: list[tuple[str, Payload]], teams: tuple[str, str]) -> Expected:
    referred_team, direct_team = teams
    seen: set[str] = set()
    rank: dict[str, int] = {}
    team: dict[str, str] = {}
    decision: dict[str, str] = {}  # the latest application fact: applied / rejected / opened
    traded: set[str] = set()
    large: set[str] = set()
    cases: set[tuple[str, str]] = set()
    rejected: set[tuple[str, str]] = set()  # applications rejected (once each, however often)
    openings = 0
    for event_id, p in events:
        if event_id in seen:
            continue
        seen.add(event_id)
        cid = p.customer_id
        if isinstance(p, up.CustomerRegistered):
            rank.setdefault(cid, 0)
            team[cid] = referred_team if p.channel.value in REFERRED_CHANNELS else direct_team
        elif isinstance(p, up.AccountApplicationSubmitted):
            rank[cid] = max(rank.get(cid, 0), 1)
            decision[cid] = "applied"
            cases.add((cid, p.application_id))
        elif isinstance(p, up.AccountRejected):
            decision[cid] = "rejected"
            rejected.add((cid, p.application_id))
        elif isinstance(p, up.AccountOpened):
            rank[cid] = max(rank.get(cid, 0), 2)
            decision[cid] = "opened"
            openings += 1
        elif isinstance(p, up.DepositCompleted):
            rank[cid] = max(rank.get(cid, 0), 3)
        elif isinstance(p, up.TradeExecuted):
            rank[cid] = 4
            traded.add(cid)
        elif isinstance(p, up.WithdrawalCompleted):
            threshold = LARGE_WITHDRAWAL.get(p.currency)
            if threshold is not None and p.amount >= threshold:
                large.add(cid)
    stages = {cid: STAGES[r] for cid, r in rank.items()}
    open_tasks: set[tuple[str, str]] = set()
    for cid, stage in stages.items():
        if stage in STAGE_NODE:
            open_tasks.add((cid, STAGE_NODE[stage]))
        if cid in traded:
            open_tasks.add((cid, "first_trade"))
        if cid in large:
            open_tasks.add((cid, "large_withdrawal"))
        if decision.get(cid) == "rejected" and rank[cid] < 2:
            open_tasks.add((cid, "account_rejected"))
    return Expected(stages, team, open_tasks, cases, openings, len(rejected))


def diff(expected: Any, actual: Any, limit: int = 5) -> str:
    """A short description of how two sets / mappings differ."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        keys = sorted(set(expected) | set(actual), key=str)
        bad = [(k, expected.get(k), actual.get(k)) for k in keys if expected.get(k) != actual.get(k)]
        return f"{len(bad)} differ, e.g. {bad[:limit]}"
    e, a = set(expected), set(actual)
    return f"missing {len(e - a)} e.g. {sorted(e - a, key=str)[:limit]}; unexpected {len(a - e)} e.g. {sorted(a - e, key=str)[:limit]}"


def per_customer(pairs: set[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for cid, node in pairs:
        out[cid].append(node)
    return out
