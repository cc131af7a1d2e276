"""Prometheus metrics of the registry: requests and their latency, verification verdicts, issuance, lookups.

With several worker processes (`titlecred serve --workers N`) prometheus_client runs in its
multi-process mode: `serve` sets PROMETHEUS_MULTIPROC_DIR (a fresh folder) before the workers start,
each worker writes its values there, and GET /metrics adds them up. Labels are route templates,
verdicts and outcome codes only: never a path, a certificate number, a name or an ID number.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("titlecred_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("titlecred_http_request_seconds", "Time to answer an HTTP request", ["route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0))
VERIFICATIONS = Counter("titlecred_verifications_total", "Credentials verified by the API, by verdict", ["verdict"])
ISSUED = Counter("titlecred_certificates_issued_total", "Certificates issued, by path", ["path"])
BATCH_FAILED = Counter("titlecred_batch_items_failed_total", "Batch items that could not be issued")
LOOKUPS = Counter("titlecred_lookups_total", "Consent-gated lookups answered, by HTTP status", ["status"])
