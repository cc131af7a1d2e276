"""Every error as application/problem+json (RFC 9457) with a stable `code` and `type`.

`type` is https://w3id.org/titlecred/problems/<code>; `code` is the same code as a member, as the
CLI's `error[code]` shows it. Handlers exist for request validation errors, our typed errors (every
layer's error classes, each with a `.code`), HTTP errors (404, 405), and a catch-all middleware for
the rest (database integrity races → 409, anything else → 500).

What it must never do: echo the input back (pydantic's error `input` is dropped: it may hold an ID
number), or log anything but the error's type, the route and an incident id.
"""

from __future__ import annotations

import logging
import secrets
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from titlecred.services.errors import TYPED_ERRORS

PROBLEM_BASE = "https://w3id.org/titlecred/problems/"
MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("titlecred.api")

# Typed errors of the lower layers carry a code but no HTTP status: the status by code or by layer.
_STATUS_BY_CODE = {"input_too_large": 413, "malformed_json": 400, "unknown_context": 400, "undefined_term": 400,
                   "control_character": 400, "not_nfc": 400, "invalid_unicode": 400,
                   "canonicalization_too_complex": 422, "canonicalization_busy": 503}
_STATUS_BY_LAYER = {"InvalidRecord": 422, "IdentifierError": 422, "TitleDataError": 422}


def problem(status: int, code: str, detail: str, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "code": code, "title": title, "status": status,
                            "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    hdrs = dict(headers or {})
    if status == 401:
        hdrs.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=hdrs)


def status_of(exc: BaseException) -> int:
    status = getattr(exc, "status", None)
    if isinstance(status, int) and 400 <= status <= 599:
        return status
    code = getattr(exc, "code", "")
    if code in _STATUS_BY_CODE:
        return _STATUS_BY_CODE[code]
    for cls in type(exc).__mro__:
        if cls.__name__ in _STATUS_BY_LAYER:
            return _STATUS_BY_LAYER[cls.__name__]
        if cls.__name__ == "KeyMaterialError":
            # The keystore cannot sign (no active key...): the service's state, not the request.
            return 409
    return 400


def typed_error_response(exc: BaseException) -> JSONResponse:
    code = str(exc.code)  # type: ignore[attr-defined]
    message = getattr(exc, "message", None)
    detail = message if isinstance(message, str) else str(exc)
    extra: dict[str, Any] = {}
    field = getattr(exc, "field", None)
    if isinstance(field, str):
        extra["field"] = field
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list):
        extra["errors"] = errors
    return problem(status_of(exc), code, detail, **extra)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        # Never `input` or `ctx`: they repeat what was sent.
        out.append({"loc": loc, "type": err.get("type", ""), "message": err.get("msg", "")})
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            return problem(400, "malformed_json", "the request body is not valid JSON")
        return problem(422, "invalid_request", "the request does not match the expected shape", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large", 415: "unsupported_media_type"}
        code = codes.get(exc.status_code, f"http_{exc.status_code}")
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem(exc.status_code, code, detail, headers=dict(exc.headers or {}))

    async def _typed(request: Request, exc: Exception) -> JSONResponse:
        return typed_error_response(exc)

    for cls in TYPED_ERRORS:
        app.add_exception_handler(cls, _typed)
    # Last: anything else becomes a problem here, without the exception travelling on to the server
    # (which would log its message, and SQL errors carry their parameters in it).
    app.add_middleware(CatchAll)


class CatchAll:
    """Turn any unhandled exception into a problem; log only its type, the route and an incident id."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            route = getattr(scope.get("route"), "path", "?")
            if isinstance(exc, IntegrityError):
                # A race lost against a unique constraint.
                log.warning("integrity conflict on %s %s", scope.get("method"), route)
                response = problem(409, "conflict", "the change conflicts with another made at the same time; "
                                   "try again")
            else:
                incident = secrets.token_hex(8)
                log.error("internal error %s (%s) on %s %s", incident, type(exc).__name__, scope.get("method"), route)
                response = problem(500, "internal_error", f"an internal error occurred (incident {incident})")
            if not started:
                await response(scope, receive, send)
