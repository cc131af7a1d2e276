"""The access log: method, route template, status and duration of every request, and nothing else;
the same observation feeds the Prometheus counters (titlecred.api.metrics).

Uvicorn's own access log writes the raw path and query string; ours writes the route template
(`/api/certificates/{cert_id}`), so that no ID number, name or token can reach a log line through a URL.

It must never log a raw path, a query string, a header, a body or the client's address: the scan
page (/v) promises that nothing identifying who scans a certificate is kept.
"""

from __future__ import annotations

import logging
import time

from titlecred.api import metrics
from titlecred.api.limits import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("titlecred.access")


class AccessLog:
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
            observe(str(scope.get("method", "")), route, status, started)


def observe(method: str, route: str, status: int, started: float) -> None:
    """One request in the access log and the metrics (also for those answered by titlecred.api.fastpath)."""
    elapsed = time.perf_counter() - started
    log.info("%s %s %d %.1fms", method, route, status, elapsed * 1000)
    metrics.record(method, route, status, elapsed)
