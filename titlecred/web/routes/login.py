"""Signing in and out of the pages with a username and password (holders may also use a one-time
code, see the holder area). A failed sign-in says the same thing whatever was wrong."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from titlecred.api.deps import RegistryDep, SessionDep
from titlecred.errors import AppError
from titlecred.services import auth
from titlecred.services.principal import Principal
from titlecred.web import session as web_session
from titlecred.web.deps import MaybeUser
from titlecred.web.templating import render

router = APIRouter(include_in_schema=False)


def landing(principal: Principal) -> str:
    return "/me" if principal.is_holder else "/work"


@router.get("/login")
def login_page(request: Request, registry: RegistryDep, user: MaybeUser, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": web_session.safe_next(next, ""), "error": None}, user=user,
                  csrf=web_session.csrf_token(request, registry))


@router.post("/login")
def login_submit(request: Request, session: SessionDep, registry: RegistryDep,
                 username: Annotated[str, Form(max_length=64)] = "",
                 password: Annotated[str, Form(max_length=200)] = "",
                 next: Annotated[str, Form(max_length=500)] = "") -> Response:
    try:
        issued, account = auth.login(session, registry, username, password)
    except AppError as e:
        return render(request, "login.html", {"next": web_session.safe_next(next, ""), "error": e.message,
                                              "username": username}, status_code=e.status)
    principal = auth.principal_for(session, account)
    response = RedirectResponse(web_session.safe_next(next, landing(principal)), status_code=303)
    web_session.set_session_cookie(response, registry, issued.token, issued.row.expires_at)
    return response


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
