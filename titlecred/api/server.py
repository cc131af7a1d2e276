"""What each `titlecred serve` worker process runs: the app built from the environment's settings.

`titlecred serve` migrates the database and signs the status lists once, in the parent, then starts
uvicorn with `--workers N` processes (uvloop, httptools); each calls `create()` (an app factory, so
that nothing is shared between processes but the database and the keystore's files).
"""

from __future__ import annotations

from fastapi import FastAPI

from titlecred.logs import configure_logging
from titlecred.settings import load_settings


def create() -> FastAPI:
    from titlecred.api.app import create_app

    configure_logging()
    return create_app(load_settings())
