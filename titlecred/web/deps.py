"""What page routes depend on: the database session and registry (as the API's), the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from titlecred.api.deps import RegistryDep, SessionDep
from titlecred.services.principal import Principal
from titlecred.web import session as web_session


def optional_user(request: Request, session: SessionDep, registry: RegistryDep) -> Principal | None:
    return web_session.current_principal(request, session, registry)


def required_user(request: Request, session: SessionDep, registry: RegistryDep) -> Principal:
    return web_session.require_principal(request, session, registry)


MaybeUser = Annotated[Principal | None, Depends(optional_user)]
User = Annotated[Principal, Depends(required_user)]
