"""Operations: liveness (/healthz), readiness (/readyz: database and signing key), Prometheus /metrics.

/healthz answers while the process runs (no database); /readyz says whether this instance can serve
and issue: the database answers and the active key opens. /metrics is the Prometheus text format,
summed over every worker process of `titlecred serve --workers N`. None of them carries personal data.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from titlecred.api.deps import RegistryDep
from titlecred.services.context import Registry

router = APIRouter(tags=["service"])


@router.get("/healthz", summary="Liveness: the process answers (no database)", response_model=dict[str, str])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _ready(request: Request, registry: Registry) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        with request.app.state.sessions() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as e:
        checks["database"] = f"unavailable ({type(e).__name__})"
    try:
        registry.keys.active()
        checks["keys"] = "ok"
    except Exception as e:
        checks["keys"] = f"unavailable ({type(e).__name__})"
    return checks


@router.get("/readyz", summary="Readiness: the database answers and the signing key opens",
            response_model=dict[str, str], responses={503: {"description": "Not ready"}})
async def readyz(request: Request, registry: RegistryDep) -> JSONResponse:
    checks = await run_in_threadpool(_ready, request, registry)
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", **checks}, status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics (all worker processes)", include_in_schema=True)
async def metrics() -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client import REGISTRY as DEFAULT

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        reg = CollectorRegistry()
        multiprocess.MultiProcessCollector(reg)
        return Response(generate_latest(reg), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(DEFAULT), media_type=CONTENT_TYPE_LATEST)
