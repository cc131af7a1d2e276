"""Counting every request (route template, status, latency) for GET /metrics; a pure ASGI middleware."""

from __future__ import annotations

import time

from fastapi import FastAPI

from titlecred.api.limits import ASGIApp, Message, Receive, Scope, Send
from titlecred.services.metrics import LATENCY, LOOKUPS, REQUESTS

LOOKUP_ROUTES = ("/api/lookup",)


class Metrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "(no route)"
            REQUESTS.labels(scope.get("method", ""), route, str(status)).inc()
            LATENCY.labels(route).observe(time.perf_counter() - started)
            if route in LOOKUP_ROUTES:
                LOOKUPS.labels(str(status)).inc()


def install(app: FastAPI) -> None:
    app.add_middleware(Metrics)
