"""Adds the pages to the FastAPI app: static files, the page routers, the sign-in redirect."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from titlecred.web.i18n import catalogs
from titlecred.web.routes import ROUTERS
from titlecred.web.session import LoginRequired, login_url

STATIC_DIR = Path(__file__).resolve().parent / "static"


def install(app: FastAPI) -> None:
    catalogs()  # a broken catalog stops start-up, not a page later
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_url(exc.next_url), status_code=303)

    for router in ROUTERS:
        app.include_router(router)
