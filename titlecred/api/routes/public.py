"""Public, unauthenticated documents: the issuer's DID document and JWKS, status lists, the audit checkpoint.

Status lists are served with `Cache-Control: public, max-age=...` and a strong `ETag` (the hash of the
signed list), and `If-None-Match` gets 304 Not Modified.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from titlecred.api import models as m
from titlecred.api import views
from titlecred.api.deps import Limit, Offset, PrincipalDep, RegistryDep, SessionDep
from titlecred.services import audit, status
from titlecred.services.principal import require_bureau

router = APIRouter(responses=m.PROBLEMS)
KEYS_MAX_AGE = 300


@router.get("/.well-known/did.json", tags=["issuer"], summary="The bureau's did:web DID document (every key, with "
            "its state)", response_model=dict[str, Any])
def did_document(registry: RegistryDep) -> JSONResponse:
    return JSONResponse(registry.did_document(), media_type="application/did+json",
                        headers={"Cache-Control": f"public, max-age={KEYS_MAX_AGE}"})


@router.get("/.well-known/jwks.json", tags=["issuer"], summary="The bureau's keys as a JWKS",
            response_model=dict[str, Any])
def jwks(registry: RegistryDep) -> JSONResponse:
    return JSONResponse(registry.jwks(), headers={"Cache-Control": f"public, max-age={KEYS_MAX_AGE}"})


@router.get("/jwks.json", tags=["issuer"], summary="The bureau's keys as a JWKS (same as /.well-known/jwks.json)",
            response_model=dict[str, Any])
def jwks_short(registry: RegistryDep) -> JSONResponse:
    return jwks(registry)


@router.get("/status/{list_id}", tags=["status"], summary="A signed BitstringStatusListCredential (revocation or "
            "suspension); cacheable, with ETag", response_model=dict[str, Any],
            responses={304: {"description": "Not Modified"}})
def status_list(list_id: str, request: Request, session: SessionDep, registry: RegistryDep) -> Response:
    lst = status.published(session, registry, list_id)
    assert lst.published_json is not None and lst.published_hash is not None
    etag = f'"{lst.published_hash}"'
    max_age = int(registry.config.status_max_age.total_seconds())
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    wanted = request.headers.get("if-none-match", "")
    if etag in [t.strip() for t in wanted.split(",")] or wanted.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(lst.published_json.encode("utf-8"), media_type="application/vc+ld+json", headers=headers)


@router.get("/audit/checkpoint", tags=["audit"], summary="The audit log's latest entry number and hash (public "
            "evidence of what was issued by now)", response_model=m.CheckpointOut)
def checkpoint(session: SessionDep, registry: RegistryDep) -> m.CheckpointOut:
    cp = audit.checkpoint(session, registry.now())
    return m.CheckpointOut(seq=cp.seq, hash=cp.hash, publishedAt=cp.published_at)


@router.get("/api/audit", tags=["audit"], summary="Audit entries after a sequence number (bureau)",
            response_model=list[m.AuditEntryOut])
def audit_entries(session: SessionDep, actor: PrincipalDep, after: Offset = 0,
                  limit: Limit = 100) -> list[m.AuditEntryOut]:
    require_bureau(actor)
    return [views.audit_out(e) for e in audit.entries(session, after, limit)]


@router.get("/api/health", tags=["service"], summary="Liveness and database reachability",
            response_model=dict[str, str])
def health(session: SessionDep) -> dict[str, str]:
    from sqlalchemy import text

    session.execute(text("SELECT 1"))
    return {"status": "ok"}
