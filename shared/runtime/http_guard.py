"""ASGI guard in front of every API: request size limits and security headers.

- a body over `max_body_bytes` answers 413 (by its Content-Length, or counted for a chunked body), a
  route that streams its body itself (an upload: `streamed_bodies`, path → its own limit) is checked by
  its Content-Length only and is handed the body unbuffered (the route counts a chunked one), a
  request whose headers exceed `max_header_bytes` / `max_headers` answers 431, both problem+json;
- every response carries `X-Content-Type-Options: nosniff`, frame denial (`X-Frame-Options: DENY` and
  CSP `frame-ancestors 'none'`), `Referrer-Policy: no-referrer` and, unless the route set its own,
  `Cache-Control: no-store` (API responses carry personal data).
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
)
_NO_STORE = (b"cache-control", b"no-store")


class RequestGuard:
    def __init__(self, app: Any, *, max_body_bytes: int = 1_048_576, max_header_bytes: int = 16_384,
                 max_headers: int = 100, streamed_bodies: dict[str, int] | None = None):
        self.app = app
        self.streamed_bodies = dict(streamed_bodies or {})
        self.max_body_bytes, self.max_header_bytes, self.max_headers = max_body_bytes, max_header_bytes, max_headers

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                headers += [h for h in SECURITY_HEADERS if h[0] not in present]
                if _NO_STORE[0] not in present:
                    headers.append(_NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        headers = scope.get("headers", ())
        if len(headers) > self.max_headers or sum(len(k) + len(v) for k, v in headers) > self.max_header_bytes:
            await send_problem(secured_send, 431, "Request Header Fields Too Large",
                           f"headers: at most {self.max_headers} headers of {self.max_header_bytes} bytes in all")
            return
        length = next((v for k, v in headers if k.lower() == b"content-length"), None)
        streamed = self.streamed_bodies.get(scope.get("path", ""))
        limit = streamed or self.max_body_bytes
        if length is not None:
            if not length.isdigit():
                await send_problem(secured_send, 400, "Bad Request", "content-length: not a number")
                return
            if int(length) > limit:
                await _too_large(secured_send, limit)
                return
            await self.app(scope, receive, secured_send)
            return
        if streamed is not None or scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, secured_send)
            return
        # No Content-Length (chunked): read the body up to the limit, then hand it on.
        buffered = await buffer_body(receive, self.max_body_bytes)
        if buffered is None:
            await _too_large(secured_send, self.max_body_bytes)
            return
        messages = buffered[0]

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, secured_send)


async def buffer_body(receive: Any, limit: int | None = None) -> tuple[list[Message], bytes] | None:
    """Every message of the request body and the body itself; None once it passes `limit` bytes."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if limit is not None and size > limit:
            return None
        if not message.get("more_body", False):
            break
    return messages, b"".join(chunks)


async def _too_large(send: Any, limit: int) -> None:
    await send_problem(send, 413, "Payload Too Large", f"body: at most {limit} bytes")


async def send_problem(send: Any, status: int, title: str, detail: str, *, type_: str = "about:blank",
                       **extra: Any) -> None:
    """A problem+json answer straight from ASGI middleware."""
    body = json.dumps({"type": type_, "title": title, "status": status, "detail": detail, **extra}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
