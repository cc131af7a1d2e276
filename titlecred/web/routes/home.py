"""The front page: what this site is, and the ways in for each kind of visitor."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from titlecred.api.deps import RegistryDep
from titlecred.web import session as web_session
from titlecred.web.deps import MaybeUser
from titlecred.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, registry: RegistryDep, user: MaybeUser) -> Response:
    return render(request, "home.html", {"issuer": registry.profile.name}, user=user,
                  csrf=web_session.csrf_token(request, registry))
