"""Signing in and out of the pages: with a username and password, or (holders) with a one-time code
sent by SMS or e-mail. A failed sign-in says the same thing whatever was wrong, and asking for a code
gives the same answer whether or not an account matches.

Forms posted by a visitor who is not signed in (the sign-in forms, the public lookup) cannot carry the
session-derived CSRF token, so they carry a double-submit token instead: a random value in an
HttpOnly, SameSite=Lax cookie and the same value in the form (`form_token`, `check_form_token`).
Another site can neither read the cookie nor set it, so it cannot forge the pair.

It must never put a one-time code, a token or an identifier in a URL, nor say whether an account exists.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from titlecred.api.deps import RegistryDep, SessionDep
from titlecred.api.routes.lookup import client_address
from titlecred.db.models import Account
from titlecred.errors import AppError
from titlecred.services import auth, otp
from titlecred.services.context import Registry
from titlecred.services.principal import Principal
from titlecred.web import session as web_session
from titlecred.web.deps import MaybeUser
from titlecred.web.i18n import pick_language, translator
from titlecred.web.templating import render

router = APIRouter(include_in_schema=False)

FORM_COOKIE = "tc_form"
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def landing(principal: Principal) -> str:
    return "/me" if principal.is_holder else "/work"


# ------------------------------------------------------------------ forms of visitors


def _visitor_cookie(request: Request) -> str | None:
    value = request.cookies.get(FORM_COOKIE)
    return value if value and len(value) == 32 and set(value) <= _TOKEN_CHARS else None


def form_token(request: Request, registry: Registry) -> str:
    """The token a form sends back: the session's CSRF token if signed in, else the visitor's cookie
    value (a new one when there is none; `keep_form_token` puts it in the response)."""
    signed_in = web_session.csrf_token(request, registry)
    if signed_in:
        return signed_in
    return _visitor_cookie(request) or secrets.token_urlsafe(24)


def keep_form_token(request: Request, registry: Registry, response: Response, token: str) -> Response:
    if web_session.session_token(request) is None and _visitor_cookie(request) != token:
        response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="lax", path="/",
                            secure=registry.base_url.startswith("https://"))
    return response


def form_token_ok(request: Request, registry: Registry, sent: str) -> bool:
    if web_session.session_token(request) is not None:
        expected = web_session.csrf_token(request, registry)
    else:
        expected = _visitor_cookie(request) or ""
    return bool(expected) and bool(sent) and hmac.compare_digest(expected, sent)


def clean_text(value: str) -> str:
    """Form text without surrounding blanks; control characters are dropped (no fact holds one, and
    PostgreSQL cannot store a NUL)."""
    return "".join(ch for ch in value if ch.isprintable()).strip()


def retry_minutes(e: AppError) -> int:
    seconds = getattr(e, "retry_after", None) or getattr(e, "retry_after_seconds", None) or 60
    try:
        return max(1, -(-int(seconds) // 60))
    except (TypeError, ValueError):
        return 1


# ------------------------------------------------------------------ pages


def _page(request: Request, registry: Registry, user: Principal | None, *, status_code: int = 200,
          **ctx: object) -> Response:
    token = form_token(request, registry)
    context: dict[str, object] = {"next": "", "error": None, "username": "", "otp_step": "ask",
                                  "otp_identifier": "", "otp_channel": "sms", "otp_notice": None,
                                  "otp_error": None, "form_token": token}
    context.update(ctx)
    response = render(request, "login.html", context, status_code=status_code, user=user,
                      csrf=web_session.csrf_token(request, registry))
    return keep_form_token(request, registry, response, token)


def _signed_in(request: Request, session: SessionDep, registry: Registry, issued: auth.IssuedToken,
               next_url: str) -> Response:
    account = session.get(Account, issued.row.account_id)
    assert account is not None
    principal = auth.principal_for(session, account)
    response = RedirectResponse(web_session.safe_next(next_url, landing(principal)), status_code=303)
    web_session.set_session_cookie(response, registry, issued.token, issued.row.expires_at)
    # The visitor's form token has done its work; the session's CSRF token takes over.
    response.delete_cookie(FORM_COOKIE, path="/")
    return response


@router.get("/login")
def login_page(request: Request, registry: RegistryDep, user: MaybeUser, next: str | None = None) -> Response:
    return _page(request, registry, user, next=web_session.safe_next(next, ""))


@router.post("/login")
def login_submit(request: Request, session: SessionDep, registry: RegistryDep,
                 username: Annotated[str, Form(max_length=64)] = "",
                 password: Annotated[str, Form(max_length=200)] = "",
                 next: Annotated[str, Form(max_length=500)] = "",
                 form: Annotated[str, Form(max_length=64)] = "") -> Response:
    next_url = web_session.safe_next(next, "")
    t = translator(pick_language(request))
    if not form_token_ok(request, registry, form):
        # Another site's form could sign the visitor in to an account of its choosing.
        return _page(request, registry, None, status_code=403, next=next_url, error=t("login.form_expired"),
                     username=clean_text(username))
    try:
        issued, _account = auth.login(session, registry, username, password)
    except AppError as e:
        message = t("login.locked") if e.code == "account_locked" else t("login.failed")
        return _page(request, registry, None, status_code=e.status, next=next_url, error=message,
                     username=clean_text(username))
    return _signed_in(request, session, registry, issued, next_url)


@router.post("/login/code")
def request_code(request: Request, session: SessionDep, registry: RegistryDep, user: MaybeUser,
                 identifier: Annotated[str, Form(max_length=254)] = "",
                 channel: Annotated[str, Form(max_length=8)] = "sms",
                 form: Annotated[str, Form(max_length=64)] = "",
                 next: Annotated[str, Form(max_length=500)] = "") -> Response:
    t = translator(pick_language(request))
    next_url = web_session.safe_next(next, "")
    ident = clean_text(identifier)
    chosen: Literal["sms", "email"] = "email" if channel == "email" else "sms"
    if not form_token_ok(request, registry, form):
        return _page(request, registry, user, status_code=403, next=next_url, otp_identifier=ident,
                     otp_channel=chosen, otp_error=t("login.form_expired"))
    if not ident:
        return _page(request, registry, user, status_code=422, next=next_url, otp_channel=chosen,
                     otp_error=t("login.otp_identifier_missing"))
    try:
        otp.request_code(session, registry, identifier=ident, channel=chosen,
                         client=client_address(request, registry))
    except AppError as e:
        if e.code == "rate_limited":
            return _page(request, registry, user, status_code=429, next=next_url, otp_identifier=ident,
                         otp_channel=chosen, otp_error=t("login.otp_rate_limited", minutes=retry_minutes(e)))
        if e.status >= 500:
            raise
        # Anything else the service refuses is answered like a sent code: no hint whether it exists.
    return _page(request, registry, user, next=next_url, otp_step="enter", otp_identifier=ident,
                 otp_channel=chosen, otp_notice=t("login.otp_sent_" + chosen))


@router.post("/login/code/verify")
def verify_code(request: Request, session: SessionDep, registry: RegistryDep, user: MaybeUser,
                identifier: Annotated[str, Form(max_length=254)] = "",
                code: Annotated[str, Form(max_length=32)] = "",
                channel: Annotated[str, Form(max_length=8)] = "sms",
                form: Annotated[str, Form(max_length=64)] = "",
                next: Annotated[str, Form(max_length=500)] = "") -> Response:
    t = translator(pick_language(request))
    next_url = web_session.safe_next(next, "")
    ident = clean_text(identifier)
    chosen = "email" if channel == "email" else "sms"
    if not form_token_ok(request, registry, form):
        return _page(request, registry, user, status_code=403, next=next_url, otp_step="enter",
                     otp_identifier=ident, otp_channel=chosen, otp_error=t("login.form_expired"))
    try:
        issued = otp.verify_code(session, registry, identifier=ident, code=clean_text(code).replace(" ", ""),
                                 client=client_address(request, registry))
    except AppError as e:
        if e.status >= 500:
            raise
        message = (t("login.otp_rate_limited", minutes=retry_minutes(e)) if e.code == "rate_limited"
                   else t("login.otp_failed"))
        return _page(request, registry, user, status_code=e.status, next=next_url, otp_step="enter",
                     otp_identifier=ident, otp_channel=chosen, otp_error=message)
    return _signed_in(request, session, registry, issued, next_url)


@router.post("/logout")
def logout(request: Request, session: SessionDep, registry: RegistryDep,
           csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    principal = web_session.current_principal(request, session, registry)
    if principal is not None:
        web_session.check_csrf(request, registry, csrf)
        auth.logout(session, registry, principal)
    response = RedirectResponse("/", status_code=303)
    web_session.clear_session_cookie(response, registry)
    return response
