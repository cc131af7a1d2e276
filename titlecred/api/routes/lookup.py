"""The consent-gated lookup (public, and for registration bodies' API clients), holders' consent codes
and the log of lookups of their certificates.

`POST /api/lookup` awaits the answer floor (`lookup_floor`) here, asynchronously, instead of letting
the service sleep in a worker thread: a flood of lookups then holds no threads while it waits. The
same helpers serve the one-time-code sign-in routes (routes/auth.py).

Routes here never hold a rule: they validate, call one service, and shape the response. They must
never put the ID number or a consent code in a log line or an error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from titlecred.api import models as m
from titlecred.api import problems
from titlecred.api.deps import Id, Limit, Offset, PrincipalDep, RegistryDep, SessionDep, bearer
from titlecred.services import auth, consent, ratelimit
from titlecred.services.context import Registry
from titlecred.services.errors import Unauthorized
from titlecred.services.principal import Principal

router = APIRouter(tags=["consent-gated lookup"], responses=m.PROBLEMS)

T = TypeVar("T")

RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": m.Problem, "content": {"application/problem+json": {}},
          "description": "too many attempts (Retry-After says when to try again)"},
}


def client_address(request: Request, registry: Registry) -> str:
    """Who is asking, for rate limits: the peer, or the last X-Forwarded-For entry (the one our own
    proxy added; a client can prepend anything) when the configuration says a proxy sets it."""
    if registry.config.trust_forwarded_for:
        last = request.headers.get("x-forwarded-for", "").split(",")[-1].strip()
        if last:
            return last[:100]
    return request.client.host if request.client else "unknown"


def too_many(exc: ratelimit.RateLimited) -> JSONResponse:
    seconds = exc.retry_after_seconds
    return problems.problem(429, exc.code, exc.message, headers={"Retry-After": str(seconds)}, retryAfter=seconds)


async def padded(registry: Registry, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`call` in a worker thread, then the rest of the answer floor awaited, however the call ended."""
    started = time.monotonic()
    try:
        return await run_in_threadpool(call, *args, **kwargs)
    finally:
        remaining = ratelimit.floor_remaining(registry.config.lookup_floor, started)
        if remaining > 0:
            await asyncio.sleep(remaining)


def get_optional_principal(session: SessionDep, registry: RegistryDep,
                           credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                           ) -> Principal | None:
    if credentials is None:
        return None
    if credentials.scheme.lower() != "bearer":
        raise Unauthorized("send 'Authorization: Bearer <token>', or no Authorization header at all")
    return auth.authenticate(session, registry, credentials.credentials)


MaybePrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


def consent_out(info: consent.ConsentInfo) -> m.ConsentOut:
    return m.ConsentOut(id=info.id, certificateId=info.certificate_id, certificateNumber=info.certificate_number,
                        verifier=info.verifier, createdAt=info.created_at, expiresAt=info.expires_at,
                        usedAt=info.used_at, revokedAt=info.revoked_at, state=info.state)


@router.post("/api/lookup", summary="Look a certificate up with its number, the holder's ID number and the "
             "holder's one-time consent code (public; authenticated callers are named by their organization)",
             response_model=m.LookupOut, responses=RATE_LIMITED)
async def lookup(body: m.LookupRequest, request: Request, session: SessionDep, registry: RegistryDep,
                 actor: MaybePrincipal) -> Any:
    try:
        answer = await padded(registry, consent.lookup, session, registry, certificate_number=body.certificateNumber,
                              id_number=body.idNumber, consent_code=body.consentCode, verifier=body.verifier,
                              client=client_address(request, registry), actor=actor, padded=False)
    except ratelimit.RateLimited as e:
        return too_many(e)
    return m.LookupOut(certificateNumber=answer.certificate_number, status=answer.status,
                       statusSince=answer.status_since, checkedAt=answer.checked_at, credential=answer.credential)


@router.post("/api/consents", summary="Make a one-time consent code for a lookup of your certificate (holder; "
             "the code is shown once)", response_model=m.ConsentCreated, status_code=201)
def create_consent(body: m.ConsentCreate, session: SessionDep, registry: RegistryDep,
                   actor: PrincipalDep) -> m.ConsentCreated:
    row, code = consent.create_code(session, registry, actor, body.certificateId, verifier=body.verifier,
                                    valid_minutes=body.validMinutes)
    return m.ConsentCreated(**consent_out(consent.describe(session, registry, row)).model_dump(), code=code)


@router.get("/api/consents", summary="Your consent codes, newest first (never the codes themselves)",
            response_model=list[m.ConsentOut])
def list_consents(session: SessionDep, registry: RegistryDep, actor: PrincipalDep, limit: Limit = 100,
                  offset: Offset = 0) -> list[m.ConsentOut]:
    return [consent_out(i) for i in consent.list_codes(session, registry, actor, limit=limit, offset=offset)]


@router.delete("/api/consents/{code_id}", summary="Withdraw an unused consent code", response_model=m.ConsentOut)
def revoke_consent(code_id: Id, session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> m.ConsentOut:
    return consent_out(consent.revoke_code(session, registry, actor, code_id))


@router.get("/api/lookups", summary="Every lookup of your certificates, answered or refused, newest first",
            response_model=list[m.LookupLogOut])
def lookups(session: SessionDep, actor: PrincipalDep, limit: Limit = 100, offset: Offset = 0) -> list[m.LookupLogOut]:
    return [m.LookupLogOut(id=e.id, at=e.at, certificateId=e.certificate_id, certificateNumber=e.certificate_number,
                           outcome=e.outcome, verifier=e.verifier)
            for e in consent.lookup_log(session, actor, limit, offset)]
