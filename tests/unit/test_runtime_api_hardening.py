"""The API kit's hardening: security headers, body and header limits, bounded correlation ids, 503 for
an unavailable database, every error documented as problem+json, verified cursors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import psycopg
import pytest
import sqlalchemy.exc
from eventsourcing import persistence
from fastapi import Request
from pydantic import BaseModel

from shared.runtime.api import PROBLEM, create_app
from shared.runtime.cursor import BadCursor, CursorCodec, cursor_key
from shared.runtime.settings import AuthSettings

AUTH = AuthSettings(jwt_secret="unit-test-secret-unit-test-secret")


class Body(BaseModel):
    text: str


def _app():  # type: ignore[no-untyped-def]
    app = create_app(service="unit", auth=AUTH, max_body_bytes=2048, max_header_bytes=4096)

    @app.post("/things/{thing_id}", status_code=201)
    async def make(thing_id: str, body: Body) -> dict[str, str]:
        return {"id": thing_id, "text": body.text}

    @app.get("/down/{kind}")
    def down(kind: str) -> None:
        raise {"sa": sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection refused")),
               "pg": psycopg.OperationalError("connection refused"),
               "es": persistence.OperationalError("connection refused"),
               "es-if": persistence.InterfaceError("connection closed"),
               "lite": sqlite3.OperationalError("database is locked")}[kind]

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("a bug")

    return app


@pytest.fixture()
async def client():  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as c:
        yield c


async def test_every_response_carries_the_security_headers(client) -> None:
    for r in (await client.get("/healthz"), await client.post("/things/a", json={"text": "x"}),
              await client.post("/things/a", json={})):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["cache-control"] == "no-store"


async def test_body_over_the_limit_is_413_by_length_and_when_chunked(client) -> None:
    r = await client.post("/things/a", json={"text": "x" * 5000})
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM and "2048" in r.json()["detail"]

    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"text": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    r = await client.post("/things/a", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413

    async def small():  # type: ignore[no-untyped-def]
        yield b'{"text": "ok"}'

    r = await client.post("/things/a", content=small(), headers={"content-type": "application/json"})
    assert r.status_code == 201 and r.json()["text"] == "ok"


async def test_an_upload_path_streams_its_body_up_to_its_own_limit() -> None:
    app = create_app(service="unit", auth=AUTH, max_body_bytes=2048, streamed_bodies={"/upload": 10_000})

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    async def chunks(n: int):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield b"z" * 1000

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.post("/upload", content=b"a" * 9000)).json() == {"size": 9000}  # past the API's 2048
        assert (await c.post("/upload", content=chunks(5))).json() == {"size": 5000}  # chunked: not buffered
        r = await c.post("/upload", content=b"a" * 10_001)
        assert r.status_code == 413 and "10000" in r.json()["detail"]
        assert (await c.post("/other", content=b"a" * 3000)).status_code == 413  # other paths keep 2048


async def test_oversized_headers_are_431(client) -> None:
    r = await client.get("/healthz", headers={"x-junk": "j" * 5000})
    assert r.status_code == 431 and r.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("value", ["x" * 129, "bad id", "a\nb", "ü", "-leading"])
async def test_malformed_correlation_ids_are_rejected_before_reaching_events_or_logs(client, value) -> None:
    for header in ("x-correlation-id", "x-request-id"):
        r = await client.post("/things/a", json={"text": "x"}, headers={header: value.encode("utf-8")})
        assert r.status_code == 400, (header, value)
        assert r.json()["errors"][0]["field"] == f"header.{header}"
        assert value not in r.headers.get("x-correlation-id", "")


async def test_a_well_formed_correlation_id_is_kept(client) -> None:
    r = await client.get("/healthz", headers={"x-request-id": "req-1.2:3_x"})
    assert r.headers["x-correlation-id"] == "req-1.2:3_x"
    r = await client.get("/healthz")
    assert len(r.headers["x-correlation-id"]) == 36


@pytest.mark.parametrize("kind", ["sa", "pg", "es", "es-if", "lite"])
async def test_an_unavailable_database_is_503_with_retry_after(client, kind) -> None:
    r = await client.get(f"/down/{kind}")
    assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
    assert int(r.headers["retry-after"]) > 0


async def test_an_unexpected_error_is_500_naming_its_correlation_id_and_is_measured(client) -> None:
    from shared.runtime.metrics import HTTP_LATENCY

    def count() -> float:
        for metric in HTTP_LATENCY.collect():
            for sample in metric.samples:
                if sample.name.endswith("_count") and sample.labels.get("route") == "/bug" \
                        and sample.labels.get("status") == "500":
                    return sample.value
        return 0.0

    before = count()
    r = await client.get("/bug", headers={"x-correlation-id": "corr-500"})
    assert r.status_code == 500 and r.headers["content-type"] == PROBLEM
    assert r.headers["x-correlation-id"] == "corr-500" and r.json()["correlation_id"] == "corr-500"
    assert [h for h, _ in r.headers.raw].count(b"x-correlation-id") == 1
    assert count() == before + 1


async def test_openapi_documents_every_error_as_problem_json(client) -> None:
    doc = (await client.get("/openapi.json")).json()
    assert "Problem" in doc["components"]["schemas"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    post = doc["paths"]["/things/{thing_id}"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "413", "422", "503"} <= set(post)
    for code in ("404", "422", "503"):
        assert post[code]["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert "Retry-After" in post["503"]["headers"]
    get = doc["paths"]["/down/{kind}"]["get"]["responses"]
    assert "409" not in get and "413" not in get  # no command, no body


# ------------------------------------------------------------------------------------------ cursors
CODEC = CursorCodec(cursor_key("cursor-secret-for-tests"))
KINDS = (datetime, str)


def test_a_cursor_round_trips_its_values() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    token = CODEC.encode("tasks", [at, "t-1"])
    assert CODEC.decode(token, "tasks", KINDS) == [at, "t-1"]
    token = CODEC.encode("c:assets:desc", [Decimal("12.50"), "c1"])
    assert CODEC.decode(token, "c:assets:desc", (Decimal, str)) == [Decimal("12.50"), "c1"]


def _forge(payload: bytes, scope: str = "tasks") -> str:
    """A correctly signed cursor around an arbitrary payload (as if the key had leaked)."""
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    tag = hmac.new(cursor_key("cursor-secret-for-tests"), f"{scope}\x00{body}".encode(), hashlib.sha256).digest()
    return f"{body}.{base64.urlsafe_b64encode(tag[:16]).decode().rstrip('=')}"


@pytest.mark.parametrize("token", [
    "", "garbage", "!!!.###", "a" * 2000,
    CODEC.encode("tickets", ["2026-01-01T00:00:00+00:00", "t-1"]),  # another list's cursor
    CODEC.encode("tasks", ["2026-01-01T00:00:00+00:00", "t-1"])[:-2] + "AA",  # tampered tag
    CursorCodec(cursor_key("another-key-another-key")).encode("tasks", ["2026-01-01T00:00:00+00:00", "t"]),
    _forge(b"[null, null]"), _forge(b'["NaN", "x"]'), _forge(b"[NaN, 1]"), _forge(b"[1]"), _forge(b"{}"),
    _forge(b"not json"), _forge(b'["2026-13-45", "x"]'), _forge(b'["2026-01-01T00:00:00", 5]'),
])
def test_anything_but_a_cursor_this_list_issued_is_a_422(token) -> None:
    with pytest.raises(BadCursor) as err:
        CODEC.decode(token, "tasks", KINDS)
    assert err.value.status == 422 and err.value.extra["errors"][0]["field"] == "query.cursor"


@pytest.mark.parametrize("raw", [b'["sNaN", "x"]', b'["NaN", "x"]', b'["Infinity", "x"]', b'[null, "x"]'])
def test_decimal_keys_must_be_finite(raw) -> None:
    with pytest.raises(BadCursor):
        CODEC.decode(_forge(raw, "assets"), "assets", (Decimal, str))


# ------------------------------------------------------------------------------------- idempotency
def _idempotent_app(tmp_path):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    from shared.runtime.idempotency import IdempotencyStore

    store = IdempotencyStore(create_engine(f"sqlite:///{tmp_path / 'keys.db'}"), retention_hours=1)
    app = create_app(service="unit", auth=AUTH, idempotency=store)
    made: list[str] = []

    @app.post("/things", status_code=201)
    async def make(body: Body) -> dict[str, str]:
        if body.text == "conflict":
            from fastapi import HTTPException

            raise HTTPException(409, detail="taken")
        made.append(body.text)
        return {"id": f"thing-{len(made)}", "text": body.text}

    return app, made, store


async def test_a_retried_post_with_the_same_key_creates_nothing_twice(tmp_path) -> None:
    from shared.runtime.auth import mint_token

    app, made, store = _idempotent_app(tmp_path)
    alice = {"Authorization": "Bearer " + mint_token(AUTH, user_id="alice", role="admin")}
    bob = {"Authorization": "Bearer " + mint_token(AUTH, user_id="bob", role="admin")}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        first = await c.post("/things", json={"text": "a"}, headers={**alice, "Idempotency-Key": "k-1"})
        again = await c.post("/things", json={"text": "a"}, headers={**alice, "Idempotency-Key": "k-1"})
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert again.headers["idempotent-replayed"] == "true" and made == ["a"]
        other = await c.post("/things", json={"text": "b"}, headers={**alice, "Idempotency-Key": "k-1"})
        assert other.status_code == 422 and other.json()["errors"][0]["field"] == "header.idempotency-key"
        # another caller's key space; no key at all: both run
        assert (await c.post("/things", json={"text": "a"}, headers={**bob, "Idempotency-Key": "k-1"})).json()[
            "id"] == "thing-2"
        await c.post("/things", json={"text": "a"}, headers=alice)
        assert made == ["a", "a", "a"]
        # an answer that is not a success is not kept: the retry runs again
        for _ in range(2):
            r = await c.post("/things", json={"text": "conflict"}, headers={**alice, "Idempotency-Key": "k-2"})
            assert r.status_code == 409 and "idempotent-replayed" not in r.headers
        bad = await c.post("/things", json={"text": "a"}, headers={**alice, "Idempotency-Key": "no spaces"})
        assert bad.status_code == 400 and made == ["a", "a", "a"]
        doc = (await c.get("/openapi.json")).json()
        names = [p["name"] for p in doc["paths"]["/things"]["post"]["parameters"]]
        assert names == ["Idempotency-Key"]
    # retention: an expired key is forgotten and may be used again
    from datetime import timedelta

    assert store.purge(datetime.now(UTC) + timedelta(hours=2)) >= 2
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.post("/things", json={"text": "z"}, headers={**alice, "Idempotency-Key": "k-1"})
        assert r.status_code == 201 and made[-1] == "z"


async def test_a_key_whose_first_request_is_running_is_a_409_and_the_answer_is_kept(tmp_path) -> None:
    import asyncio

    from shared.runtime.auth import mint_token

    app, made, _ = _idempotent_app(tmp_path)
    entered, release = asyncio.Event(), asyncio.Event()

    @app.post("/slow", status_code=201)
    async def slow(body: Body) -> dict[str, str]:
        entered.set()
        await release.wait()
        made.append(body.text)
        return {"id": f"slow-{len(made)}"}

    alice = {"Authorization": "Bearer " + mint_token(AUTH, user_id="alice", role="admin"), "Idempotency-Key": "s-1"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        first = asyncio.create_task(c.post("/slow", json={"text": "s"}, headers=alice))
        await asyncio.wait_for(entered.wait(), timeout=10)
        during = await c.post("/slow", json={"text": "s"}, headers=alice)
        assert during.status_code == 409 and during.headers["content-type"] == PROBLEM
        assert during.json()["errors"][0]["field"] == "header.idempotency-key"
        release.set()
        assert (await asyncio.wait_for(first, timeout=10)).status_code == 201
        after = await c.post("/slow", json={"text": "s"}, headers=alice)
        assert after.status_code == 201 and after.headers["idempotent-replayed"] == "true"
    assert made == ["s"]


async def test_a_key_held_by_a_request_that_never_finished_is_free_again_after_a_while(tmp_path) -> None:
    """A process killed mid-request leaves its key claimed: a retry of the same request is a 409 for a short
    while (it might still be running elsewhere), then runs; another request with that key stays a 422."""
    from datetime import timedelta

    from shared.runtime.auth import mint_token

    app, made, store = _idempotent_app(tmp_path)
    body = b'{"text":"a"}'
    store.claim("alice", "k-dead", hashlib.sha256(b"\x00".join([b"/things", b"", body])).hexdigest())  # then killed
    headers = {"Authorization": "Bearer " + mint_token(AUTH, user_id="alice", role="admin"),
               "Idempotency-Key": "k-dead", "Content-Type": "application/json"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.post("/things", content=body, headers=headers)).status_code == 409 and made == []
        store.stale_after = timedelta(0)
        other = await c.post("/things", content=b'{"text":"b"}', headers=headers)
        assert other.status_code == 422 and made == []
        retried = await c.post("/things", content=body, headers=headers)
        assert retried.status_code == 201 and made == ["a"]
        again = await c.post("/things", content=body, headers=headers)
        assert again.headers["idempotent-replayed"] == "true" and again.json() == retried.json() and made == ["a"]


def test_json_response_writes_plain_json_and_a_decimal_as_its_string_and_refuses_anything_else():
    import json as json_
    from decimal import Decimal

    from shared.runtime.api import json_response

    r = json_response({"items": [{"name": "Chan Tai Man 陳", "total": Decimal("1328137.5"), "n": 3, "ok": None}],
                       "next_cursor": None})
    assert r.media_type == "application/json" and r.status_code == 200
    assert json_.loads(r.body) == {"items": [{"name": "Chan Tai Man 陳", "total": "1328137.5", "n": 3, "ok": None}],
                                   "next_cursor": None}
    with pytest.raises(TypeError):
        json_response({"when": object()})
