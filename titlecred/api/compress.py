"""Gzip for what is the same for every reader: the pages' scripts and styles and the scan page's
format module. A phone on a slow network fetches about a quarter of the bytes.

Pages and API answers are left alone: a compressed response that mixes a secret (a CSRF token, a
holder's data) with text an attacker can inject leaks the secret through its length (BREACH).
"""

from __future__ import annotations

from typing import Any

from starlette.middleware.gzip import GZipMiddleware

PUBLIC_PREFIXES = ("/static/", "/scan/", "/scan-sw.js")


class PublicGzip:
    def __init__(self, app: Any, minimum_size: int = 512) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(PUBLIC_PREFIXES):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
