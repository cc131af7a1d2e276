"""Typed dependencies of the routes: the registry, a database session, the authenticated principal.

Authentication is a bearer token (`Authorization: Bearer tc_...`) from a login or an API token; there
is no other way in (no token in URLs, no cookies).

It must never accept a token from anywhere but the Authorization header.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from titlecred.services import auth
from titlecred.services.context import Registry
from titlecred.services.errors import Unauthorized
from titlecred.services.principal import Principal

bearer = HTTPBearer(auto_error=False, description="A login's session token or an API token: `tc_...`")


async def get_registry(request: Request) -> Registry:
    # async: a plain `def` dependency costs every request a hop to the thread pool and back.
    registry: Registry = request.app.state.registry
    return registry


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    session = factory()
    try:
        yield session
    finally:
        session.close()


RegistryDep = Annotated[Registry, Depends(get_registry)]
SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(session: SessionDep, registry: RegistryDep,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send 'Authorization: Bearer <token>' (log in at POST /api/auth/login)")
    return auth.authenticate(session, registry, credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]

# Bounded numbers in paths and queries: an id beyond the database's integer range is a 422, not a 500.
MAX_ID = 2_147_483_647
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
OptId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
