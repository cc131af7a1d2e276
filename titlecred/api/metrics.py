"""What GET /metrics counts of every request: route template, status, latency, lookups.

The access log's middleware (titlecred.api.accesslog) observes each request once and hands it here,
so the hot path pays for one middleware, not two.
"""

from __future__ import annotations

from titlecred.services.metrics import LATENCY, LOOKUPS, REQUESTS

LOOKUP_ROUTES = ("/api/lookup",)


def record(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(route).observe(seconds)
    if route in LOOKUP_ROUTES:
        LOOKUPS.labels(str(status)).inc()
