"""Who is signed in to the pages: the session token of a login, kept in an HttpOnly cookie.

The cookie holds the same kind of session token as `POST /api/auth/login` returns, so the pages and
the API share one account model, one lockout and one logout. Forms that change anything carry a CSRF
token derived from the session token (HMAC with the registry's lookup secret), checked on every POST;
the cookie is also SameSite=Lax, so another site's form cannot post with it.

It must never put the session token anywhere but the cookie (no URLs, no page text), nor accept a
POST whose CSRF token does not match.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from urllib.parse import quote

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from titlecred.errors import AppError
from titlecred.services import auth
from titlecred.services.context import Registry
from titlecred.services.principal import Principal

SESSION_COOKIE = "tc_session"


class LoginRequired(Exception):
    """Raised by a page that needs a signed-in user; answered with a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def _secure(registry: Registry) -> bool:
    return registry.base_url.startswith("https://")


def set_session_cookie(response: Response, registry: Registry, token: str, expires_at: datetime | None) -> None:
    max_age = None
    if expires_at is not None:
        max_age = max(0, int((expires_at - registry.now()).total_seconds()))
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=_secure(registry), path="/")


def clear_session_cookie(response: Response, registry: Registry) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(registry))


def session_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    return token if token and len(token) <= 200 else None


def current_principal(request: Request, session: Session, registry: Registry) -> Principal | None:
    """The signed-in user, or None (no cookie, or an expired or revoked session)."""
    token = session_token(request)
    if token is None:
        return None
    try:
        return auth.authenticate(session, registry, token)
    except AppError:
        return None


def require_principal(request: Request, session: Session, registry: Registry) -> Principal:
    principal = current_principal(request, session, registry)
    if principal is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return principal


def login_url(next_url: str) -> str:
    return "/login?next=" + quote(next_url, safe="/")


def csrf_token(request: Request, registry: Registry) -> str:
    """The token forms must send back; empty for a visitor who is not signed in."""
    token = session_token(request)
    if token is None:
        return ""
    return hmac.new(registry.config.lookup_secret, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()[:32]


def check_csrf(request: Request, registry: Registry, sent: str | None) -> None:
    expected = csrf_token(request, registry)
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise AppError("csrf_failed", "the form has expired or did not come from this site; reload the page "
                                      "and try again", 403)


def safe_next(next_url: str | None, default: str) -> str:
    """Only a path on this site (never `//other.example` or a scheme): an open redirect helps phishing."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//") and "\\" not in next_url:
        return next_url
    return default
