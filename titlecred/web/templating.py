"""Rendering a page: the Jinja2 environment (autoescaped), and what every template may use.

Every template gets `t` (the translator for the page's language), `lang`, `other_lang_url`, `user`
(the signed-in Principal or None), `csrf` (the token forms send back) and `request`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from titlecred.services.principal import Principal
from titlecred.web.i18n import LANG_COOKIE, pick_language, translator

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# Scripts and styles come from /static only (no inline code), so injected markup cannot run.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.autoescape = True
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def _other_lang_url(request: Request, lang: str) -> str:
    other = "en" if lang == "zh" else "zh"
    kept = {k: v for k, v in request.query_params.items() if k in ("next", "tab")}
    # Encoded: a `next` of "/me?a=1&b=2" must come back as one value, not two parameters.
    return f"{request.url.path}?{urlencode({**kept, 'lang': other})}"


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200,
           user: Principal | None = None, csrf: str = "") -> Response:
    lang = pick_language(request)
    ctx: dict[str, Any] = {"t": translator(lang), "lang": lang, "user": user, "csrf": csrf,
                           "other_lang_url": _other_lang_url(request, lang)}
    ctx["site"] = getattr(request.app.state, "site", None)  # the bureau's name, emblem and footer
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    # Pages show personal data to their user only: never cached by a shared cache.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Content-Security-Policy", CSP)
    return response
