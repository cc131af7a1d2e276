"""`titlecred serve`: migrate once, sign the status lists once, then N uvicorn workers (uvloop, httptools).

The workers are separate processes (uvicorn's supervisor restarts one that dies); each builds its app
from the environment (titlecred.api.server.create). Prometheus metrics use the multi-process mode
(a fresh PROMETHEUS_MULTIPROC_DIR, unless one is given). Logs are JSON lines (titlecred.logs).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from titlecred.settings import load_settings


def prepare() -> None:
    from titlecred.api.app import build_registry
    from titlecred.db.engine import make_engine, session_factory
    from titlecred.db.migrate import upgrade
    from titlecred.db.models import Organization
    from titlecred.services import status

    settings = load_settings()
    upgrade(settings.database_url)
    registry = build_registry(settings)
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        # The status lists exist (and are signed by the active key) before the first request.
        if session.exec(select(Organization)).first() is not None:
            status.ensure_lists(session, registry)
    engine.dispose()


def run(host: str, port: int, workers: int | None, guard: Callable[[Callable[[], Any]], Any]) -> None:
    import uvicorn

    from titlecred.logs import configure_logging, log_config

    configure_logging()
    guard(prepare)
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    own_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_dir = tempfile.mkdtemp(prefix="titlecred-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_dir
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    try:
        # access_log=False: uvicorn's would write raw URLs; ours (titlecred.access) writes route templates.
        # proxy_headers=False: the client address is the socket's unless TITLECRED_TRUST_FORWARDED_FOR says.
        uvicorn.run("titlecred.api.server:create", factory=True, host=host, port=port, workers=workers, loop=loop,
                    http=http, access_log=False, proxy_headers=False, log_config=log_config(),
                    timeout_graceful_shutdown=10, timeout_keep_alive=5)
    finally:
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)
