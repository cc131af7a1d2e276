"""OpenID4VP 1.0 over HTTP: a registration body's presentation requests and the wallet's response
endpoint (`direct_post`).

- `POST /api/presentation-requests` (an organization's account): `{"fields": [...], "format":
  "dc+sd-jwt" | "ldp_vc", "purpose"}` → 201 with the request (`link` = `openid4vp://...`, `request` =
  its parameters, `dcqlQuery`, `id` = its state).
- `GET /api/presentation-requests/{id}`: `pending`, `expired` or `answered` with the verification result.
- `POST /oid4vp/response`: the wallet's `vp_token` and `state` (form); `{}` on receipt, OAuth errors
  (`invalid_request`) otherwise. The outcome of the verification is for the asker, not the wallet.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from titlecred.api import models as m
from titlecred.api.deps import PrincipalDep, RegistryDep, SessionDep
from titlecred.api.routes.oid4vci import _form, oauth, oauth_error
from titlecred.db.models_wallet import VpRequest
from titlecred.oid4vci.errors import OAuthError
from titlecred.oid4vp import request as vp_request
from titlecred.services import presentations
from titlecred.services.context import Registry

router = APIRouter(responses=m.PROBLEMS)


class PresentationRequestIn(BaseModel):
    fields: list[str] = Field(max_length=20, description="subject fields the wallet must disclose, e.g. "
                              '["name", "qualification", "level"]')
    format: str = Field(default="dc+sd-jwt", description="dc+sd-jwt or ldp_vc")
    purpose: str | None = Field(default=None, max_length=200, description="why they are asked (shown to the asker)")


def request_json(registry: Registry, row: VpRequest) -> dict[str, Any]:
    params = presentations.authorization_request(registry, row)
    out: dict[str, Any] = {"id": row.state, "state": presentations.request_state(registry, row),
                           "link": vp_request.request_link(params), "request": params,
                           "dcqlQuery": params["dcql_query"], "purpose": row.purpose,
                           "expiresAt": row.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if row.result_json is not None:
        out["result"] = json.loads(row.result_json)
    return out


@router.post("/api/presentation-requests", tags=["wallets"], status_code=201, response_model=dict[str, Any],
             summary="Ask a holder's wallet for a title credential (OpenID4VP 1.0, DCQL, direct_post)")
def create_request(body: PresentationRequestIn, session: SessionDep, registry: RegistryDep,
                   actor: PrincipalDep) -> dict[str, Any]:
    row = presentations.create_request(session, registry, actor, fields=body.fields, fmt=body.format,
                                       purpose=body.purpose)
    return request_json(registry, row)


@router.get("/api/presentation-requests/{request_id}", tags=["wallets"], response_model=dict[str, Any],
            summary="A presentation request and, once the wallet answered, the verification result")
def get_request(request_id: str, session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> dict[str, Any]:
    return request_json(registry, presentations.get_request(session, actor, request_id))


@router.post("/oid4vp/response", tags=["wallets"], response_model=dict[str, Any],
             summary="OpenID4VP response endpoint (direct_post: vp_token and state as a form)")
async def response(request: Request, session: SessionDep, registry: RegistryDep) -> Response:
    try:
        form = await _form(request, max_bytes=512 * 1024)
    except OAuthError as e:
        return oauth_error(e)
    return oauth(lambda: presentations.respond(session, registry, form))


