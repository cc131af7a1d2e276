"""`POST /credentials/verify` without the framework: the public verify route's normal answers, the same
bytes as the FastAPI route (titlecred.api.routes.vcapi), at a fraction of the cost per request.

Verification itself is a fraction of a millisecond (templates for known credential shapes, status lists
from memory); FastAPI's routing, dependency resolution, middleware stack and response classes cost
more than the work they carry. This outermost pure-ASGI layer takes a POST of /credentials/verify
whose body is declared (Content-Length) within the JSON limit, parses it under the same bounds, runs
the verification on the same verification threads (titlecred.api.heavy), and answers with the
route's own answer shape (titlecred.api.vc_answers).

Anything else goes to the application with the body replayed, so that every refusal keeps one source:
a query string, a body without Content-Length or over the limit (BodyLimit drains it and answers 413),
a body that does not parse, a request without a credential object, a verification that raised.
Each request answered here is observed once by the access log and the metrics, under the route's
template.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from titlecred.api import vc_answers as answers
from titlecred.api.accesslog import observe
from titlecred.api.heavy import verify_credential
from titlecred.api.limits import JSON_LIMIT, ASGIApp, Receive, Scope, Send, replay
from titlecred.services import verification
from titlecred.services.errors import Invalid
from titlecred.services.metrics import VERIFICATIONS
from titlecred.services.rows import parse_json_object

PATH = "/credentials/verify"
log = logging.getLogger("titlecred.api")


class VerifyFastPath:
    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state
        self.answered = 0  # requests answered here (the rest went to the application)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST"
                or scope["query_string"]):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        declared = _content_length(scope)
        if declared is None or declared > JSON_LIMIT:
            await self.app(scope, receive, send)
            return
        read = await _read_body(receive, declared)
        if read is None:  # the client went away
            return
        body, rest = read
        vc, options = _credential(body)
        if vc is None:
            await self.app(scope, replay(body, rest, receive), send)
            return
        try:
            result = await verify_credential(self.state, vc, options)
        except Exception:
            # Not a normal answer: the application's route and error handlers give the one it would.
            log.debug("verification raised on the fast path; the route answers", exc_info=True)
            await self.app(scope, replay(body, rest, receive), send)
            return
        VERIFICATIONS.labels(result.verdict).inc()
        status, media_type, content = answers.credential_answer(result)
        payload = answers.render(content)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-length", str(len(payload)).encode("ascii")),
                                (b"content-type", media_type.encode("ascii"))]})
        await send({"type": "http.response.body", "body": payload})
        self.answered += 1
        observe("POST", PATH, status, started)


def _content_length(scope: Scope) -> int | None:
    for k, v in scope["headers"]:
        if k == b"content-length":
            return int(v) if v.isdigit() else None
    return None


async def _read_body(receive: Receive, declared: int) -> tuple[bytes, bool] | None:
    """The body (at most `declared` bytes are ever buffered), and whether more was announced; None if
    the client disconnected."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = bool(message.get("more_body", False))
        if not more or size >= declared:
            return b"".join(chunks), more


def _credential(body: bytes) -> tuple[dict[str, Any] | None, Any]:
    """The credential object and options of a well-formed request, or (None, None) for the route."""
    try:
        data = parse_json_object(body, "request", verification.REQUEST_LIMITS)
    except Invalid:
        return None, None
    if not isinstance(data, dict):
        return None, None
    vc = data.get("verifiableCredential")
    if not isinstance(vc, dict):
        return None, None
    return vc, data.get("options")

