"""Request body limits, enforced before any parsing: 1 MB in general, 2.5 MB for multipart uploads
(two cover photos of at most 1 MB each, checked one by one in the conversion service). URLs with a NUL
character are refused here too (PostgreSQL cannot store one; no query needs one).

A pure ASGI middleware: it reads the body up to the limit (whatever Content-Length claims), answers
413 with a problem if it is larger, and replays the buffered body to the application otherwise.

It must never hand the application more than the limit.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio

from titlecred.api.public_limits import LARGE_BODIES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_LIMIT = 1024 * 1024
MULTIPART_LIMIT = 2 * 1024 * 1024 + 512 * 1024
# A refused body is read and dropped up to this much, so the client sees the 413 (see `_drain`).
DRAIN_LIMIT = 16 * 1024 * 1024
DRAIN_SECONDS = 5.0


class BodyLimit:
    def __init__(self, app: ASGIApp, default: int = JSON_LIMIT, multipart: int = MULTIPART_LIMIT) -> None:
        self.app = app
        self.default = default
        self.multipart = multipart

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            await _problem(send, 400, "malformed_request", "Bad Request", "a NUL character in the URL")
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        limit = self.multipart if headers.get("content-type", "").startswith("multipart/") else self.default
        limit = LARGE_BODIES.get(scope.get("path", ""), limit)
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _drain(receive)
            await _too_large(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                if message.get("more_body", False):
                    await _drain(receive)
                await _too_large(send, limit)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        await self.app(scope, replay(b"".join(chunks), False, receive), send)


def replay(body: bytes, more: bool, receive: Receive) -> Receive:
    """A `receive` that first hands over a body already read (`more`: whether the client announced
    more of it), then the connection's own messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replayed


async def _drain(receive: Receive) -> None:
    """Read and drop the rest of a refused body (up to `DRAIN_LIMIT` bytes, `DRAIN_SECONDS`), so that the
    client, still sending, reads our 413 instead of a connection reset (a socket closed with unread
    data sends RST). Past either bound the connection is closed anyway."""
    dropped = 0
    try:
        with anyio.fail_after(DRAIN_SECONDS):
            while dropped <= DRAIN_LIMIT:
                message = await receive()
                if message["type"] != "http.request":
                    return
                dropped += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return
    except TimeoutError:
        return


async def _too_large(send: Send, limit: int) -> None:
    await _problem(send, 413, "request_too_large", "Content Too Large",
                   f"the request body is larger than {limit} bytes")


async def _problem(send: Send, status: int, code: str, title: str, detail: str) -> None:
    body = json.dumps({"type": f"https://w3id.org/titlecred/problems/{code}", "code": code, "title": title,
                       "status": status, "detail": detail}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode("ascii")), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
