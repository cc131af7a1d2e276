"""The public GETs answered from memory before any routing: status lists, the DID document and JWKS, the
static files and the scan page's generated modules.

These are the same bytes for every reader, fetched by every verifier and every phone that scans a QR
code, so they are the hot path of a public registry. FastAPI's routing, dependency injection and the
other middlewares cost several times the work of the answer itself; this outermost pure-ASGI layer
answers a plain GET of these paths from precomputed bytes (and a gzip variant made once, not per
request) and hands everything else to the application unchanged.

- Status lists come straight from `StatusCache.cached` (memory, no lock); when a list needs the
  database (due for its recheck, changed, stale) the request goes to the route, which refreshes it.
- did.json and jwks.json are serialized once per keystore change (the route's own bytes are captured).
- Static files and the scan routes (`/scan/tc1-format.js`, `/scan-sw.js`) are immutable while the
  process runs: the application's first answer to each (path, gzip or not, revalidation or not) is
  recorded, headers included, and replayed.

A request with a query string, a Range or If-Modified-Since header, or any method but GET goes to the
application, as does any path not listed here. Each request answered here is still observed once by
the access log and the metrics (`titlecred.api.accesslog.observe`), under the route template the
application would have logged.

It must never answer with bytes other than the ones the application would have sent for that request.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from titlecred.api.accesslog import observe
from titlecred.api.limits import ASGIApp, Message, Receive, Scope, Send

STATUS_PREFIX = "/status/"
STATUS_ROUTE = "/status/{list_id}"
KEY_DOCUMENTS = {"/.well-known/did.json": "/.well-known/did.json", "/.well-known/jwks.json": "/.well-known/jwks.json",
                 "/jwks.json": "/jwks.json"}
# Routes whose answer never changes while the process runs (and their route templates for the log).
FIXED_ROUTES = {"/scan/tc1-format.js": "/scan/tc1-format.js", "/scan-sw.js": "/scan-sw.js"}
# Headers that make the application's answer depend on more than (path, gzip, If-None-Match).
_UNCACHEABLE = (b"range", b"if-range", b"if-modified-since")
_MAX_RECORDED = 512


class _Recorded:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def _static_paths(static_dir: Path, mount: str = "/static") -> dict[str, str]:
    """Every file under the static directory now, by URL path (the set is fixed: nothing outside it
    is ever recorded, whatever a client asks)."""
    paths: dict[str, str] = {}
    for p in static_dir.rglob("*"):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(static_dir).parts):
            paths[mount + "/" + p.relative_to(static_dir).as_posix()] = "(no route)"
    return paths


class PublicFastPath:
    def __init__(self, app: ASGIApp, state: Any, static_dir: Path | None = None) -> None:
        self.app = app
        self.state = state
        self.fixed = dict(FIXED_ROUTES)
        if static_dir is not None:
            self.fixed.update(_static_paths(static_dir))
        self._recorded: dict[tuple[str, bool, bytes], _Recorded] = {}
        self._keys: dict[str, tuple[object, _Recorded]] = {}
        self._status_ct = b"application/vc+ld+json"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        started = time.perf_counter()
        if path.startswith(STATUS_PREFIX):
            answered = await self._status(scope, path, send)
            if answered:
                observe("GET", STATUS_ROUTE, answered, started)
                return
        elif path in KEY_DOCUMENTS:
            await self._key_document(scope, path, receive, send, started)
            return
        elif path in self.fixed:
            await self._fixed(scope, path, receive, send, started)
            return
        await self.app(scope, receive, send)

    async def _status(self, scope: Scope, path: str, send: Send) -> int:
        """The status sent, or 0 if the list is not in memory now (the route will read it)."""
        cache = getattr(self.state, "status_cache", None)
        hit = cache.cached(path[len(STATUS_PREFIX):]) if cache is not None else None
        if hit is None:
            return 0
        inm = _header(scope, b"if-none-match")
        max_age = int(self.state.registry.config.status_max_age.total_seconds())
        etag = hit.etag.encode("latin-1")
        headers = [(b"etag", etag), (b"cache-control", b"public, max-age=%d" % max_age)]
        if inm is not None and (etag in [t.strip() for t in inm.split(b",")] or inm.strip() == b"*"):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return 304
        headers += [(b"content-length", str(len(hit.body)).encode("ascii")), (b"content-type", self._status_ct)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": hit.body})
        return 200

    async def _key_document(self, scope: Scope, path: str, receive: Receive, send: Send, started: float) -> None:
        registry = self.state.registry
        doc = registry.did_document() if path.endswith("did.json") else registry.jwks()
        held = self._keys.get(path)
        logged = False  # the recording request is observed by the application's own access log
        if held is None or held[0] is not doc:
            # The route's own answer (no If-None-Match), recorded once per keystore change.
            plain = _plain(scope)
            rec = await _record(self.app, plain, receive)
            if rec is None or rec.status != 200:
                await self.app(scope, receive, send)
                return
            held = (doc, rec)
            self._keys[path] = held
            logged = True
        rec = held[1]
        inm = _header(scope, b"if-none-match")
        if inm is not None:
            etag = dict(rec.headers).get(b"etag", b"")
            if etag in [t.strip() for t in inm.split(b",")]:
                headers = [(k, v) for k, v in rec.headers if k in (b"etag", b"cache-control")]
                await _replay(send, _Recorded(304, headers, b""))
                observe("GET", KEY_DOCUMENTS[path], 304, started)
                return
        await _replay(send, rec)
        if not logged:
            observe("GET", KEY_DOCUMENTS[path], 200, started)

    async def _fixed(self, scope: Scope, path: str, receive: Receive, send: Send, started: float) -> None:
        headers = scope["headers"]
        gzip = False
        inm = b""
        for k, v in headers:
            if k in _UNCACHEABLE:
                await self.app(scope, receive, send)
                return
            if k == b"accept-encoding":
                gzip = gzip or b"gzip" in v
            elif k == b"if-none-match":
                inm = v
        key = (path, gzip, inm)
        rec = self._recorded.get(key)
        if rec is None:
            if inm:
                # Only a revalidation of the very ETag recorded is worth remembering (any other
                # value is a stale or foreign tag: answered by the application, not kept).
                full = self._recorded.get((path, gzip, b""))
                if full is None or dict(full.headers).get(b"etag") != inm:
                    await self.app(scope, receive, send)
                    return
            rec = await _record(self.app, scope, receive)
            if rec is None or rec.status not in (200, 304) or len(self._recorded) >= _MAX_RECORDED or any(
                    k == b"set-cookie" for k, _ in rec.headers):
                if rec is not None:
                    await _replay(send, rec)  # observed by the application's own access log
                    return
                await self.app(scope, receive, send)
                return
            self._recorded[key] = rec
            await _replay(send, rec)
            return  # the application's access log observed this one
        await _replay(send, rec)
        observe("GET", self.fixed[path], rec.status, started)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for k, v in scope["headers"]:
        if k == name:
            return bytes(v)
    return None


def _plain(scope: Scope) -> Scope:
    plain = dict(scope)
    plain["headers"] = [(k, v) for k, v in scope["headers"] if k not in (b"if-none-match", b"accept-encoding")]
    return plain


async def _record(app: ASGIApp, scope: Scope, receive: Receive) -> _Recorded | None:
    """The application's whole answer to `scope`, or None if it streamed trailers or nothing."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await app(scope, receive, capture)
    if start is None:
        return None
    return _Recorded(int(start["status"]), [(bytes(k), bytes(v)) for k, v in start.get("headers", [])],
                     b"".join(chunks))


async def _replay(send: Send, rec: _Recorded) -> None:
    await send({"type": "http.response.start", "status": rec.status, "headers": rec.headers})
    await send({"type": "http.response.body", "body": rec.body})
