"""Public, unauthenticated documents: the issuer's DID document and JWKS, status lists, the audit checkpoint.

Status lists are served with `Cache-Control: public, max-age=...` and a strong `ETag` (the hash of the
signed list), and `If-None-Match` gets 304 Not Modified.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from titlecred.api import models as m
from titlecred.api import views
from titlecred.api.deps import Limit, Offset, PrincipalDep, RegistryDep, SessionDep
from titlecred.services import audit
from titlecred.services.principal import require_bureau

router = APIRouter(responses=m.PROBLEMS)
KEYS_MAX_AGE = 300


_bodies: dict[str, tuple[object, bytes, str]] = {}


def _keys_document(request: Request, kind: str, doc: dict[str, Any], media_type: str) -> Response:
    """did.json / jwks.json as bytes serialized once per keystore change, with an ETag."""
    hit = _bodies.get(kind)
    if hit is None or hit[0] is not doc:
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        hit = (doc, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        _bodies[kind] = hit
    headers = {"ETag": hit[2], "Cache-Control": f"public, max-age={KEYS_MAX_AGE}"}
    if hit[2] in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(hit[1], media_type=media_type, headers=headers)


@router.get("/.well-known/did.json", tags=["issuer"], summary="The bureau's did:web DID document (every key, with "
            "its state)", response_model=dict[str, Any])
async def did_document(request: Request, registry: RegistryDep) -> Response:
    return _keys_document(request, "did", registry.did_document(), "application/did+json")


@router.get("/.well-known/jwks.json", tags=["issuer"], summary="The bureau's keys as a JWKS",
            response_model=dict[str, Any])
async def jwks(request: Request, registry: RegistryDep) -> Response:
    return _keys_document(request, "jwks", registry.jwks(), "application/json")


@router.get("/jwks.json", tags=["issuer"], summary="The bureau's keys as a JWKS (same as /.well-known/jwks.json)",
            response_model=dict[str, Any])
async def jwks_short(request: Request, registry: RegistryDep) -> Response:
    return await jwks(request, registry)


@router.get("/status/{list_id}", tags=["status"], summary="A signed BitstringStatusListCredential (revocation or "
            "suspension); cacheable, with ETag", response_model=dict[str, Any],
            responses={304: {"description": "Not Modified"}})
async def status_list(list_id: str, request: Request, registry: RegistryDep) -> Response:
    # From memory (titlecred.services.status_cache); the database only when a list changed.
    cache = request.app.state.status_cache
    lst = cache.cached(list_id) or await run_in_threadpool(cache.get, list_id)
    max_age = int(registry.config.status_max_age.total_seconds())
    headers = {"ETag": lst.etag, "Cache-Control": f"public, max-age={max_age}"}
    wanted = request.headers.get("if-none-match", "")
    if lst.etag in [t.strip() for t in wanted.split(",")] or wanted.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(lst.body, media_type="application/vc+ld+json", headers=headers)


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
