"""The API's try-it page (`/docs`, Swagger UI), the favicon and the bureau's emblem, served from the package:
no CDN, so the service works on an intranet that reaches nothing outside (the page's CSP allows this origin
only)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

STATIC_DIR = Path(__file__).resolve().parents[2] / "web" / "static"

router = APIRouter(include_in_schema=False)

DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")
DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TitleCred registry API</title>
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/static/swagger/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/swagger/init.js"></script>
</body>
</html>
"""


@router.get("/docs")
def docs() -> HTMLResponse:
    return HTMLResponse(DOCS_HTML, headers={"Content-Security-Policy": DOCS_CSP, "Cache-Control": "no-cache"})


@router.get("/redoc")
def redoc() -> RedirectResponse:
    # ReDoc is not shipped (it would load from a CDN); its old address leads to the same reference.
    return RedirectResponse("/docs", status_code=308)


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/site/emblem")
def emblem(request: Request) -> FileResponse:
    from titlecred.services.errors import NotFound
    from titlecred.site_identity import EMBLEM_TYPES

    path = getattr(request.app.state, "site_emblem", None)
    if path is None:
        raise NotFound("emblem")
    return FileResponse(path, media_type=EMBLEM_TYPES.get(path.suffix.lower(), "application/octet-stream"),
                        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
