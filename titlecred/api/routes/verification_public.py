"""Verification for strangers: the signed verification bundle at a well-known URL, and batch verification.

- `GET /.well-known/titlecred-bundle.json`: the bureau's signed bundle (keys with their history, every
  status list, the issuance log's head), cacheable with a strong ETag; `?download=1` asks the browser to
  save it.
- `POST /api/verify/batch`: a JSON body `{"items": [...]}` (credentials or QR texts) or a ZIP of certificate
  files (`Content-Type: application/zip`); one result per item, in order (partial success: a bad item is a
  result, never a failed request). `?format=csv` (or `Accept: text/csv`) answers a CSV report.

The batch is verified with this registry's trust: its own keys and status lists, the audit log's evidence,
and no other issuer (unlike the VC API's interop endpoint). A client may post 30 batches an hour; each has
two minutes, after which the items not yet reached are answered `not_checked`.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from titlecred import batch
from titlecred.api import models as m
from titlecred.api.deps import RegistryDep, SessionDep
from titlecred.api.public_limits import BATCH_LIMIT
from titlecred.api.routes.lookup import client_address
from titlecred.services import bundle, ratelimit, verification
from titlecred.services.config import Limit
from titlecred.services.tx import atomic
from verifier.bundle import WELL_KNOWN_PATH

router = APIRouter(responses=m.PROBLEMS)
BUNDLE_MAX_AGE = 300
# A stranger's batches: counted per client (each can hold 1000 items), and each given at most two minutes.
BATCHES_PER_CLIENT = Limit(30, timedelta(hours=1))
API_BATCH_SECONDS = 120.0


@router.get(WELL_KNOWN_PATH, tags=["issuer"], summary="The bureau's signed verification bundle (keys with their "
            "history, every status list, the issuance log head): verify offline with it", response_model=dict[str, Any],
            responses={304: {"description": "Not Modified"}})
def verification_bundle(request: Request, session: SessionDep, registry: RegistryDep,
                        download: bool = False) -> Response:
    # The same content is served as the same bytes (and ETag) for up to BUNDLE_MAX_AGE, so that caches and
    # If-None-Match work; any change (a list's bit, a key's state, a new log entry) makes a new bundle.
    fingerprint = bundle.fingerprint(session, registry)
    cached = getattr(request.app.state, "bundle_cache", None)
    now = registry.now()
    if cached is not None and cached[0] == fingerprint and (now - cached[3]).total_seconds() < BUNDLE_MAX_AGE:
        body, etag = cached[1], cached[2]
    else:
        body, etag = bundle.encoded(bundle.build(session, registry))
        request.app.state.bundle_cache = (fingerprint, body, etag, now)
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={BUNDLE_MAX_AGE}"}
    if download:
        headers["Content-Disposition"] = 'attachment; filename="titlecred-bundle.json"'
    wanted = request.headers.get("if-none-match", "")
    if etag in [t.strip() for t in wanted.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.post("/api/verify/batch", tags=["verification"], summary="Verify a batch of credentials, QR texts, or a "
             "ZIP of certificate files: one result per item", response_model=dict[str, Any],
             openapi_extra={"requestBody": {"content": {
                 "application/json": {"schema": {"type": "object", "properties": {"items": {
                     "type": "array", "maxItems": batch.MAX_ITEMS,
                     "items": {"oneOf": [{"type": "object"}, {"type": "string"}]}}}}},
                 "application/zip": {"schema": {"type": "string", "format": "binary"}}}}})
async def verify_batch(request: Request, session: SessionDep, registry: RegistryDep,
                       format: str = "json") -> Response:
    from starlette.concurrency import run_in_threadpool

    with atomic(session):
        ratelimit.hit_all(session, registry.now(), [(ratelimit.key(
            registry.config, "verify-batch", ratelimit.client_bucket(client_address(request, registry))),
            BATCHES_PER_CLIENT)])
    data = await request.body()
    if len(data) > BATCH_LIMIT:
        raise batch.BatchError("batch_too_large", f"the body is larger than {BATCH_LIMIT} bytes")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("application/zip", "application/x-zip-compressed") or data[:4] == b"PK\x03\x04":
        items = batch.items_from_zip(data)
    else:
        try:
            body = json.loads(data)
        except (UnicodeDecodeError, ValueError):
            raise batch.BatchError("malformed_json", "the request body is neither JSON nor a ZIP file") from None
        except RecursionError:
            raise batch.BatchError("malformed_json", "the request body is nested too deeply") from None
        items = batch.items_from_json(body)
    policy = replace(verification.policy(session, registry), unsafe_any_issuer=False)
    results = await run_in_threadpool(partial(batch.verify_all, items, policy, budget_seconds=API_BATCH_SECONDS))
    wants_csv = format == "csv" or "text/csv" in request.headers.get("accept", "")
    if wants_csv:
        return Response(batch.to_csv(results), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="verification-report.csv"'})
    return JSONResponse({"summary": batch.summary(results), "results": results})
